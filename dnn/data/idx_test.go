package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// idxBytes encodes an IDX file of unsigned bytes with the given magic and dimensions.
func idxBytes(magic uint32, dims []uint32, payload []byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, magic)
	for _, d := range dims {
		binary.Write(&b, binary.BigEndian, d)
	}
	b.Write(payload)
	return b.Bytes()
}

func gzipBytes(t testing.TB, raw []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write(raw); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// writeIDXPair writes n images of h×w (pixel = (i+p) mod 256) and labels i mod classes.
func writeIDXPair(t testing.TB, dir, prefix string, n, h, w, classes int, gz bool) (images, labels string) {
	t.Helper()
	pix := make([]byte, n*h*w)
	for i := range pix {
		pix[i] = byte(i)
	}
	lab := make([]byte, n)
	for i := range lab {
		lab[i] = byte(i % classes)
	}
	img := idxBytes(idxImagesMagic, []uint32{uint32(n), uint32(h), uint32(w)}, pix)
	lbl := idxBytes(idxLabelsMagic, []uint32{uint32(n)}, lab)
	suffix := ""
	if gz {
		img, lbl, suffix = gzipBytes(t, img), gzipBytes(t, lbl), ".gz"
	}
	images = filepath.Join(dir, prefix+"images-idx3-ubyte"+suffix)
	labels = filepath.Join(dir, prefix+"labels-idx1-ubyte"+suffix)
	if err := os.WriteFile(images, img, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(labels, lbl, 0o644); err != nil {
		t.Fatal(err)
	}
	return images, labels
}

func TestReadIDXImages(t *testing.T) {
	good := idxBytes(idxImagesMagic, []uint32{2, 2, 3}, []byte{0, 255, 51, 102, 0, 0, 1, 2, 3, 4, 5, 6})
	tests := []struct {
		name    string
		in      []byte
		n, h, w int
		first   []float32
		wantErr string
	}{
		{name: "plain", in: good, n: 2, h: 2, w: 3, first: []float32{0, 1, 0.2, 0.4}},
		{name: "gzipped", in: gzipBytes(t, good), n: 2, h: 2, w: 3, first: []float32{0, 1, 0.2, 0.4}},
		{name: "empty file", in: nil, wantErr: "reading the magic number: file ends early"},
		{name: "labels magic", in: idxBytes(idxLabelsMagic, []uint32{1}, []byte{1}),
			wantErr: "wrong magic 0x00000801: want 0x00000803 (idx3 ubyte images)"},
		{name: "float idx3", in: idxBytes(0x00000d03, []uint32{1, 1, 1}, make([]byte, 4)),
			wantErr: "wrong magic 0x00000d03: want 0x00000803"},
		{name: "header cut", in: good[:9], wantErr: "reading dimension 1: file ends early"},
		{name: "short payload", in: good[:len(good)-1], wantErr: "dimensions [2 2 3] need 12 bytes of data, file has 11"},
		{name: "trailing bytes", in: append(append([]byte(nil), good...), 7), wantErr: "file has more"},
		{name: "no images", in: idxBytes(idxImagesMagic, []uint32{0, 28, 28}, nil), wantErr: "holds no images"},
		{name: "zero width", in: idxBytes(idxImagesMagic, []uint32{3, 28, 0}, nil), wantErr: "images of 28x0 pixels"},
		{name: "huge claim", in: idxBytes(idxImagesMagic, []uint32{1 << 20, 1 << 20, 1}, nil), wantErr: "claim more than"},
		{name: "bad gzip", in: []byte{0x1f, 0x8b, 0, 0}, wantErr: "gzip:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x, n, h, w, err := ReadIDXImages(bytes.NewReader(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n != tt.n || h != tt.h || w != tt.w || len(x) != n*h*w {
				t.Fatalf("got %d images of %dx%d (%d pixels), want %d of %dx%d", n, h, w, len(x), tt.n, tt.h, tt.w)
			}
			for i, v := range tt.first {
				if x[i] != v {
					t.Errorf("pixel %d = %g, want %g", i, x[i], v)
				}
			}
		})
	}
}

