package offload

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/tandem-edge/tandem/scenarios"
)

func TestNew(t *testing.T) {
	learned := &Threshold{Feature: Entropy, T: 0.5} // any policy stands in for a trained offloader
	src := rand.NewPCG(1, 2)
	tests := []struct {
		name     string
		policy   scenarios.Policy
		opt      Options
		wantName string
		wantErr  error // nil: success; errAny: any error
	}{
		{"edge-only", scenarios.Policy{Kind: "edge-only"}, Options{}, KindEdgeOnly, nil},
		{"cloud-only", scenarios.Policy{Kind: "cloud-only"}, Options{}, KindCloudOnly, nil},
		{"random", scenarios.Policy{Kind: "random", P: 0.2}, Options{Src: src}, KindRandom, nil},
		{"random without source", scenarios.Policy{Kind: "random", P: 0.2}, Options{}, "", errAny},
		{"random bad p", scenarios.Policy{Kind: "random", P: 2}, Options{Src: src}, "", errAny},
		{"threshold", scenarios.Policy{Kind: "threshold", Feature: "margin", Threshold: 0.1}, Options{}, KindThreshold, nil},
		{"threshold bad feature", scenarios.Policy{Kind: "threshold", Feature: "confidence", Threshold: 0.1}, Options{}, "", errAny},
		{"threshold bad value", scenarios.Policy{Kind: "threshold", Feature: "max_prob", Threshold: 3}, Options{}, "", errAny},
		{"oracle", scenarios.Policy{Kind: "oracle"}, Options{}, KindOracle, nil},
		{"learned without offloader", scenarios.Policy{Kind: "learned"}, Options{}, "", ErrNoOffloader},
		{"learned", scenarios.Policy{Kind: "learned"}, Options{Learned: learned}, KindThreshold, nil},
		{"unknown", scenarios.Policy{Kind: "coin"}, Options{}, "", errAny},
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
