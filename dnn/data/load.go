package data

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// Names of the built-in datasets.
const (
	FashionMNIST = "fashion-mnist" // 60,000 training and 10,000 test images, 10 classes
	MNIST        = "mnist"         // 10,000 digits, no official split
)

// FashionMNISTDir is where Debian's dataset-fashion-mnist puts its IDX files.
const FashionMNISTDir = "/usr/share/datasets/fashion-mnist"

// Options tune Load. The zero value is ready to use.
type Options struct {
	// FashionMNISTDir holds the Fashion-MNIST IDX files; empty means
	// FashionMNISTDir, where the Debian package installs them.
	FashionMNISTDir string

	// CacheDir is tandem's cache folder, holding the MNIST digits; empty
	// means CacheDir().
	CacheDir string

	// Shape is one sample's C, H, W for files that do not say it (CSV); nil
	// infers a single-channel square image.
	Shape []int
}

// Dataset is a loaded dataset and the split its source defines, if any.
type Dataset struct {
	Name  string
	Train *Set // the official training part, or every sample when the source has no split
	Test  *Set // the official test part; nil when the source has none
	// Val is the official validation part; nil when the source has none
	// (then Split carves one from Train).
	Val *Set
	// Classes names the labels in order, when the source names them (an
	// image folder's class folders).
	Classes []string
}

// All returns every sample of d: the training part, then the test part. It
// is d.Train itself when d has no test part, a copy otherwise.
func (d *Dataset) All() *Set {
	if d.Test == nil {
		return d.Train
	}
	a, b := d.Train, d.Test
	return &Set{
		Name:    a.Name,
		Shape:   a.Shape,
		Classes: max(a.Classes, b.Classes),
		NoFlip:  a.NoFlip,
		X:       append(append(make([]float32, 0, len(a.X)+len(b.X)), a.X...), b.X...),
		Y:       append(append(make([]int32, 0, len(a.Y)+len(b.Y)), a.Y...), b.Y...),
	}
}

// NotInstalledError reports a built-in dataset whose files are absent and
// says how to install them.
type NotInstalledError struct {
	Dataset  string // the built-in name, e.g. fashion-mnist
	Path     string // the file that was looked for
	Provider string // what ships the files, e.g. the Debian package dataset-fashion-mnist
	Install  string // the command that installs them
}

func (e *NotInstalledError) Error() string {
	how := "run `scripts/setup.sh`"
	if e.Install != "scripts/setup.sh" {
		how = fmt.Sprintf("install it with `%s` (as root, after `apt-get update`) or run `scripts/setup.sh`", e.Install)
	}
	return fmt.Sprintf("data: dataset %s is not installed (%s is missing): it comes with %s; %s",
		e.Dataset, e.Path, e.Provider, how)
}

// Load reads the dataset called name: a built-in (FashionMNIST, MNIST) or a
// path to one of
//   - a folder of IDX files: an images/labels pair, or a train-* and a
//     t10k-* (or test-*) pair that become Train and Test;
//   - an IDX image file (gzipped or not) whose label file is named alike
//     (train-images-idx3-ubyte → train-labels-idx1-ubyte), or the two as
//     IMAGES,LABELS;
//   - a CSV file (gzipped or not) as ReadCSV reads it, shaped by opts.Shape;
//   - NumPy arrays: an .npz holding x_train, y_train (and x_test, y_test)
//     or x, y, or two .npy files as IMAGES.npy,LABELS.npy (see npySet);
//   - a folder of PNG or JPEG images, one sub-folder per class, or train/,
//     test/ and optionally val/ folders of them (see loadImageDir and
//     ImageDirFile).
//
// A built-in that is not installed gives a *NotInstalledError.
func Load(name string, opts Options) (*Dataset, error) {
	switch name {
	case FashionMNIST:
		return loadFashionMNIST(opts)
	case MNIST:
		cache := opts.CacheDir
		if cache == "" {
			var err error
			if cache, err = CacheDir(); err != nil {
				return nil, err
			}
		}
		s, err := readMNISTDigits(MNISTDir(cache))
		if err != nil {
			return nil, err
		}
		return &Dataset{Name: MNIST, Train: s}, nil
	}
	return loadPath(name, opts)
}

func loadFashionMNIST(opts Options) (*Dataset, error) {
	dir := opts.FashionMNISTDir
	if dir == "" {
		dir = FashionMNISTDir
	}
	files := [4]string{"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"}
	for i := range files {
		files[i] = filepath.Join(dir, files[i])
		if _, err := os.Stat(files[i]); errors.Is(err, fs.ErrNotExist) {
			return nil, &NotInstalledError{Dataset: FashionMNIST, Path: files[i],
				Provider: "the Debian package dataset-fashion-mnist",
				Install:  "apt-get install -y dataset-fashion-mnist"}
		}
	}
	train, err := ReadIDXPair(FashionMNIST, files[0], files[1])
	if err != nil {
		return nil, err
	}
	test, err := ReadIDXPair(FashionMNIST, files[2], files[3])
	if err != nil {
		return nil, err
	}
	return &Dataset{Name: FashionMNIST, Train: train, Test: test}, nil
}

