package oip_test

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tandem-edge/tandem/hil"
	"github.com/tandem-edge/tandem/hil/hiltest"
)

// TestServeORTSession serves a real model through ONNX Runtime and checks
// that the logits that come back over HTTP are the session's own, for a
// batch sent at once and for samples sent one by one.
func TestServeORTSession(t *testing.T) {
	hiltest.RequireORT(t)
	path := hiltest.TinyModel(t)
	direct, err := hil.Open(path, hil.Options{IntraOpThreads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close()
	c := serve(t, path, "tiny", 4, time.Millisecond)

	const n = 3
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, n*direct.InputSize())
	for i := range x {
		x[i] = rng.Float32()
	}
	want := make([]float32, n*direct.OutputSize())
	if err := direct.Run(want, x, n); err != nil {
		t.Fatal(err)
	}
	got, err := c.Infer(context.Background(), x, n)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("logit %d: %v over HTTP, %v from the session", i, got[i], want[i])
		}
	}
	k := direct.InputSize()
	for i := range n {
		y, err := c.Infer(context.Background(), x[i*k:(i+1)*k], 1)
		if err != nil {
			t.Fatal(err)
		}
		for j, v := range y {
			if d := v - want[i*direct.OutputSize()+j]; d > 1e-5 || d < -1e-5 {
				t.Fatalf("sample %d logit %d: %v alone, %v in a batch", i, j, v, want[i*direct.OutputSize()+j])
			}
		}
	}
}
