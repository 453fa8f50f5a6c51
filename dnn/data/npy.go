package data

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// npyMagic starts every NumPy .npy file.
const npyMagic = "\x93NUMPY"

// maxNPYBytes bounds an array's payload, as maxIDXBytes bounds an IDX file's.
const maxNPYBytes = math.MaxInt32

// npyArray is one array of a .npy file: its shape and its values, C order.
type npyArray struct {
	shape  []int
	values []float32 // exact for the integers a label or a pixel holds
	ints   bool      // integer element type
}

var (
	npyDescr   = regexp.MustCompile(`'descr'\s*:\s*'([^']*)'`)
	npyFortran = regexp.MustCompile(`'fortran_order'\s*:\s*(True|False)`)
	npyShape   = regexp.MustCompile(`'shape'\s*:\s*\(([^)]*)\)`)
)

// readNPY reads a .npy array (format versions 1 to 3) of little-endian or
// byte-sized integers, or of float32 or float64, in C order. Errors say what
// is wrong with the content; the caller adds the file name.
func readNPY(r io.Reader) (*npyArray, error) {
	var pre [8]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return nil, errors.New("not a NumPy .npy array: too short")
	}
	if string(pre[:6]) != npyMagic {
		return nil, errors.New("not a NumPy .npy array (no \\x93NUMPY magic)")
	}
	var hlen int
	switch pre[6] {
	case 1:
		var b [2]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, errors.New("truncated .npy header")
		}
		hlen = int(binary.LittleEndian.Uint16(b[:]))
	case 2, 3:
		var b [4]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, errors.New("truncated .npy header")
		}
		hlen = int(binary.LittleEndian.Uint32(b[:]))
	default:
		return nil, fmt.Errorf(".npy format version %d.%d; versions 1 to 3 are read", pre[6], pre[7])
	}
	if hlen > 1<<16 {
		return nil, fmt.Errorf(".npy header of %d bytes; at most %d", hlen, 1<<16)
	}
	hb := make([]byte, hlen)
	if _, err := io.ReadFull(r, hb); err != nil {
		return nil, errors.New("truncated .npy header")
	}
	header := string(hb)
	d := npyDescr.FindStringSubmatch(header)
	f := npyFortran.FindStringSubmatch(header)
	s := npyShape.FindStringSubmatch(header)
	if d == nil || f == nil || s == nil {
		return nil, fmt.Errorf(".npy header %q: want descr, fortran_order and shape", strings.TrimSpace(header))
	}
	if f[1] == "True" {
		return nil, errors.New("a Fortran-ordered array: save it in C order (numpy.ascontiguousarray)")
	}
	var shape []int
	count := 1
	for _, p := range strings.Split(s[1], ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return nil, fmt.Errorf(".npy shape (%s): want whole numbers", s[1])
		}
		if n > 0 && count > maxNPYBytes/n {
			return nil, fmt.Errorf(".npy shape (%s): more than %d values", s[1], maxNPYBytes)
		}
		count *= n
		shape = append(shape, n)
	}
	if len(shape) == 0 {
		return nil, errors.New("a scalar .npy, not an array")
	}
	descr := d[1]
	size, err := npyElemSize(descr)
	if err != nil {
		return nil, err
	}
	if count > maxNPYBytes/size {
		return nil, fmt.Errorf(".npy array of %d values of %d bytes: more than %d bytes", count, size, maxNPYBytes)
	}
	raw, err := io.ReadAll(io.LimitReader(r, int64(count*size)+1))
	if err != nil {
		return nil, err
	}
	if len(raw) != count*size {
		return nil, fmt.Errorf(".npy array of shape %v holds %d bytes, want %d", shape, len(raw), count*size)
	}
	a := &npyArray{shape: shape, values: make([]float32, count), ints: descr[1] != 'f'}
	le := binary.LittleEndian
	for i := range a.values {
		b := raw[i*size : (i+1)*size]
		var v float64
		switch descr[1:] {
		case "u1":
			v = float64(b[0])
		case "i1":
			v = float64(int8(b[0]))
		case "u2":
			v = float64(le.Uint16(b))
		case "i2":
			v = float64(int16(le.Uint16(b)))
		case "u4":
			v = float64(le.Uint32(b))
		case "i4":
			v = float64(int32(le.Uint32(b)))
		case "u8":
			v = float64(le.Uint64(b))
		case "i8":
			v = float64(int64(le.Uint64(b)))
		case "f4":
			v = float64(math.Float32frombits(le.Uint32(b)))
		case "f8":
			v = math.Float64frombits(le.Uint64(b))
		}
		if math.IsNaN(v) || math.Abs(v) > math.MaxFloat32 {
			return nil, fmt.Errorf(".npy value %d is %v", i, v)
		}
		a.values[i] = float32(v)
	}
	return a, nil
}

// npyElemSize is the size of an element of a supported .npy type.
func npyElemSize(descr string) (int, error) {
	if len(descr) == 3 && (descr[0] == '<' || descr[0] == '|') {
		switch descr[1:] {
		case "u1", "i1":
			return 1, nil
		case "u2", "i2":
			if descr[0] == '<' {
				return 2, nil
			}
		case "u4", "i4", "f4":
			if descr[0] == '<' {
				return 4, nil
			}
		case "u8", "i8", "f8":
			if descr[0] == '<' {
				return 8, nil
			}
		}
	}
	return 0, fmt.Errorf(".npy element type %q: want little-endian integers or float32/float64 (<u1, <i4, <f4, ...)", descr)
}

