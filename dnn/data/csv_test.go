package data

import (
	"strings"
	"testing"
)

func TestReadCSV(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		shape   []int
		want    *Set
		wantErr string
	}{
		{name: "0-255 square", in: "1,0,255,51,102\n0,0,0,0,0\n",
			want: &Set{Shape: []int{1, 2, 2}, Classes: 2, X: []float32{0, 1, 0.2, 0.4, 0, 0, 0, 0}, Y: []int32{1, 0}}},
		{name: "0-1 with header", in: "label,p1,p2,p3,p4\n3, 0.5, 1, 0, 0.25\n",
			want: &Set{Shape: []int{1, 2, 2}, Classes: 4, X: []float32{0.5, 1, 0, 0.25}, Y: []int32{3}}},
		{name: "given shape", in: "0,1,2,3,4,5,6\n", shape: []int{2, 1, 3},
			want: &Set{Shape: []int{2, 1, 3}, Classes: 1, X: []float32{1. / 255, 2. / 255, 3. / 255, 4. / 255, 5. / 255, 6. / 255}, Y: []int32{0}}},
		{name: "not square", in: "0,1,2,3\n", wantErr: "rows have 3 pixels, not a square image"},
		{name: "shape mismatch", in: "0,1,2,3,4\n", shape: []int{1, 3, 3}, wantErr: "rows have 4 pixels, shape 1x3x3 needs 9"},
		{name: "ragged", in: "0,1,2,3,4\n1,1,2,3\n", wantErr: "row 2: 3 pixels, earlier rows have 4"},
		{name: "pixel too big", in: "0,1,2,3,256\n", wantErr: `row 1, column 5: pixel "256" is not a number in [0, 255]`},
		{name: "pixel not a number", in: "0,1,x,3,4\n", wantErr: `pixel "x"`},
		{name: "negative label", in: "0,1,2,3,4\n-1,1,2,3,4\n", wantErr: "row 2: label -1 is negative"},
		{name: "bad label", in: "0,1,2,3,4\ncat,1,2,3,4\n", wantErr: `row 2: label "cat" is not an integer`},
		{name: "header only", in: "label,a,b\n", wantErr: "holds no samples"},
		{name: "label only", in: "3\n", wantErr: "a label and no pixels"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ReadCSV(strings.NewReader(tt.in), "t.csv", tt.shape)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if FormatShape(s.Shape) != FormatShape(tt.want.Shape) || s.Classes != tt.want.Classes || s.Name != "t.csv" {
				t.Fatalf("got %s %s with %d classes, want %s with %d", s.Name, FormatShape(s.Shape), s.Classes, FormatShape(tt.want.Shape), tt.want.Classes)
			}
			if len(s.X) != len(tt.want.X) || len(s.Y) != len(tt.want.Y) {
				t.Fatalf("got %v %v, want %v %v", s.X, s.Y, tt.want.X, tt.want.Y)
			}
			for i := range s.X {
				if d := s.X[i] - tt.want.X[i]; d > 1e-6 || d < -1e-6 {
					t.Fatalf("pixels %v, want %v", s.X, tt.want.X)
				}
			}
			for i := range s.Y {
				if s.Y[i] != tt.want.Y[i] {
					t.Fatalf("labels %v, want %v", s.Y, tt.want.Y)
				}
			}
		})
	}
}
