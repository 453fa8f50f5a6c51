package sim

import (
	"github.com/tandem-edge/tandem/deploy"
	"math"
	"testing"
	"time"
)

// The simulator against queueing theory. Each row runs enough requests that
// 2% is at least three standard errors of the estimate, so a fixed seed that
// passes is not a lucky one.
//
// M/M/1: the mean sojourn of n customers has a relative standard error of
// about
//
//	sqrt(2(1+ρ) / ((1−ρ)² n))
//
// (from the asymptotic variance of the time-average number in system,
// 2ρ(1+ρ)/(1−ρ)⁴ in service times; Whitt 1989). At ρ = 0.9 and n = 10⁶ that
// is 1.95%, so one run of 10⁶ requests would miss 2% one time in three (12
// seeds measured: sd 2.1%). The ρ = 0.9 row therefore runs 16·10⁶ requests:
// 0.49%, and 2% is four of them. Starting empty biases the mean low by less
// than 0.1% at that length.
//
// M/M/c: the waiting time W_q is a small part of the sojourn, and its mean
// varies more; measured over 12 seeds at 10⁶ requests, its relative standard
// deviation at ρ = 0.9 is 2.4% (c = 4) and 2.6% (c = 8). Each row's length
// brings it to at most 0.65%.

// mm1Sojourn is the mean time in system of an M/M/1 queue.
//
//	W = 1 / (μ − λ)
func mm1Sojourn(lambda, mu float64) float64 { return 1 / (mu - lambda) }

// erlangWq is the mean wait in queue of an M/M/c queue, by Erlang's C
// formula, with offered load a = λ/μ and ρ = a/c < 1:
//
//	C(c, a) = (aᶜ/c! · 1/(1−ρ)) / (Σ_{k<c} aᵏ/k! + aᶜ/c! · 1/(1−ρ))
//	W_q     = C(c, a) / (cμ − λ)
func erlangWq(c int, lambda, mu float64) float64 {
	a := lambda / mu
	rho := a / float64(c)
	term, sum := 1.0, 0.0 // term: aᵏ/k!
	for k := range c {
		sum += term
		term *= a / float64(k+1)
	}
	tail := term / (1 - rho)
	return tail / (sum + tail) / (float64(c)*mu - lambda)
}

func TestMM1(t *testing.T) {
	const mean = time.Millisecond // 1/μ
	tests := []struct {
		rho      float64
		requests int
	}{
		{0.5, 1_000_000},
		{0.7, 2_000_000},
		{0.8, 4_000_000},
		{0.9, 16_000_000},
	}
	for _, tt := range tests {
		t.Run("rho="+ftoa(tt.rho), func(t *testing.T) {
			if testing.Short() && tt.rho > 0.7 {
				t.Skip("long run")
			}
			t.Parallel()
			sc := baseScenario()
			sc.Seed = 11
			sc.Requests = tt.requests
			sc.Edge[0].Service = exp(mean)
			mu := 1 / mean.Seconds()
			sc.Workload.Rate = tt.rho * mu
			sum := run(t, Config{Scenario: sc, Outcomes: testOutcomes(16, 1)}, nil)
			want := mm1Sojourn(sc.Workload.Rate, mu) * 1e3
			rel := sum.LatencyMS.Mean/want - 1
			t.Logf("M/M/1 ρ=%.1f n=%d: mean sojourn %.5f ms, theory %.5f ms, error %+.3f%%", tt.rho, tt.requests, sum.LatencyMS.Mean, want, 100*rel)
			if math.Abs(rel) > 0.02 {
				t.Errorf("mean sojourn %.5f ms, want %.5f ms ± 2%% (error %+.2f%%)", sum.LatencyMS.Mean, want, 100*rel)
			}
			if u := sum.Utilization.Edge; math.Abs(u-tt.rho) > 0.01 {
				t.Errorf("edge utilization %.4f, want %.2f", u, tt.rho)
			}
		})
	}
}

// waitSum is a deploy.Recorder averaging the cloud queueing time.
type waitSum struct {
	n    int
	wait time.Duration
}

func (w *waitSum) Record(r *deploy.Record) error {
	w.n++
	w.wait += r.CloudQueue
	return nil
}

func TestMMc(t *testing.T) {
	const mean = time.Millisecond
	tests := []struct {
		c        int
		rho      float64
		requests int
	}{
		{4, 0.5, 1_000_000},
		{4, 0.7, 2_000_000},
		{4, 0.9, 16_000_000},
		{8, 0.6, 5_000_000},
		{8, 0.8, 8_000_000},
		{8, 0.9, 16_000_000},
	}
	for _, tt := range tests {
		t.Run("c="+itoa(tt.c)+"/rho="+ftoa(tt.rho), func(t *testing.T) {
			if testing.Short() && tt.rho > 0.7 {
				t.Skip("long run")
			}
			t.Parallel()
			sc := baseScenario()
			sc.Seed = 12
			sc.Requests = tt.requests
			sc.Policy.Kind = "cloud-only"
			sc.Cloud[0].Servers = tt.c
			sc.Cloud[0].Service = exp(mean)
			mu := 1 / mean.Seconds()
			sc.Workload.Rate = tt.rho * mu * float64(tt.c)
			var w waitSum
			sum := run(t, Config{Scenario: sc, Outcomes: testOutcomes(16, 1), Uplink: fastLink}, &w)
			got := w.wait.Seconds() / float64(w.n) * 1e3
			want := erlangWq(tt.c, sc.Workload.Rate, mu) * 1e3
			rel := got/want - 1
			t.Logf("M/M/%d ρ=%.1f n=%d: mean wait %.5f ms, Erlang C %.5f ms, error %+.3f%%", tt.c, tt.rho, tt.requests, got, want, 100*rel)
			if math.Abs(rel) > 0.02 {
				t.Errorf("mean wait %.5f ms, want %.5f ms ± 2%% (error %+.2f%%)", got, want, 100*rel)
			}
			if u := sum.Utilization.Cloud; math.Abs(u-tt.rho) > 0.01 {
				t.Errorf("cloud utilization %.4f, want %.2f", u, tt.rho)
			}
			if sum.Utilization.Edge != 0 {
				t.Errorf("cloud-only run used the edge: utilization %v", sum.Utilization.Edge)
			}
		})
	}
}

func TestErlangC(t *testing.T) {
	// One server: Erlang C reduces to M/M/1, W_q = ρ/(μ−λ).
	if got, want := erlangWq(1, 0.8, 1), 0.8/(1-0.8); math.Abs(got-want) > 1e-12 {
		t.Errorf("erlangWq(1, 0.8, 1) = %v, want %v", got, want)
	}
	// Two servers, a = 1: C = 1/3, W_q = C/(2−1) (textbook value).
	if got := erlangWq(2, 1, 1); math.Abs(got-1.0/3) > 1e-12 {
		t.Errorf("erlangWq(2, 1, 1) = %v, want 1/3", got)
	}
}
