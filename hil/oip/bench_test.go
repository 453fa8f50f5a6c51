package oip_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/tandem-edge/tandem/hil/hiltest"
)

// BenchmarkServeHeavy sends single-sample requests from parallel clients
// over loopback HTTP to the built-in bundle's heavy model (1×28×28 in, 10
// out), without batching and batching up to 8, the tensors as JSON numbers
// or as binary data: one op is one request.
func BenchmarkServeHeavy(b *testing.B) {
	hiltest.RequireORT(b)
	for _, bc := range []struct {
		name     string
		maxBatch int
		maxWait  time.Duration
		binary   bool
	}{{"batch1", 1, 0, false}, {"batch8", 8, 500 * time.Microsecond, false}, {"batch1-binary", 1, 0, true}, {"batch8-binary", 8, 500 * time.Microsecond, true}} {
		b.Run(bc.name, func(b *testing.B) {
			c := serve(b, filepath.Join("..", "..", "bundles", "fashion", "heavy.onnx"), "heavy", bc.maxBatch, bc.maxWait)
			c.Binary = bc.binary
			x := make([]float32, c.SampleSize())
			for i := range x {
				x[i] = float32(i%255) / 255
			}
			b.SetParallelism(4) // 4 clients a core
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := c.Infer(context.Background(), x, 1); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
