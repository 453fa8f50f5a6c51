package profiles

import (
	"fmt"
	"math"

	"github.com/tandem-edge/tandem/scenarios/strictyaml"
)

// knownKernels are the kernel classes a predictor section may name.
var knownKernels = map[Kernel]bool{
	KernelConvNCHWc: true, KernelConvNCHWcIn: true, KernelConv: true, KernelGemm: true, KernelPoolNCHWc: true,
	KernelPool: true, KernelGlobalPool: true, KernelElementwise: true, KernelReshape: true,
}

// check validates a predictor section read from a file or made in code;
// a nil predictor is valid (a profile without one).
func (p *Predictor) check(c *strictyaml.Checker) {
	if p == nil {
		return
	}
	const at = "predictor"
	if p.ChannelBlock < 0 {
		c.Errorf(at+".channel_block", "must be >= 0, got %d", p.ChannelBlock)
	}
	if p.ChannelAlign < 0 || p.ChannelAlign > max(p.ChannelBlock, 0) {
		c.Errorf(at+".channel_align", "must be between 0 and channel_block (%d), got %d", p.ChannelBlock, p.ChannelAlign)
	}
	if p.Overhead < 0 {
		c.Errorf(at+".overhead", "must be >= 0, got %s", strictyaml.FormatDuration(p.Overhead))
	}
	if len(p.Kernels) == 0 {
		c.Errorf(at+".kernels", "required: at least one kernel model")
	}
	seen := map[Kernel]int{}
	for i, m := range p.Kernels {
		kp := fmt.Sprintf("%s.kernels[%d]", at, i)
		switch first, dup := seen[m.Kernel]; {
		case !knownKernels[m.Kernel]:
			c.Errorf(kp+".kernel", "unknown kernel class %q", m.Kernel)
		case dup:
			c.Errorf(kp+".kernel", "kernel class %q already modelled in kernels[%d]", m.Kernel, first)
		default:
			seen[m.Kernel] = i
		}
		if m.Samples < 0 {
			c.Errorf(kp+".samples", "must be >= 0, got %d", m.Samples)
		}
		if len(m.Knots) == 0 {
			c.Errorf(kp+".knots", "required: at least one knot")
		}
		for j, k := range m.Knots {
			jp := fmt.Sprintf("%s.knots[%d]", kp, j)
			if k.FLOPs < 0 {
				c.Errorf(jp+".flops", "must be >= 0, got %d", k.FLOPs)
			} else if j > 0 && k.FLOPs <= m.Knots[j-1].FLOPs {
				c.Errorf(jp+".flops", "knots must be in ascending FLOPs, got %d after %d", k.FLOPs, m.Knots[j-1].FLOPs)
			}
			if k.Latency < 0 {
				c.Errorf(jp+".latency", "must be >= 0, got %s", strictyaml.FormatDuration(k.Latency))
			}
		}
		if m.NsPerByte < 0 || math.IsNaN(m.NsPerByte) {
			c.Errorf(kp+".ns_per_byte", "must be >= 0, got %g", m.NsPerByte)
		}
	}
	for j, b := range p.Batches {
		bp := fmt.Sprintf("%s.batches[%d]", at, j)
		if b.Size < 2 {
			c.Errorf(bp+".size", "must be >= 2 (batch 1 is the prediction itself), got %d", b.Size)
		} else if j > 0 && b.Size <= p.Batches[j-1].Size {
			c.Errorf(bp+".size", "batch sizes must be ascending, got %d after %d", b.Size, p.Batches[j-1].Size)
		}
		if !(b.Factor > 0) {
			c.Errorf(bp+".factor", "must be > 0, got %g", b.Factor)
		}
	}
	if p.Samples < 0 {
		c.Errorf(at+".samples", "must be >= 0, got %d", p.Samples)
	}
	if p.FitError < 0 {
		c.Errorf(at+".fit_error", "must be >= 0, got %g", p.FitError)
	}
	if h := p.HeldOut; h != nil {
		if h.Networks < 1 {
			c.Errorf(at+".held_out.networks", "must be >= 1, got %d", h.Networks)
		}
		if h.Within10 < 0 || h.Within10 > 1 {
			c.Errorf(at+".held_out.within_10pct", "must be a fraction between 0 and 1, got %g", h.Within10)
		}
		if h.MedianError < 0 {
			c.Errorf(at+".held_out.median_error", "must be >= 0, got %g", h.MedianError)
		}
	}
}