func TestReadIDXLabels(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		want    []int32
		wantErr string
	}{
		{name: "plain", in: idxBytes(idxLabelsMagic, []uint32{3}, []byte{9, 0, 4}), want: []int32{9, 0, 4}},
		{name: "gzipped", in: gzipBytes(t, idxBytes(idxLabelsMagic, []uint32{1}, []byte{7})), want: []int32{7}},
		{name: "images magic", in: idxBytes(idxImagesMagic, []uint32{1, 1, 1}, []byte{0}),
			wantErr: "wrong magic 0x00000803: want 0x00000801 (idx1 ubyte labels)"},
		{name: "none", in: idxBytes(idxLabelsMagic, []uint32{0}, nil), wantErr: "holds no labels"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			y, err := ReadIDXLabels(bytes.NewReader(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(y) != len(tt.want) {
				t.Fatalf("got %v, want %v", y, tt.want)
			}
			for i := range y {
				if y[i] != tt.want[i] {
					t.Fatalf("got %v, want %v", y, tt.want)
				}
			}
		})
	}
}

func TestReadIDXPair(t *testing.T) {
	dir := t.TempDir()
	images, labels := writeIDXPair(t, dir, "a-", 5, 4, 3, 3, true)
	s, err := ReadIDXPair("a", images, labels)
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != 5 || FormatShape(s.Shape) != "1x4x3" || s.Classes != 3 || len(s.X) != 60 {
		t.Fatalf("got %d samples of %v, %d classes, %d pixels", s.Len(), s.Shape, s.Classes, len(s.X))
	}

	_, otherLabels := writeIDXPair(t, dir, "b-", 4, 4, 3, 3, false)
	_, err = ReadIDXPair("a", images, otherLabels)
	want := "data: " + otherLabels + ": has 4 labels but " + images + " has 5 images"
	if err == nil || err.Error() != want {
		t.Fatalf("error %v, want %q", err, want)
	}

	_, err = ReadIDXPair("a", labels, labels)
	want = "data: " + labels + ": wrong magic 0x00000801: want 0x00000803 (idx3 ubyte images)"
	if err == nil || err.Error() != want {
		t.Fatalf("error %v, want %q", err, want)
	}
}

// FuzzReadIDX feeds arbitrary bytes, gzipped or not, to both IDX readers:
// they must return data consistent with the header or an error, never panic.
// Inputs that once failed are kept in testdata/fuzz/FuzzReadIDX.
func FuzzReadIDX(f *testing.F) {
	f.Add(idxBytes(idxImagesMagic, []uint32{1, 2, 2}, []byte{0, 1, 2, 255}))
	f.Add(idxBytes(idxLabelsMagic, []uint32{2}, []byte{3, 4}))
	f.Add(gzipBytes(f, idxBytes(idxImagesMagic, []uint32{2, 1, 1}, []byte{9, 8})))
	f.Add(idxBytes(idxImagesMagic, []uint32{0xffffffff, 0xffffffff, 0xffffffff}, nil))
	f.Add([]byte{0x1f, 0x8b})
	f.Fuzz(func(t *testing.T, in []byte) {
		x, n, h, w, err := ReadIDXImages(bytes.NewReader(in))
		if err == nil {
			if n <= 0 || h <= 0 || w <= 0 || len(x) != n*h*w {
				t.Fatalf("%d images of %dx%d with %d pixels", n, h, w, len(x))
			}
			for _, v := range x {
				if !(v >= 0 && v <= 1) {
					t.Fatalf("pixel %g outside [0, 1]", v)
				}
			}
		}
		y, err := ReadIDXLabels(bytes.NewReader(in))
		if err == nil {
			for _, v := range y {
				if v < 0 || v > 255 {
					t.Fatalf("label %d outside a byte", v)
				}
			}
		}
	})
}
