package sweep

import (
	"fmt"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/tandem-edge/tandem/deploy"
	"github.com/tandem-edge/tandem/scenarios"
	"github.com/tandem-edge/tandem/sim"
)

// Shard is part I of N of a sweep: the points whose index is I modulo N.
type Shard struct{ I, N int }

// All is the whole sweep as one shard.
var All = Shard{0, 1}

// ParseShard reads "I/N", with 0 ≤ I < N.
func ParseShard(s string) (Shard, error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return Shard{}, fmt.Errorf("sweep: shard %q: want I/N with 0 <= I < N, such as 0/4", s)
	}
	return Shard{i, n}, nil
}

// Result is one point's outcome: a line of results.jsonl.
type Result struct {
	Point   int                    `json:"point"`
	Of      int                    `json:"of"` // the sweep's number of points
	Seed    uint64                 `json:"seed"`
	Values  []scenarios.Assignment `json:"values"`
	Summary *deploy.Summary        `json:"summary"`
}

// Run simulates the points of one shard, on as many cores as there are,
// and returns their results in point order. Each result's summary has its
// wall time zeroed, so that a result is a pure function of its point.
// progress, when set, is told how many points are done, from one goroutine
// at a time.
func Run(spec *Spec, shard Shard, progress func(done, total int)) ([]Result, error) {
	base, err := scenarios.Load(scenarioRef(spec))
	if err != nil {
		return nil, fmt.Errorf("%s: scenario: %w", spec.File, err)
	}
	all := spec.Points()
	var points []Point
	for _, p := range all {
		if p.Index%shard.N == shard.I {
			points = append(points, p)
		}
	}
	results := make([]Result, len(points))
	errs := make([]error, len(points))
	next := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	for range min(runtime.GOMAXPROCS(0), max(len(points), 1)) {
		wg.Go(func() {
			for i := range next {
				results[i], errs[i] = runPoint(spec, base, points[i], len(all))
				if progress != nil {
					mu.Lock()
					done++
					progress(done, len(points))
					mu.Unlock()
				}
			}
		})
	}
	for i := range points {
		next <- i
	}
	close(next)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("%s: point %d (%s): %w", spec.File, points[i].Index, points[i].describe(), err)
		}
	}
	return results, nil
}

// scenarioRef resolves the sweep's scenario path against the sweep file's
// folder, as a scenario resolves its own references.
func scenarioRef(spec *Spec) string {
	ref := spec.Scenario
	if strings.HasPrefix(ref, "builtin:") || filepath.IsAbs(ref) || spec.File == "" {
		return ref
	}
	return filepath.Join(filepath.Dir(spec.File), ref)
}

func runPoint(spec *Spec, base *scenarios.Scenario, p Point, of int) (Result, error) {
	as := p.Values
	if spec.Requests > 0 {
		as = append([]scenarios.Assignment{{Key: "requests", Value: strconv.Itoa(spec.Requests)}, {Key: "duration", Value: "null"}}, as...)
	}
	if p.Seed != 0 {
		as = append(as, scenarios.Assignment{Key: "seed", Value: strconv.FormatUint(p.Seed, 10)})
	}
	sc, err := scenarios.With(base, as...)
	if err != nil {
		return Result{}, err
	}
	sum, err := sim.Simulate(sc)
	if err != nil {
		return Result{}, err
	}
	return Result{Point: p.Index, Of: of, Seed: sc.Seed, Values: p.Values, Summary: sum}, nil
}
