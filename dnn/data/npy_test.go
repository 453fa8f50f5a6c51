package data

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// npyBytes encodes values as a version 1 .npy array of descr and shape.
func npyBytes(descr string, shape []int, values []float64) []byte {
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = fmt.Sprint(d)
	}
	tuple := strings.Join(dims, ", ")
	if len(shape) == 1 {
		tuple += ","
	}
	header := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr, tuple)
	for (10+len(header)+1)%64 != 0 {
		header += " "
	}
	header += "\n"
	var b bytes.Buffer
	b.WriteString(npyMagic + "\x01\x00")
	binary.Write(&b, binary.LittleEndian, uint16(len(header)))
	b.WriteString(header)
	for _, v := range values {
		switch descr {
		case "|u1":
			b.WriteByte(byte(v))
		case "<i8":
			binary.Write(&b, binary.LittleEndian, int64(v))
		case "<f4":
			binary.Write(&b, binary.LittleEndian, math.Float32bits(float32(v)))
		}
	}
	return b.Bytes()
}

func npzBytes(t *testing.T, arrays map[string][]byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	names := make([]string, 0, len(arrays))
	for name := range arrays {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		w, err := zw.Create(name + ".npy")
		if err != nil {
			t.Fatal(err)
		}
		w.Write(arrays[name])
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func seqValues(n int, mod float64) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = math.Mod(float64(i), mod)
	}
	return v
}

func TestNPZKeras(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mnist.npz")
	raw := npzBytes(t, map[string][]byte{
		"x_train": npyBytes("|u1", []int{6, 2, 3}, seqValues(36, 256)),
		"y_train": npyBytes("|u1", []int{6}, []float64{0, 1, 2, 0, 1, 2}),
		"x_test":  npyBytes("|u1", []int{2, 2, 3}, seqValues(12, 256)),
		"y_test":  npyBytes("<i8", []int{2}, []float64{1, 0}),
	})
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := Load(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Train.Len() != 6 || d.Test.Len() != 2 || !slices.Equal(d.Train.Shape, []int{1, 2, 3}) || d.Train.Classes != 3 {
		t.Fatalf("train %d %v %d classes, test %d", d.Train.Len(), d.Train.Shape, d.Train.Classes, d.Test.Len())
	}
	if got := d.Train.Sample(1)[2]; got != 8.0/255 {
		t.Errorf("pixel %v, want 8/255", got)
	}
}

// TestNPYChannelsLast reads an (N, H, W, C) float array as planes.
func TestNPYChannelsLast(t *testing.T) {
	dir := t.TempDir()
	x := []float64{ // two 1×2 RGB images
		0.1, 0.2, 0.3, 0.4, 0.5, 0.6,
		0.7, 0.8, 0.9, 1.0, 0.0, 0.5,
	}
	xs, ys := filepath.Join(dir, "x.npy"), filepath.Join(dir, "y.npy")
	os.WriteFile(xs, npyBytes("<f4", []int{2, 1, 2, 3}, x), 0o644)
	os.WriteFile(ys, npyBytes("<i8", []int{2}, []float64{1, 0}), 0o644)
	d, err := Load(xs+","+ys, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := d.Train
	want := []float32{0.1, 0.4, 0.2, 0.5, 0.3, 0.6}
	if !slices.Equal(s.Shape, []int{3, 1, 2}) || !slices.Equal(s.Sample(0), want) || !slices.Equal(s.Y, []int32{1, 0}) {
		t.Errorf("shape %v, sample 0 %v (want %v), labels %v", s.Shape, s.Sample(0), want, s.Y)
	}
}

func TestNPYErrors(t *testing.T) {
	good := npyBytes("|u1", []int{2, 2, 2}, seqValues(8, 9))
	fortran := bytes.Replace(good, []byte("False"), []byte("True "), 1)
	big := bytes.Replace(good, []byte("|u1"), []byte(">i4"), 1)
	cases := []struct {
		name   string
		arrays map[string][]byte
		want   string
	}{
		{"fortran order", map[string][]byte{"x": fortran, "y": npyBytes("|u1", []int{2}, []float64{0, 1})}, "Fortran-ordered"},
		{"big endian", map[string][]byte{"x": big, "y": npyBytes("|u1", []int{2}, []float64{0, 1})}, `element type ">i4"`},
		{"label count", map[string][]byte{"x": good, "y": npyBytes("|u1", []int{3}, []float64{0, 1, 1})}, "2 images and 3 labels"},
		{"float labels", map[string][]byte{"x": good, "y": npyBytes("<f4", []int{2}, []float64{0, 1})}, "one integer label a sample"},
		{"truncated", map[string][]byte{"x": good[:len(good)-3], "y": npyBytes("|u1", []int{2}, []float64{0, 1})}, "holds 5 bytes, want 8"},
		{"flat without a shape", map[string][]byte{"x": npyBytes("|u1", []int{2, 4}, seqValues(8, 9)), "y": npyBytes("|u1", []int{2}, []float64{0, 1})}, "with a shape given"},
		{"no known names", map[string][]byte{"pics": good}, "want x_train and y_train"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "d.npz")
			os.WriteFile(path, npzBytes(t, tc.arrays), 0o644)
			_, err := Load(path, Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) || strings.Contains(err.Error(), "\n") {
				t.Errorf("Load: %v, want one line naming the file and containing %q", err, tc.want)
			}
		})
	}
	single := filepath.Join(t.TempDir(), "x.npy")
	os.WriteFile(single, good, 0o644)
	if _, err := Load(single, Options{}); err == nil || !strings.Contains(err.Error(), "IMAGES.npy,LABELS.npy") {
		t.Errorf("a lone .npy: %v", err)
	}
}

func FuzzReadNPY(f *testing.F) {
	f.Add(npyBytes("|u1", []int{2, 2, 2}, seqValues(8, 9)))
	f.Add(npyBytes("<f4", []int{1, 1, 2, 3}, seqValues(6, 1)))
	f.Add(npyBytes("<i8", []int{3}, []float64{0, 1, 2}))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := readNPY(bytes.NewReader(b))
		if err != nil {
			return
		}
		n := 1
		for _, d := range a.shape {
			n *= d
		}
		if n != len(a.values) {
			t.Fatalf("shape %v holds %d values, got %d", a.shape, n, len(a.values))
		}
	})
}
