package simcmd

import (
	"errors"
	"fmt"

	"github.com/tandem-edge/tandem/deploy"
	"github.com/tandem-edge/tandem/paired"
	"github.com/tandem-edge/tandem/report"
	"github.com/tandem-edge/tandem/scenarios"
)

// baselinePolicies are the trivial policies every run is set beside.
var baselinePolicies = []string{scenarios.PolicyCloudOnly, scenarios.PolicyEdgeOnly}

// runBaselines runs sc with each trivial policy it does not have itself and
// pairs each with run, the outcomes of sc's own run. A baseline the
// scenario cannot run (an edge group with no profile for its model, say) is
// left out with a note.
func runBaselines(sc *scenarios.Scenario, run []paired.Outcome) (*report.Baselines, error) {
	b := &report.Baselines{Scenario: sc.Name, Seed: sc.Seed, Policy: sc.Policy.Kind, Baselines: []report.Baseline{}}
	for _, kind := range baselinePolicies {
		if kind == sc.Policy.Kind {
			continue
		}
		alt := *sc
		alt.Policy = scenarios.Policy{Kind: kind}
		sum, outs, err := simulate(&alt)
		if err != nil {
			b.Notes = append(b.Notes, fmt.Sprintf("no %s baseline: %v", kind, err))
			continue
		}
		r, err := paired.Compare(outs, run)
		var mismatch *paired.MismatchError
		if errors.As(err, &mismatch) {
			b.Notes = append(b.Notes, fmt.Sprintf("%s baseline not paired: %s", kind, mismatch.Reason))
		} else if err != nil {
			return nil, fmt.Errorf("%s baseline: %w", kind, err)
		}
		b.Baselines = append(b.Baselines, report.Baseline{Policy: kind, Summary: sum, Paired: r})
	}
	return b, nil
}

// simulate runs sc and returns its summary and every request's outcome.
func simulate(sc *scenarios.Scenario) (*deploy.Summary, []paired.Outcome, error) {
	_, s, err := newSim(sc)
	if err != nil {
		return nil, nil, err
	}
	var outs outcomes
	sum, err := s.Run(&outs)
	if err != nil {
		return nil, nil, err
	}
	return sum, outs, nil
}

// outcomes records each request's outcome for pairing; a failed request
// was not answered right, as paired.ReadOutcomes reads requests.csv.
type outcomes []paired.Outcome

func (o *outcomes) Record(r *deploy.Record) error {
	*o = append(*o, paired.Outcome{ID: r.ID, Sample: r.Sample, Correct: r.Correct && r.Status == deploy.StatusOK})
	return nil
}

// tee gives each record to every recorder in turn, and flushes those that
// buffer when the run ends, as the engine does with a recorder of its own.
type tee []deploy.Recorder

func (t tee) Flush() error {
	for _, rec := range t {
		if f, ok := rec.(interface{ Flush() error }); ok {
			if err := f.Flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

func (t tee) Record(r *deploy.Record) error {
	for _, rec := range t {
		if err := rec.Record(r); err != nil {
			return err
		}
	}
	return nil
}
