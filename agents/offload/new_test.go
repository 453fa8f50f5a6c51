package offload

import (
	"errors"
	"math/rand/v2"
	"testing"
)

func TestNew(t *testing.T) {
	learned := &Threshold{Feature: Entropy, T: 0.5} // any policy stands in for a trained offloader
	src := rand.NewPCG(1, 2)
	tests := []struct {
		name     string
		policy   Spec
		opt      Options
		wantName string
		wantErr  error // nil: success; errAny: any error
	}{
		{"edge-only", Spec{Kind: "edge-only"}, Options{}, KindEdgeOnly, nil},
		{"cloud-only", Spec{Kind: "cloud-only"}, Options{}, KindCloudOnly, nil},
		{"random", Spec{Kind: "random", P: 0.2}, Options{Src: src}, KindRandom, nil},
		{"random without source", Spec{Kind: "random", P: 0.2}, Options{}, "", errAny},
		{"random bad p", Spec{Kind: "random", P: 2}, Options{Src: src}, "", errAny},
		{"threshold", Spec{Kind: "threshold", Feature: "margin", Threshold: 0.1}, Options{}, KindThreshold, nil},
		{"threshold bad feature", Spec{Kind: "threshold", Feature: "confidence", Threshold: 0.1}, Options{}, "", errAny},
		{"threshold bad value", Spec{Kind: "threshold", Feature: "max_prob", Threshold: 3}, Options{}, "", errAny},
		{"oracle", Spec{Kind: "oracle"}, Options{}, KindOracle, nil},
		{"learned without offloader", Spec{Kind: "learned"}, Options{}, "", ErrNoOffloader},
		{"learned", Spec{Kind: "learned"}, Options{Learned: learned}, KindThreshold, nil},
		{"unknown", Spec{Kind: "coin"}, Options{}, "", errAny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := New(tt.policy, tt.opt)
			switch {
			case tt.wantErr == nil && err != nil:
				t.Fatalf("New: %v", err)
			case tt.wantErr != nil && err == nil:
				t.Fatalf("New = %s, want an error", p.Name())
			case tt.wantErr != nil && tt.wantErr != errAny && !errors.Is(err, tt.wantErr):
				t.Fatalf("New: %v, want %v", err, tt.wantErr)
			case err == nil && p.Name() != tt.wantName:
				t.Fatalf("New = %s, want %s", p.Name(), tt.wantName)
			}
		})
	}
}

var errAny = errors.New("any error")
