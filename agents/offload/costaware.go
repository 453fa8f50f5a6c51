package offload

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// KindCostAware is the policy that weighs what offloading may gain against
// what it costs now.
const KindCostAware = "cost-aware"

// Costs are what a request pays for going to the cloud, as far as a device
// can tell before sending it: the fixed parts of the deployment, to which
// CostAware adds what its Context says of the queues.
type Costs struct {
	RequestBytes, ResponseBytes int
	RTT                         time.Duration
	// CloudService is one request's service time on a cloud server
	// (batch 1), and Servers the pool's size.
	CloudService time.Duration
	Servers      int
}

// CostAware offloads a sample when the accuracy offloading is expected to
// gain is worth the latency it is expected to cost now:
//
//	offload  ⇔  score(s) ≥ λ · E[cloud round trip | ctx]  (in milliseconds)
//
// where score is the trained offloader's estimate that offloading helps
// (the edge wrong and the cloud right) and the round trip is the uplink's
// backlog, the transfer at the link's rate, the round trip time, the
// cloud's queue shared over its servers, the service itself and the answer's
// way back. On an idle deployment it is a fixed threshold on the score; as
// the uplink or the cloud queues up, the bar rises and more requests stay
// on the edge, so the deployment degrades gracefully instead of queueing.
// λ is accuracy per millisecond: λ = 0.001 offloads for 20 ms a sample
// whose offloading helps with probability 2% or more.
//
// It keeps scratch space, so each device needs its own (NewCostAware).
type CostAware struct {
	learned *Learned
	lambda  float64
	costs   Costs
}

// NewCostAware returns the cost-aware policy of offloader o at price
// lambda per millisecond.
func NewCostAware(o *Offloader, lambda float64, c Costs) (*CostAware, error) {
	switch {
	case o == nil:
		return nil, ErrNoOffloader
	case !(lambda >= 0) || math.IsInf(lambda, 1):
		return nil, fmt.Errorf("offload: cost-aware policy: lambda %v: want a finite price ≥ 0 per millisecond", lambda)
	case c.Servers < 1:
		return nil, errors.New("offload: cost-aware policy: the cloud has no servers")
	}
	return &CostAware{learned: NewLearned(o), lambda: lambda, costs: c}, nil
}

func (p *CostAware) Name() string    { return KindCostAware }
func (p *CostAware) EdgeFirst() bool { return true }

// Decide compares the sample's score with the price of its round trip.
func (p *CostAware) Decide(s *Sample, ctx *Context) Decision {
	if p.learned.score(s) >= p.lambda*p.RoundTrip(ctx).Seconds()*1e3 {
		return Cloud
	}
	return Edge
}

// RoundTrip is the expected time from sending a request to the cloud to
// its answer, given what ctx says of the link and the queues.
func (p *CostAware) RoundTrip(ctx *Context) time.Duration {
	c := &p.costs
	var transfer float64 // seconds on the wire, both ways
	if ctx.UplinkMbps > 0 {
		transfer = float64(8*(c.RequestBytes+c.ResponseBytes)) / (ctx.UplinkMbps * 1e6)
	}
	waiting := float64(float64(ctx.CloudQueue) / float64(c.Servers) * c.CloudService.Seconds())
	return ctx.UplinkBacklog + c.RTT + c.CloudService + time.Duration(float64(transfer+waiting)*1e9)
}
