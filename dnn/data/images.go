package data

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // decodes .jpg and .jpeg
	_ "image/png"  // decodes .png
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
	"golang.org/x/image/draw"
)

// ImageDirFile is the optional file in an image folder that declares the
// size every image is resized to: `shape: [C, H, W]`, C being 1 (read as
// greyscale) or 3 (RGB); and, with `flip: false`, that an image's mirror is
// not of its class (digits, text), so training never flips one. It travels
// with the images, so that every command that loads the folder reads them
// the same way.
const ImageDirFile = "dataset.yaml"

// Splits an image folder may hold instead of class folders; validation
// images (val/) are kept apart only when test/ is there too.
var imageSplits = []string{"train", "val", "test"}

// isImageDir reports whether dir is laid out as an image dataset: class
// folders, or train/ (and test/, val/) folders of class folders.
func isImageDir(dir string) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			return true
		}
	}
	return false
}

// loadImageDir reads a folder of images: one sub-folder per class (the
// classes numbered in the sorted order of their names) holding PNG or JPEG
// files, or train/, test/ and optionally val/ folders laid out so. Images
// are resized to the shape the folder's ImageDirFile declares, or must all
// be the size of the first; they are greyscale when it says C is 1 or, when
// it says nothing, when the first image is; pixels are scaled to [0, 1].
func loadImageDir(dir string, opts Options) (*Dataset, error) {
	decl, err := readImageDirFile(dir, opts.Shape)
	if err != nil {
		return nil, err
	}
	d := &Dataset{Name: dir}
	if _, err := os.Stat(filepath.Join(dir, "train")); err != nil {
		r := &imageReader{shape: decl.Shape, noFlip: decl.noFlip()}
		if d.Train, err = r.read(dir, dir, nil); err != nil {
			return nil, err
		}
		d.Classes = r.classes
		return d, nil
	}
	r := &imageReader{shape: decl.Shape, noFlip: decl.noFlip()}
	if d.Train, err = r.read(dir, filepath.Join(dir, "train"), nil); err != nil {
		return nil, err
	}
	d.Classes = r.classes
	for _, part := range imageSplits[1:] {
		sub := filepath.Join(dir, part)
		if _, err := os.Stat(sub); err != nil {
			continue
		}
		s, err := r.read(dir, sub, d.Classes)
		if err != nil {
			return nil, err
		}
		if part == "val" {
			d.Val = s
		} else {
			d.Test = s
		}
	}
	if d.Val != nil && d.Test == nil {
		return nil, fmt.Errorf("data: %s: a val/ folder without a test/ one: add test/, or put val/'s images in train/", dir)
	}
	return d, nil
}

// imageDirDecl is what an image folder's ImageDirFile declares.
type imageDirDecl struct {
	Shape []int `yaml:"shape"`
	Flip  *bool `yaml:"flip"`
}

func (d imageDirDecl) noFlip() bool { return d.Flip != nil && !*d.Flip }

// readImageDirFile reads what an image folder declares; the shape is
// given's when the folder declares none.
func readImageDirFile(dir string, given []int) (imageDirDecl, error) {
	path := filepath.Join(dir, ImageDirFile)
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return imageDirDecl{Shape: given}, nil
	}
	if err != nil {
		return imageDirDecl{}, fmt.Errorf("data: %w", err)
	}
	const want = "want `shape: [C, H, W]` and optionally `flip: false`"
	var keys map[string]any
	if err := yaml.Unmarshal(raw, &keys); err != nil {
		return imageDirDecl{}, fmt.Errorf("data: %s: not YAML (%s); %s", path, strings.ReplaceAll(err.Error(), "\n", " "), want)
	}
	for k := range keys {
		if k != "shape" && k != "flip" {
			return imageDirDecl{}, fmt.Errorf("data: %s: unknown key %q; %s", path, k, want)
		}
	}
	var f imageDirDecl
	if err := yaml.Unmarshal(raw, &f); err != nil {
		return imageDirDecl{}, fmt.Errorf("data: %s: %s: shape three whole numbers, flip true or false", path, want)
	}
	if f.Shape == nil {
		f.Shape = given
		return f, nil
	}
	if len(f.Shape) != 3 || (f.Shape[0] != 1 && f.Shape[0] != 3) || f.Shape[1] < 1 || f.Shape[2] < 1 || f.Shape[1]*f.Shape[2] > 1<<24 {
		return imageDirDecl{}, fmt.Errorf("data: %s: shape %v: want [C, H, W] with C 1 (greyscale) or 3 (RGB) and positive H, W", path, f.Shape)
	}
	return f, nil
}

