package onnx

import (
	"testing"
)

// FuzzDecode feeds Decode arbitrary bytes. It must return an error or a
// graph, never panic, and a graph it returns must encode and decode again:
// Decode promises only graphs that the rest of tandem can use.
func FuzzDecode(f *testing.F) {
	seeds := [][]byte{}
	for _, b := range []*modelBuilder{
		convStem(13).head("c"),
		convStem(11).
			node("Shape", "Shape_1", []string{"c"}, "s").
			constInts("zero", nil, 0).
			node("Gather", "Gather_2", []string{"s", "zero"}, "n").
			node("Unsqueeze", "Unsqueeze_3", []string{"n"}, "n1", attrInts("axes", 0)).
			constInts("minus1", []int64{1}, -1).
			node("Concat", "Concat_4", []string{"n1", "minus1"}, "shape", attrInt("axis", 0)).
			node("Reshape", "Reshape_5", []string{"c", "shape"}, "r").
			node("ReduceMean", "ReduceMean_6", []string{"c"}, "m", attrInts("axes", 2, 3), attrInt("keepdims", 0)).
			weights("w", seq(144, 4)).
			node("MatMul", "MatMul_7", []string{"r", "w"}, "mm").
			node("Add", "Add_8", []string{"mm", "m"}, "y").
			output("y", "batch", 4),
	} {
		seeds = append(seeds, b.bytes(f))
	}
	for _, g := range []func() []byte{
		func() []byte { b, _ := Encode(residualNet(1)); return b },
		func() []byte { b, _ := EncodeOptions{FoldBatchNorm: true}.Encode(residualNet(2)); return b },
		func() []byte { b, _ := Encode(mlp(1)); return b },
	} {
		seeds = append(seeds, g())
	}
	for _, s := range seeds {
		f.Add(s)
		f.Add(s[:len(s)/2])
		f.Add(s[:len(s)-1])
		for _, at := range []int{3, len(s) / 3, len(s) - 20} {
			m := append([]byte(nil), s...)
			m[at] ^= 0x5a
			f.Add(m)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := Decode(b)
		if err != nil {
			return
		}
		out, err := Encode(g)
		if err != nil {
			t.Fatalf("decoded graph does not encode: %v\n%s", err, describe(g))
		}
		if _, err := Decode(out); err != nil {
			t.Fatalf("re-encoded graph does not decode: %v\n%s", err, describe(g))
		}
	})
}
