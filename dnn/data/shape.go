package data

import (
	"fmt"
	"strconv"
	"strings"
)

// CheckShape reports whether the samples of s fit a model that expects one
// sample of shape want (C, H, W; without the batch dimension). A negative
// entry of want is a dynamic dimension and matches any size.
func CheckShape(s *Set, want []int) error {
	ok := len(want) == len(s.Shape)
	for i := 0; ok && i < len(want); i++ {
		ok = want[i] < 0 || want[i] == s.Shape[i]
	}
	if !ok {
		return fmt.Errorf("dataset %s has samples %s, model expects %s", s.Name, FormatShape(s.Shape), FormatShape(want))
	}
	return nil
}

// FormatShape writes a shape as 1x28x28; a dynamic (negative) dimension is ?.
func FormatShape(shape []int) string {
	parts := make([]string, len(shape))
	for i, d := range shape {
		if d < 0 {
			parts[i] = "?"
		} else {
			parts[i] = strconv.Itoa(d)
		}
	}
	return strings.Join(parts, "x")
}

// ParseShape reads a shape written as 1x28x28 (or with × or commas).
func ParseShape(text string) ([]int, error) {
	f := strings.FieldsFunc(text, func(r rune) bool { return r == 'x' || r == '×' || r == ',' })
	if len(f) == 0 {
		return nil, fmt.Errorf("shape %q: want dimensions such as 1x28x28", text)
	}
	shape := make([]int, len(f))
	for i, s := range f {
		d, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("shape %q: dimension %q is not a positive integer", text, s)
		}
		shape[i] = d
	}
	return shape, nil
}

func shapeSize(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}