// imageReader reads class folders into a Set, learning the shape from the
// first image when none is declared.
type imageReader struct {
	shape   []int
	noFlip  bool // the folder declares flip: false
	classes []string
	first   string // the image the shape was taken from
}

func isImageFile(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".png", ".jpg", ".jpeg":
		return true
	}
	return false
}

// read reads root's class folders. classes, when given, are the training
// part's: each folder must be one of them and keeps its label.
func (r *imageReader) read(dir, root string, classes []string) (*Set, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") && !(root == dir && slices.Contains(imageSplits, e.Name())) {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	if len(names) < 2 && classes == nil {
		return nil, fmt.Errorf("data: %s: %d class folders; want one folder of images per class, at least two", root, len(names))
	}
	if classes == nil {
		r.classes = names
		classes = names
	}
	s := &Set{Name: dir, Classes: len(classes)}
	for _, class := range names {
		label := slices.Index(classes, class)
		if label < 0 {
			return nil, fmt.Errorf("data: %s: class %q is not among train/'s classes %v", filepath.Join(root, class), class, classes)
		}
		files, err := os.ReadDir(filepath.Join(root, class))
		if err != nil {
			return nil, fmt.Errorf("data: %w", err)
		}
		n := 0
		for _, f := range files {
			if f.IsDir() || !isImageFile(f.Name()) {
				continue
			}
			if err := r.add(s, filepath.Join(root, class, f.Name()), label); err != nil {
				return nil, err
			}
			n++
		}
		if n == 0 {
			return nil, fmt.Errorf("data: %s: no PNG or JPEG files in class %q", filepath.Join(root, class), class)
		}
	}
	s.Shape = slices.Clone(r.shape)
	s.NoFlip = r.noFlip
	return s, nil
}

// add decodes one image into s.
func (r *imageReader) add(s *Set, path string, label int) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("data: %w", err)
	}
	img, _, err := image.Decode(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("data: %s: not a readable PNG or JPEG image: %v", path, err)
	}
	b := img.Bounds()
	if r.shape == nil {
		c := 3
		switch img.ColorModel() {
		case color.GrayModel, color.Gray16Model:
			c = 1
		}
		r.shape, r.first = []int{c, b.Dy(), b.Dx()}, path
	}
	c, h, w := r.shape[0], r.shape[1], r.shape[2]
	if b.Dy() != h || b.Dx() != w {
		if r.first != "" {
			return fmt.Errorf("data: %s is %d×%d, %s %d×%d: images of mixed sizes; declare the size to resize them to in %s (shape: [C, H, W])",
				path, b.Dx(), b.Dy(), r.first, w, h, filepath.Join(s.Name, ImageDirFile))
		}
		dst := image.NewRGBA(image.Rect(0, 0, w, h))
		draw.BiLinear.Scale(dst, dst.Bounds(), img, b, draw.Src, nil)
		img, b = dst, dst.Bounds()
	}
	at := len(s.X)
	s.X = append(s.X, make([]float32, c*h*w)...)
	px := s.X[at:]
	for y := range h {
		for x := range w {
			rr, gg, bb, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			if c == 1 {
				// ITU-R BT.601 luma, as image/color's GrayModel converts.
				px[y*w+x] = float32((19595*rr+38470*gg+7471*bb+1<<15)>>16) / 0xffff
				continue
			}
			px[y*w+x], px[h*w+y*w+x], px[2*h*w+y*w+x] = float32(rr)/0xffff, float32(gg)/0xffff, float32(bb)/0xffff
		}
	}
	s.Y = append(s.Y, int32(label))
	return nil
}
