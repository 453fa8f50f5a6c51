// Package datatest holds what tests that need data share: the rule that
// under CI, where the setup installs them, a missing dataset fails the test,
// and elsewhere skips it; and a small generated dataset for tests that
// train.
package datatest

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tandem-edge/tandem/dnn/data"
)

// Load loads the named dataset (see data.Load) or ends the test: a skip
// when it is not installed and CI is not true, a failure otherwise.
func Load(tb testing.TB, name string) *data.Dataset {
	tb.Helper()
	d, err := data.Load(name, data.Options{})
	var missing *data.NotInstalledError
	switch {
	case err == nil:
		return d
	case errors.As(err, &missing) && os.Getenv("CI") != "true":
		tb.Skip(err)
	default:
		tb.Fatal(err)
	}
	return nil
}

// ThirdsCSV writes n samples of a three-class 8x8 dataset, as CSV rows of a
// label and 64 pixels, into a temporary file and returns its path. Each
// class is bright in its own overlapping third of the image, noisily enough
// that a small model trained briefly errs where a larger one trained longer
// does not.
func ThirdsCSV(tb testing.TB, n int) string {
	tb.Helper()
	rng := rand.New(rand.NewPCG(7, 8))
	var b strings.Builder
	for i := range n {
		label := i % 3
		fmt.Fprint(&b, label)
		for p := range 64 {
			v := rng.IntN(140)
			if row := p / 8; row >= 2*label && row < 2*label+4 {
				v += 70
			}
			fmt.Fprintf(&b, ",%d", v)
		}
		b.WriteByte('\n')
	}
	path := filepath.Join(tb.TempDir(), "thirds.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

// ColourFolder writes n RGB JPEG images of 12×12 pixels (10×14 for every
// fifth, so that the folder declares the size to resize to in its
// data.ImageDirFile) in three class folders, red, green and blue, each
// image noisy with its class's colour strongest, into a temporary folder
// and returns it: an image dataset the project does not ship, laid out as
// users keep theirs.
func ColourFolder(tb testing.TB, n int) string {
	tb.Helper()
	dir := filepath.Join(tb.TempDir(), "colours")
	rng := rand.New(rand.NewPCG(9, 10))
	classes := []string{"red", "green", "blue"}
	for i := range n {
		label := i % 3
		w, h := 12, 12
		if i%5 == 0 {
			w, h = 14, 10
		}
		img := image.NewRGBA(image.Rect(0, 0, w, h))
		for y := range h {
			for x := range w {
				var c [3]uint8
				for k := range c {
					c[k] = uint8(rng.IntN(150))
				}
				c[label] += uint8(40 + rng.IntN(60))
				img.Set(x, y, color.RGBA{R: c[0], G: c[1], B: c[2], A: 255})
			}
		}
		path := filepath.Join(dir, classes[label], fmt.Sprintf("%04d.jpg", i))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			tb.Fatal(err)
		}
		f, err := os.Create(path)
		if err != nil {
			tb.Fatal(err)
		}
		err = jpeg.Encode(f, img, &jpeg.Options{Quality: 90})
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			tb.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, data.ImageDirFile), []byte("shape: [3, 12, 12]\n"), 0o644); err != nil {
		tb.Fatal(err)
	}
	return dir
}
