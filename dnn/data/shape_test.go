package data

import (
	"strings"
	"testing"
)

func TestCheckShape(t *testing.T) {
	s := &Set{Name: FashionMNIST, Shape: []int{1, 28, 28}}
	tests := []struct {
		want    []int
		wantErr string
	}{
		{want: []int{1, 28, 28}},
		{want: []int{1, -1, -1}},
		{want: []int{3, 32, 32}, wantErr: "dataset fashion-mnist has samples 1x28x28, model expects 3x32x32"},
		{want: []int{784}, wantErr: "model expects 784"},
		{want: []int{-1, 28, 28, 1}, wantErr: "model expects ?x28x28x1"},
	}
	for _, tt := range tests {
		err := CheckShape(s, tt.want)
		if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("CheckShape(%v) = %v, want %q", tt.want, err, tt.wantErr)
		}
	}
}

func TestParseShape(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr string
	}{
		{in: "1x28x28", want: "1x28x28"},
		{in: "3,32,32", want: "3x32x32"},
		{in: "3×32×32", want: "3x32x32"},
		{in: "", wantErr: "want dimensions"},
		{in: "1x0x28", wantErr: `dimension "0" is not a positive integer`},
		{in: "1xax2", wantErr: `dimension "a"`},
	}
	for _, tt := range tests {
		got, err := ParseShape(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseShape(%q) error %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || FormatShape(got) != tt.want {
			t.Errorf("ParseShape(%q) = %v, %v, want %s", tt.in, got, err, tt.want)
		}
	}
}