// npySet makes a Set of an image array and a label array: images of shape
// (N, H, W) (greyscale), (N, H, W, C) or (N, C, H, W) with C 1 or 3 (read
// as channels last whenever the last axis is 1 or 3), or (N, F) when shape
// gives [C, H, W] of F values. Integer pixels are taken
// as 0-255, float pixels as they are.
func npySet(name string, x, y *npyArray, shape []int) (*Set, error) {
	if len(y.shape) != 1 || !y.ints {
		return nil, fmt.Errorf("labels of shape %v: want one integer label a sample, shape (N,)", y.shape)
	}
	n := x.shape[0]
	if y.shape[0] != n {
		return nil, fmt.Errorf("%d images and %d labels", n, y.shape[0])
	}
	if n == 0 {
		return nil, errors.New("no samples")
	}
	s := &Set{Name: name}
	channelsLast := false
	switch d := x.shape; {
	case len(d) == 3:
		s.Shape = []int{1, d[1], d[2]}
	case len(d) == 4 && (d[3] == 1 || d[3] == 3):
		// Channels last, as NumPy images mostly are, whenever the last
		// axis can be the channels.
		s.Shape, channelsLast = []int{d[3], d[1], d[2]}, true
	case len(d) == 4 && (d[1] == 1 || d[1] == 3):
		s.Shape = []int{d[1], d[2], d[3]}
	case len(d) == 2 && len(shape) == 3 && shape[0]*shape[1]*shape[2] == d[1]:
		s.Shape = shape
	default:
		return nil, fmt.Errorf("images of shape %v: want (N, H, W), (N, H, W, C), (N, C, H, W) with C 1 or 3, or (N, F) with a shape given", d)
	}
	scale := float32(1)
	if x.ints {
		scale = 1.0 / 255
	}
	c, h, w := s.Shape[0], s.Shape[1], s.Shape[2]
	k := c * h * w
	s.X = make([]float32, len(x.values))
	for i := range n {
		src, dst := x.values[i*k:(i+1)*k], s.X[i*k:(i+1)*k]
		if !channelsLast {
			for j, v := range src {
				dst[j] = v * scale
			}
			continue
		}
		for p := range h * w {
			for ch := range c {
				dst[ch*h*w+p] = src[p*c+ch] * scale
			}
		}
	}
	s.Y = make([]int32, n)
	for i, v := range y.values {
		if v < 0 || v >= 1<<20 || float64(v) != math.Trunc(float64(v)) {
			return nil, fmt.Errorf("label %d is %v: want a class index from 0", i, v)
		}
		s.Y[i] = int32(v)
		s.Classes = max(s.Classes, int(v)+1)
	}
	return s, nil
}

// npzNames are the array names an .npz may use, in the order tried:
// Keras's x_train, y_train, x_test, y_test, or one x, y pair (images and
// labels also read).
var npzNames = [][4]string{{"x_train", "y_train", "x_test", "y_test"}, {"x", "y", "", ""}, {"images", "labels", "", ""}}

// readNPYPair reads images and labels from two .npy files.
func readNPYPair(path, images, labels string, shape []int) (*Dataset, error) {
	var arrays [2]*npyArray
	for i, file := range []string{images, labels} {
		err := withFile(file, func(r io.Reader) error {
			var err error
			arrays[i], err = readNPY(r)
			return err
		})
		if err != nil {
			return nil, err // withFile names the file
		}
	}
	s, err := npySet(path, arrays[0], arrays[1], shape)
	if err != nil {
		return nil, fmt.Errorf("data: %s: %v", path, err)
	}
	return &Dataset{Name: path, Train: s}, nil
}

// readNPZ reads an .npz archive of images and labels into a Dataset.
func readNPZ(path string, raw []byte, shape []int) (*Dataset, error) {
	zr, err := zip.NewReader(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		return nil, fmt.Errorf("data: %s: not an .npz archive: %v", path, err)
	}
	arrays := map[string]*npyArray{}
	var names []string
	for _, f := range zr.File {
		name := strings.TrimSuffix(f.Name, ".npy")
		names = append(names, name)
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("data: %s: %s: %v", path, f.Name, err)
		}
		a, err := readNPY(rc)
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("data: %s: %s: %v", path, f.Name, err)
		}
		arrays[name] = a
	}
	for _, set := range npzNames {
		x, y := arrays[set[0]], arrays[set[1]]
		if x == nil || y == nil {
			continue
		}
		d := &Dataset{Name: path}
		if d.Train, err = npySet(path, x, y, shape); err != nil {
			return nil, fmt.Errorf("data: %s: %s, %s: %v", path, set[0], set[1], err)
		}
		if tx, ty := arrays[set[2]], arrays[set[3]]; tx != nil && ty != nil {
			if d.Test, err = npySet(path, tx, ty, shape); err != nil {
				return nil, fmt.Errorf("data: %s: %s, %s: %v", path, set[2], set[3], err)
			}
			if !slices.Equal(d.Test.Shape, d.Train.Shape) {
				return nil, fmt.Errorf("data: %s: %s holds samples of shape %v, %s of %v", path, set[2], d.Test.Shape, set[0], d.Train.Shape)
			}
		}
		return d, nil
	}
	return nil, fmt.Errorf("data: %s: arrays %v; want x_train and y_train (and x_test, y_test), or x and y", path, names)
}