func loadPath(path string, opts Options) (*Dataset, error) {
	info, err := os.Stat(path)
	if err != nil {
		if images, labels, ok := strings.Cut(path, ","); ok {
			if strings.HasSuffix(strings.ToLower(images), ".npy") {
				return readNPYPair(path, images, labels, opts.Shape)
			}
			s, err := ReadIDXPair(path, images, labels)
			if err != nil {
				return nil, err
			}
			return &Dataset{Name: path, Train: s}, nil
		}
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("data: dataset %q is neither a built-in (%s, %s) nor an existing file or folder", path, FashionMNIST, MNIST)
		}
		return nil, fmt.Errorf("data: %w", err)
	}
	if info.IsDir() {
		if isImageDir(path) {
			return loadImageDir(path, opts)
		}
		return loadIDXDir(path)
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".npz":
		raw, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("data: %w", err)
		}
		return readNPZ(path, raw, opts.Shape)
	case ".npy":
		return nil, fmt.Errorf("data: %s: a .npy file holds one array: give the images and the labels as IMAGES.npy,LABELS.npy, or both in an .npz", path)
	}
	kind, err := sniff(path)
	if err != nil {
		return nil, err
	}
	switch kind {
	case idxImagesMagic:
		labels, ok := labelsFileFor(path)
		if !ok {
			return nil, fmt.Errorf("data: %s: an IDX image file whose name does not say its label file: give both as IMAGES,LABELS", path)
		}
		if _, err := os.Stat(labels); err != nil {
			return nil, fmt.Errorf("data: %s: an IDX image file whose label file %s is missing: give both as IMAGES,LABELS", path, labels)
		}
		s, err := ReadIDXPair(path, path, labels)
		if err != nil {
			return nil, err
		}
		return &Dataset{Name: path, Train: s}, nil
	case idxLabelsMagic:
		return nil, fmt.Errorf("data: %s: an IDX label file: give the image file, or both as IMAGES,LABELS", path)
	}
	s, err := ReadCSVFile(path, opts.Shape)
	if err != nil {
		return nil, err
	}
	return &Dataset{Name: path, Train: s}, nil
}

// sniff returns the IDX magic number path starts with (after gunzip), or 0.
func sniff(path string) (uint32, error) {
	var magic uint32
	err := withFile(path, func(r io.Reader) error {
		zr, err := maybeGunzip(r)
		if err != nil {
			return err
		}
		var head [4]byte
		if _, err := io.ReadFull(zr, head[:]); err == nil {
			magic = binary.BigEndian.Uint32(head[:])
		}
		return nil
	})
	return magic, err
}

// labelsFileFor names the label file of an IDX image file after the usual
// naming (train-images-idx3-ubyte.gz, train-images.idx3-ubyte).
func labelsFileFor(images string) (string, bool) {
	dir, base := filepath.Split(images)
	for _, r := range [][2]string{{"images-idx3", "labels-idx1"}, {"images.idx3", "labels.idx1"}} {
		if strings.Contains(base, r[0]) {
			return dir + strings.Replace(base, r[0], r[1], 1), true
		}
	}
	return "", false
}

// loadIDXDir reads a folder holding one IDX pair, or a training and a test pair.
func loadIDXDir(dir string) (*Dataset, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	var pairs [][2]string
	for _, e := range entries {
		labels, ok := labelsFileFor(e.Name())
		if e.IsDir() || !ok {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, labels)); err != nil {
			return nil, fmt.Errorf("data: %s: image file %s has no label file %s", dir, e.Name(), labels)
		}
		pairs = append(pairs, [2]string{e.Name(), labels})
	}
	sort.Slice(pairs, func(i, j int) bool { return pairs[i][0] < pairs[j][0] })
	read := func(p [2]string) (*Set, error) {
		return ReadIDXPair(dir, filepath.Join(dir, p[0]), filepath.Join(dir, p[1]))
	}
	switch len(pairs) {
	case 0:
		return nil, fmt.Errorf("data: %s: no IDX image files (*-images-idx3-ubyte[.gz]) in the folder", dir)
	case 1:
		s, err := read(pairs[0])
		if err != nil {
			return nil, err
		}
		return &Dataset{Name: dir, Train: s}, nil
	case 2:
		var train, test [2]string
		for _, p := range pairs {
			switch {
			case strings.HasPrefix(p[0], "train"):
				train = p
			case strings.HasPrefix(p[0], "t10k"), strings.HasPrefix(p[0], "test"):
				test = p
			}
		}
		if train[0] != "" && test[0] != "" {
			d := &Dataset{Name: dir}
			if d.Train, err = read(train); err != nil {
				return nil, err
			}
			if d.Test, err = read(test); err != nil {
				return nil, err
			}
			if !slices.Equal(d.Train.Shape, d.Test.Shape) {
				return nil, fmt.Errorf("data: %s: training images are %s but test images %s", dir,
					FormatShape(d.Train.Shape), FormatShape(d.Test.Shape))
			}
			d.Train.Classes = max(d.Train.Classes, d.Test.Classes)
			d.Test.Classes = d.Train.Classes
			return d, nil
		}
	}
	names := make([]string, len(pairs))
	for i, p := range pairs {
		names[i] = p[0]
	}
	return nil, fmt.Errorf("data: %s: image files %s: want one pair, or a train-* and a t10k-* (or test-*) pair",
		dir, strings.Join(names, ", "))
}
