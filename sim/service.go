package sim

import (
	"fmt"
	"github.com/tandem-edge/tandem/deploy"
	"math"
	"math/rand/v2"
	"time"

	"github.com/tandem-edge/tandem/profiles"
	"github.com/tandem-edge/tandem/scenarios"
)

type dist uint8

const (
	distFixed dist = iota
	distExponential
	distLognormal
)

// service draws the service time of a stage: a base time per batch size,
// scaled by a random factor of mean 1.
//
// A scenario's service override gives the base (its mean, whatever the batch
// size) and the factor's distribution. Without one, the base is the model's
// profiled latency of the batch and the factor is lognormal with the
// profile's run-to-run coefficient of variation (Model.Spread); a profile
// with no spread gives fixed times. A lognormal factor of mean 1 and
// coefficient of variation cv is
//
//	σ² = ln(1 + cv²),  factor = exp(σ·N(0,1) − σ²/2)
type service struct {
	base  []time.Duration // base[b-1]: batch of b; the last entry serves larger batches
	dist  dist
	sigma float64
}

// newService builds a stage's service from the scenario's override, or else
// from the model's profile, for batches of up to maxBatch. stage names the
// stage in errors.
func newService(stage string, o *scenarios.Service, m *profiles.Model, maxBatch int) (service, error) {
	if o != nil {
		mean := o.Mean.D()
		if mean < 0 {
			return service{}, fmt.Errorf("sim: %s service: negative mean %v", stage, mean)
		}
		s := service{base: []time.Duration{mean}}
		switch o.Dist {
		case scenarios.DistDeterministic:
		case scenarios.DistExponential:
			s.dist = distExponential
		case scenarios.DistLognormal:
			if !(o.CV >= 0) {
				return service{}, fmt.Errorf("sim: %s service: lognormal cv %v is negative", stage, o.CV)
			}
			if o.CV > 0 {
				s.dist, s.sigma = distLognormal, math.Sqrt(math.Log1p(o.CV*o.CV))
			}
		default:
			return service{}, fmt.Errorf("sim: %s service: unknown distribution %q (want deterministic, exponential or lognormal)", stage, o.Dist)
		}
		return s, nil
	}
	if m == nil {
		return service{}, fmt.Errorf("sim: %s service: no model profile and no service override", stage)
	}
	if m.Latency <= 0 && len(m.Batches) == 0 {
		return service{}, fmt.Errorf("sim: %s service: model %q has no latency", stage, m.Name)
	}
	s := service{base: make([]time.Duration, max(maxBatch, 1))}
	for b := range s.base {
		s.base[b] = m.BatchLatency(b + 1)
		if s.base[b] < 0 {
			return service{}, fmt.Errorf("sim: %s service: model %q has negative latency %v at batch %d", stage, m.Name, s.base[b], b+1)
		}
	}
	if !(m.Spread >= 0) {
		return service{}, fmt.Errorf("sim: %s service: model %q has negative spread %v", stage, m.Name, m.Spread)
	}
	if m.Spread > 0 {
		s.dist, s.sigma = distLognormal, math.Sqrt(math.Log1p(m.Spread*m.Spread))
	}
	return s, nil
}

// draw returns the service time of a batch of b requests.
func (s *service) draw(rng *rand.Rand, b int) time.Duration {
	base := s.base[min(b, len(s.base))-1]
	switch s.dist {
	case distExponential:
		return deploy.DurationOf(rng.ExpFloat64() * float64(base))
	case distLognormal:
		// Products rounded on their own, so no architecture fuses them.
		f := math.Exp(float64(s.sigma*rng.NormFloat64()) - float64(s.sigma*s.sigma)/2)
		return deploy.DurationOf(f * float64(base))
	}
	return base
}
