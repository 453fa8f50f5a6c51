package data

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// ReadCSVFile reads a CSV file of labelled images, gzipped or not, into a
// Set named after the file; see ReadCSV.
func ReadCSVFile(path string, shape []int) (*Set, error) {
	var s *Set
	err := withFile(path, func(r io.Reader) error {
		r, err := maybeGunzip(r)
		if err != nil {
			return err
		}
		s, err = ReadCSV(r, path, shape)
		return err
	})
	return s, err
}

// ReadCSV reads labelled images, one per row: the label (an integer from 0)
// first, then the pixels in C, H, W order. Pixels are either all within
// [0, 1], taken as they are, or within [0, 255], divided by 255: a file whose
// largest pixel exceeds 1 is read as 0–255. A first row whose label is not an
// integer is a header and skipped.
//
// shape is one sample's C, H, W; nil infers one channel of a square image
// from the number of pixels. Classes is one more than the largest label.
func ReadCSV(r io.Reader, name string, shape []int) (*Set, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	cr.TrimLeadingSpace = true
	cr.FieldsPerRecord = -1 // checked below, with a clearer message
	var (
		x      []float32
		y      []int32
		width  = -1 // pixels per row
		maxPix float64
	)
	for row := 1; ; row++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		label, err := strconv.ParseInt(strings.TrimSpace(rec[0]), 10, 32)
		if err != nil {
			if row == 1 {
				continue
			}
			return nil, fmt.Errorf("row %d: label %q is not an integer", row, rec[0])
		}
		if label < 0 {
			return nil, fmt.Errorf("row %d: label %d is negative", row, label)
		}
		if width < 0 {
			width = len(rec) - 1
			if width == 0 {
				return nil, fmt.Errorf("row %d: a label and no pixels", row)
			}
		}
		if len(rec)-1 != width {
			return nil, fmt.Errorf("row %d: %d pixels, earlier rows have %d", row, len(rec)-1, width)
		}
		for i, f := range rec[1:] {
			v, err := strconv.ParseFloat(strings.TrimSpace(f), 32)
			if err != nil || math.IsNaN(v) || v < 0 || v > 255 {
				return nil, fmt.Errorf("row %d, column %d: pixel %q is not a number in [0, 255]", row, i+2, f)
			}
			maxPix = max(maxPix, v)
			x = append(x, float32(v))
		}
		y = append(y, int32(label))
	}
	if len(y) == 0 {
		return nil, errors.New("holds no samples")
	}
	if maxPix > 1 {
		for i := range x {
			x[i] /= 255
		}
	}
	shape, err := csvShape(shape, width)
	if err != nil {
		return nil, err
	}
	return &Set{Name: name, Shape: shape, Classes: int(maxLabel(y)) + 1, X: x, Y: y}, nil
}

// csvShape checks a given sample shape against the pixels per row, or infers
// a square single-channel one.
func csvShape(shape []int, pixels int) ([]int, error) {
	if shape != nil {
		for _, d := range shape {
			if d <= 0 {
				return nil, fmt.Errorf("shape %s has a dimension that is not positive", FormatShape(shape))
			}
		}
		if n := shapeSize(shape); n != pixels {
			return nil, fmt.Errorf("rows have %d pixels, shape %s needs %d", pixels, FormatShape(shape), n)
		}
		return append([]int(nil), shape...), nil
	}
	side := int(math.Round(math.Sqrt(float64(pixels))))
	if side*side != pixels {
		return nil, fmt.Errorf("rows have %d pixels, not a square image: give the shape (C×H×W)", pixels)
	}
	return []int{1, side, side}, nil
}
