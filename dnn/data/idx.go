package data

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
)

// IDX magic numbers: two zero bytes, the element type (0x08, unsigned byte)
// and the number of dimensions.
const (
	idxImagesMagic = 0x00000803 // idx3 ubyte: N, H, W
	idxLabelsMagic = 0x00000801 // idx1 ubyte: N
)

// maxIDXBytes bounds the payload a header may claim. The payload is read as
// it arrives rather than allocated up front, so a lying header cannot exhaust
// memory before the short read is noticed; this bound keeps sizes within int
// on 32-bit platforms and the float32 copy of the pixels within reason.
const maxIDXBytes = math.MaxInt32

// ReadIDXImages reads an idx3 ubyte image file, gzipped or not (told apart by
// its first bytes), and returns n images of h×w pixels scaled to [0, 1],
// image-major. Errors describe what is wrong with the content; the caller adds
// the file name.
func ReadIDXImages(r io.Reader) (x []float32, n, h, w int, err error) {
	dims, raw, err := readIDX(r, idxImagesMagic, "idx3 ubyte images")
	if err != nil {
		return nil, 0, 0, 0, err
	}
	n, h, w = dims[0], dims[1], dims[2]
	if n == 0 {
		return nil, 0, 0, 0, fmt.Errorf("holds no images")
	}
	if h == 0 || w == 0 {
		return nil, 0, 0, 0, fmt.Errorf("images of %dx%d pixels", h, w)
	}
	x = make([]float32, len(raw))
	for i, b := range raw {
		x[i] = float32(b) / 255
	}
	return x, n, h, w, nil
}

// ReadIDXLabels reads an idx1 ubyte label file, gzipped or not.
func ReadIDXLabels(r io.Reader) ([]int32, error) {
	_, raw, err := readIDX(r, idxLabelsMagic, "idx1 ubyte labels")
	if err != nil {
		return nil, err
	}
	if len(raw) == 0 {
		return nil, fmt.Errorf("holds no labels")
	}
	y := make([]int32, len(raw))
	for i, b := range raw {
		y[i] = int32(b)
	}
	return y, nil
}

// ReadIDXPair reads an image file and its label file into a Set called name.
// Classes is one more than the largest label.
func ReadIDXPair(name, imagesPath, labelsPath string) (*Set, error) {
	var (
		x       []float32
		n, h, w int
		y       []int32
	)
	err := withFile(imagesPath, func(r io.Reader) (err error) {
		x, n, h, w, err = ReadIDXImages(r)
		return err
	})
	if err != nil {
		return nil, err
	}
	err = withFile(labelsPath, func(r io.Reader) (err error) {
		y, err = ReadIDXLabels(r)
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(y) != n {
		return nil, fmt.Errorf("data: %s: has %d labels but %s has %d images", labelsPath, len(y), imagesPath, n)
	}
	return &Set{Name: name, Shape: []int{1, h, w}, Classes: int(maxLabel(y)) + 1, X: x, Y: y}, nil
}

// withFile opens path and hands it to read; any error names the file.
func withFile(path string, read func(io.Reader) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	if err := read(f); err != nil {
		return fmt.Errorf("data: %s: %w", path, err)
	}
	return nil
}

// readIDX checks the magic number and returns the dimensions and the payload
// of an IDX file of unsigned bytes. kind names the expected content in errors.
func readIDX(r io.Reader, magic uint32, kind string) (dims []int, payload []byte, err error) {
	r, err = maybeGunzip(r)
	if err != nil {
		return nil, nil, err
	}
	var head [4]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return nil, nil, fmt.Errorf("reading the magic number: %w", shortRead(err))
	}
	if got := binary.BigEndian.Uint32(head[:]); got != magic {
		return nil, nil, fmt.Errorf("wrong magic 0x%08x: want 0x%08x (%s)", got, magic, kind)
	}
	dims = make([]int, magic&0xff)
	size := int64(1)
	for i := range dims {
		if _, err := io.ReadFull(r, head[:]); err != nil {
			return nil, nil, fmt.Errorf("reading dimension %d: %w", i, shortRead(err))
		}
		d := binary.BigEndian.Uint32(head[:])
		if d > maxIDXBytes {
			return nil, nil, fmt.Errorf("dimension %d is %d, more than the %d tandem reads", i, d, int64(maxIDXBytes))
		}
		dims[i] = int(d)
		size *= int64(d)
		if size > maxIDXBytes {
			return nil, nil, fmt.Errorf("dimensions %v claim more than the %d bytes tandem reads", dims[:i+1], int64(maxIDXBytes))
		}
	}
	// Read one byte past the claimed size to notice trailing data.
	payload, err = io.ReadAll(io.LimitReader(r, size+1))
	if err != nil {
		return nil, nil, fmt.Errorf("reading %d bytes of data: %w", size, err)
	}
	switch {
	case int64(len(payload)) < size:
		return nil, nil, fmt.Errorf("dimensions %v need %d bytes of data, file has %d", dims, size, len(payload))
	case int64(len(payload)) > size:
		return nil, nil, fmt.Errorf("dimensions %v need %d bytes of data, file has more", dims, size)
	}
	return dims, payload, nil
}

// maybeGunzip returns a reader of the decompressed content when r starts with
// the gzip magic bytes, and of r as it is otherwise.
func maybeGunzip(r io.Reader) (io.Reader, error) {
	br := bufio.NewReader(r)
	head, err := br.Peek(2)
	if err != nil && err != io.EOF {
		return nil, err
	}
	if !bytes.Equal(head, []byte{0x1f, 0x8b}) {
		return br, nil
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	return zr, nil
}

// shortRead turns the end of input inside a header into a readable error.
func shortRead(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return fmt.Errorf("file ends early")
	}
	return err
}

func maxLabel(y []int32) int32 {
	var m int32
	for _, v := range y {
		m = max(m, v)
	}
	return m
}
