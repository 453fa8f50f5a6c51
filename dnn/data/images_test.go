package data

import (
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// writeImage writes a w×h image of one colour (grey when rgb is false) as
// PNG, or JPEG when the name says so.
func writeImage(t *testing.T, path string, w, h int, c color.RGBA, rgb bool) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	var img image.Image
	if rgb {
		m := image.NewRGBA(image.Rect(0, 0, w, h))
		for y := range h {
			for x := range w {
				m.Set(x, y, c)
			}
		}
		img = m
	} else {
		m := image.NewGray(image.Rect(0, 0, w, h))
		for y := range h {
			for x := range w {
				m.SetGray(x, y, color.Gray{Y: c.R})
			}
		}
		img = m
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if strings.HasSuffix(path, ".jpg") {
		err = jpeg.Encode(f, img, &jpeg.Options{Quality: 100})
	} else {
		err = png.Encode(f, img)
	}
	if err != nil {
		t.Fatal(err)
	}
}

func TestImageFolderClasses(t *testing.T) {
	dir := t.TempDir()
	for i, class := range []string{"cat", "ant", "bee"} {
		for j := range 3 {
			writeImage(t, filepath.Join(dir, class, string(rune('a'+j))+".png"), 5, 4, color.RGBA{R: uint8(50 * i)}, false)
		}
	}
	os.WriteFile(filepath.Join(dir, "ant", "notes.txt"), []byte("not an image"), 0o644)
	d, err := Load(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := d.Train
	if !slices.Equal(d.Classes, []string{"ant", "bee", "cat"}) || s.Len() != 9 || !slices.Equal(s.Shape, []int{1, 4, 5}) || s.Classes != 3 || d.Test != nil {
		t.Fatalf("classes %v, %d samples of shape %v, %d classes", d.Classes, s.Len(), s.Shape, s.Classes)
	}
	// cat (grey 0) is label 2, bee (grey 100) label 1.
	for i := range s.Len() {
		want := map[int32]float32{0: 50.0 / 255, 1: 100.0 / 255, 2: 0}[s.Y[i]]
		if got := s.Sample(i)[7]; got-want > 1e-6 || want-got > 1e-6 {
			t.Errorf("sample %d (label %d): pixel %v, want %v", i, s.Y[i], got, want)
		}
	}
}

func TestImageFolderSplitsAndResize(t *testing.T) {
	dir := t.TempDir()
	red := color.RGBA{R: 255, A: 255}
	for _, part := range []string{"train", "val", "test"} {
		for _, class := range []string{"red", "blue"} {
			c := red
			if class == "blue" {
				c = color.RGBA{B: 255, A: 255}
			}
			writeImage(t, filepath.Join(dir, part, class, "x.jpg"), 12, 10, c, true)
			writeImage(t, filepath.Join(dir, part, class, "y.png"), 7, 9, c, true)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, ImageDirFile), []byte("shape: [3, 6, 6]\nflip: false\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := Load(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	sp, err := d.Split(DefaultSplit)
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]*Set{"train": sp.Train, "val": sp.Val, "test": sp.Test} {
		if s.Len() != 4 || !slices.Equal(s.Shape, []int{3, 6, 6}) || !s.NoFlip {
			t.Errorf("%s: %d samples of %v (no flip %v), want 4 of [3 6 6], never flipped", name, s.Len(), s.Shape, s.NoFlip)
		}
	}
	// Every red image reads as red in all 36 pixels, whatever its size.
	for i := range sp.Test.Len() {
		x, red := sp.Test.Sample(i), sp.Test.Y[i] == 1
		r, b := x[20], x[72+20]
		if red && (r < 0.95 || b > 0.05) || !red && (b < 0.95 || r > 0.05) {
			t.Errorf("test sample %d (label %d): red %v blue %v", i, sp.Test.Y[i], r, b)
		}
	}
}

func TestImageFolderErrors(t *testing.T) {
	grey := color.RGBA{R: 9}
	cases := []struct {
		name  string
		setup func(dir string)
		want  string
	}{
		{"mixed sizes", func(dir string) {
			writeImage(t, filepath.Join(dir, "a", "1.png"), 4, 4, grey, false)
			writeImage(t, filepath.Join(dir, "b", "2.png"), 5, 4, grey, false)
		}, "images of mixed sizes; declare the size"},
		{"empty class", func(dir string) {
			writeImage(t, filepath.Join(dir, "a", "1.png"), 4, 4, grey, false)
			os.MkdirAll(filepath.Join(dir, "b"), 0o755)
		}, `no PNG or JPEG files in class "b"`},
		{"unreadable file", func(dir string) {
			writeImage(t, filepath.Join(dir, "a", "1.png"), 4, 4, grey, false)
			writeImage(t, filepath.Join(dir, "b", "2.png"), 4, 4, grey, false)
			os.WriteFile(filepath.Join(dir, "b", "3.png"), []byte("not a png"), 0o644)
		}, "3.png: not a readable PNG or JPEG image"},
		{"one class", func(dir string) {
			writeImage(t, filepath.Join(dir, "a", "1.png"), 4, 4, grey, false)
		}, "1 class folders"},
		{"a test class unknown to train", func(dir string) {
			for _, c := range []string{"a", "b"} {
				writeImage(t, filepath.Join(dir, "train", c, "1.png"), 4, 4, grey, false)
			}
			writeImage(t, filepath.Join(dir, "test", "z", "1.png"), 4, 4, grey, false)
		}, `class "z" is not among train/'s classes`},
		{"val without test", func(dir string) {
			for _, p := range []string{"train", "val"} {
				for _, c := range []string{"a", "b"} {
					writeImage(t, filepath.Join(dir, p, c, "1.png"), 4, 4, grey, false)
				}
			}
		}, "a val/ folder without a test/ one"},
		{"bad shape", func(dir string) {
			writeImage(t, filepath.Join(dir, "a", "1.png"), 4, 4, grey, false)
			writeImage(t, filepath.Join(dir, "b", "1.png"), 4, 4, grey, false)
			os.WriteFile(filepath.Join(dir, ImageDirFile), []byte("shape: [2, 4, 4]\n"), 0o644)
		}, "want [C, H, W] with C 1 (greyscale) or 3 (RGB)"},
		{"unknown key", func(dir string) {
			writeImage(t, filepath.Join(dir, "a", "1.png"), 4, 4, grey, false)
			writeImage(t, filepath.Join(dir, "b", "1.png"), 4, 4, grey, false)
			os.WriteFile(filepath.Join(dir, ImageDirFile), []byte("size: [4, 4]\n"), 0o644)
		}, `unknown key "size"`},
		{"bad flip", func(dir string) {
			writeImage(t, filepath.Join(dir, "a", "1.png"), 4, 4, grey, false)
			writeImage(t, filepath.Join(dir, "b", "1.png"), 4, 4, grey, false)
			os.WriteFile(filepath.Join(dir, ImageDirFile), []byte("flip: sometimes\n"), 0o644)
		}, "flip true or false"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tc.setup(dir)
			_, err := Load(dir, Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("Load: %v, want one line containing %q", err, tc.want)
			}
		})
	}
}
