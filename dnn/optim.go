package dnn

import "math"

// Optimizer updates parameters in place from the gradients of the last
// Backward. Step must be given the same parameters, in the same order, at
// every call: optimizers keep per-parameter state by position.
type Optimizer interface {
	Step(params []*Param, lr float64)
}

var (
	_ Optimizer = (*SGD)(nil)
	_ Optimizer = (*Adam)(nil)
)

// SGD is stochastic gradient descent with momentum μ and coupled weight
// decay λ, as PyTorch's torch.optim.SGD:
//
//	g = ∇w + λ·w        (λ only where Param.Decay)
//	v = μ·v + g
//	w = w − lr·v              (classical)
//	w = w − lr·(g + μ·v)      (Nesterov)
type SGD struct {
	Momentum    float64
	Nesterov    bool
	WeightDecay float64
	vel         [][]float32
}

// Step applies one update. Cost: O(number of parameter values).
func (o *SGD) Step(params []*Param, lr float64) {
	if o.vel == nil && o.Momentum != 0 {
		o.vel = make([][]float32, len(params))
		for i, p := range params {
			o.vel[i] = make([]float32, len(p.Value))
		}
	}
	mu, rate := float32(o.Momentum), float32(lr)
	for i, p := range params {
		var wd float32
		if p.Decay {
			wd = float32(o.WeightDecay)
		}
		w, g := p.Value, p.Grad[:len(p.Value)]
		if o.Momentum == 0 {
			for j, gj := range g {
				w[j] -= rate * (gj + wd*w[j])
			}
			continue
		}
		v := o.vel[i][:len(w)]
		for j, gj := range g {
			gj += wd * w[j]
			v[j] = mu*v[j] + gj
			if o.Nesterov {
				gj += mu * v[j]
			} else {
				gj = v[j]
			}
			w[j] -= rate * gj
		}
	}
}

// Adam is Adam with decoupled weight decay (AdamW, Loshchilov and Hutter):
//
//	m = β₁·m + (1 − β₁)·∇w,   v = β₂·v + (1 − β₂)·∇w²
//	w = w − lr·( m/(1 − β₁ᵗ) / (√(v/(1 − β₂ᵗ)) + ε) + λ·w )
//
// Zero Beta1, Beta2 and Eps mean 0.9, 0.999 and 1e-8.
type Adam struct {
	Beta1, Beta2, Eps float64
	WeightDecay       float64
	t                 int
	m, v              [][]float32
}

// Step applies one update. Cost: O(number of parameter values).
func (o *Adam) Step(params []*Param, lr float64) {
	b1, b2, eps := o.Beta1, o.Beta2, o.Eps
	if b1 == 0 {
		b1 = 0.9
	}
	if b2 == 0 {
		b2 = 0.999
	}
	if eps == 0 {
		eps = 1e-8
	}
	if o.m == nil {
		o.m, o.v = make([][]float32, len(params)), make([][]float32, len(params))
		for i, p := range params {
			o.m[i], o.v[i] = make([]float32, len(p.Value)), make([]float32, len(p.Value))
		}
	}
	o.t++
	c1 := 1 - math.Pow(b1, float64(o.t))
	c2 := 1 - math.Pow(b2, float64(o.t))
	// Fold the bias corrections into the step: m̂/(√v̂ + ε) = m/c1 / (√v/√c2 + ε).
	step := float32(lr / c1)
	sc2 := float32(1 / math.Sqrt(c2))
	fb1, fb2, feps := float32(b1), float32(b2), float32(eps)
	for i, p := range params {
		var decay float32
		if p.Decay {
			decay = float32(lr * o.WeightDecay)
		}
		w, g := p.Value, p.Grad[:len(p.Value)]
		m, v := o.m[i][:len(w)], o.v[i][:len(w)]
		for j, gj := range g {
			m[j] = fb1*m[j] + (1-fb1)*gj
			v[j] = fb2*v[j] + (1-fb2)*gj*gj
			w[j] -= step*m[j]/(float32(math.Sqrt(float64(v[j])))*sc2+feps) + decay*w[j]
		}
	}
}
