package bundles

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
)

// outcomeColumns are the first columns of outcomes.csv; logit_0 ...
// logit_{K-1} follow, one per class.
var outcomeColumns = []string{"sample", "label", "edge_pred", "cloud_pred", "max_prob", "margin", "entropy"}

// WriteOutcomes writes outcomes as outcomes.csv: the header
// sample,label,edge_pred,cloud_pred,max_prob,margin,entropy,logit_0,...,logit_{K-1}
// then one row per outcome. Numbers are written exactly (shortest form that
// reads back to the same value). Every outcome must have the same number of
// logits, at least two.
func WriteOutcomes(w io.Writer, outcomes []Outcome) error {
	if len(outcomes) == 0 {
		return errors.New("bundles: writing outcomes: none to write")
	}
	k := len(outcomes[0].Logits)
	if k < 2 {
		return fmt.Errorf("bundles: writing outcomes: %d logits, want one per class (>= 2)", k)
	}
	bw := bufio.NewWriter(w)
	for i, c := range outcomeColumns {
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString(c)
	}
	for j := range k {
		fmt.Fprintf(bw, ",logit_%d", j)
	}
	bw.WriteByte('\n')
	var buf []byte
	for i := range outcomes {
		o := &outcomes[i]
		if len(o.Logits) != k {
			return fmt.Errorf("bundles: writing outcomes: outcome %d (sample %d) has %d logits, the first has %d", i, o.Sample, len(o.Logits), k)
		}
		buf = buf[:0]
		for _, v := range []int{o.Sample, o.Label, o.EdgePred, o.CloudPred} {
			buf = strconv.AppendInt(buf, int64(v), 10)
			buf = append(buf, ',')
		}
		for _, v := range []float64{o.MaxProb, o.Margin, o.Entropy} {
			buf = strconv.AppendFloat(buf, v, 'g', -1, 64)
			buf = append(buf, ',')
		}
		for j, v := range o.Logits {
			if j > 0 {
				buf = append(buf, ',')
			}
			buf = strconv.AppendFloat(buf, float64(v), 'g', -1, 32)
		}
		buf = append(buf, '\n')
		if _, err := bw.Write(buf); err != nil {
			return fmt.Errorf("bundles: writing outcomes: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("bundles: writing outcomes: %w", err)
	}
	return nil
}

// ReadOutcomes reads an outcomes.csv (see WriteOutcomes); name is the file's
// name for messages, which read "outcomes.csv:7: edge_pred: want an integer,
// got "x"". The number of classes K is the number of logit columns; labels
// and predictions must lie in [0, K), max_prob and margin in [0, 1], entropy
// be >= 0, samples be distinct and >= 0, and there must be at least one row.
func ReadOutcomes(name string, r io.Reader) ([]Outcome, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("%s: empty, want a header line", name)
	}
	if err != nil {
		return nil, csvError(name, err)
	}
	k, err := checkHeader(name, header)
	if err != nil {
		return nil, err
	}
	cr.FieldsPerRecord = len(header)

	var outcomes []Outcome
	seen := map[int]int{} // sample → its line
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if errors.Is(err, csv.ErrFieldCount) {
			line, _ := cr.FieldPos(0)
			return nil, fmt.Errorf("%s:%d: want %d fields as in the header, got %d", name, line, len(header), len(rec))
		}
		if err != nil {
			return nil, csvError(name, err)
		}
		line, _ := cr.FieldPos(0)
		p := rowParser{name: name, line: line, rec: rec}
		o := Outcome{
			Sample:    p.int(0, math.MaxInt),
			Label:     p.int(1, k-1),
			EdgePred:  p.int(2, k-1),
			CloudPred: p.int(3, k-1),
			MaxProb:   p.float(4, 0, 1),
			Margin:    p.float(5, 0, 1),
			Entropy:   p.float(6, 0, math.MaxFloat64),
			Logits:    make([]float32, k),
		}
		for j := range k {
			o.Logits[j] = p.float32(len(outcomeColumns) + j)
		}
		if p.err != nil {
			return nil, p.err
		}
		if first, dup := seen[o.Sample]; dup {
			return nil, fmt.Errorf("%s:%d: sample: %d already on line %d", name, line, o.Sample, first)
		}
		seen[o.Sample] = line
		outcomes = append(outcomes, o)
	}
	if len(outcomes) == 0 {
		return nil, fmt.Errorf("%s: no outcomes after the header", name)
	}
	return outcomes, nil
}

// checkHeader checks the header line and returns the number of classes.
func checkHeader(name string, header []string) (int, error) {
	want := func(i int) string {
		if i < len(outcomeColumns) {
			return outcomeColumns[i]
		}
		return fmt.Sprintf("logit_%d", i-len(outcomeColumns))
	}
	for i, h := range header {
		if h != want(i) {
			return 0, fmt.Errorf("%s:1: column %d: want %q, got %q", name, i+1, want(i), h)
		}
	}
	k := len(header) - len(outcomeColumns)
	if k < 2 {
		return 0, fmt.Errorf("%s:1: want columns %s,logit_0,...,logit_{K-1} with K >= 2 classes, got %d columns",
			name, joinColumns(), len(header))
	}
	return k, nil
}

func joinColumns() string {
	s := outcomeColumns[0]
	for _, c := range outcomeColumns[1:] {
		s += "," + c
	}
	return s
}

func csvError(name string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s:%d:%d: %v", name, pe.Line, pe.Column, pe.Err)
	}
	return fmt.Errorf("bundles: reading %s: %w", name, err)
}

// rowParser parses the fields of one row, keeping the first error.
type rowParser struct {
	name string
	line int
	rec  []string
	err  error
}

func (p *rowParser) column(i int) string {
	if i < len(outcomeColumns) {
		return outcomeColumns[i]
	}
	return fmt.Sprintf("logit_%d", i-len(outcomeColumns))
}

func (p *rowParser) fail(i int, format string, args ...any) {
	if p.err == nil {
		p.err = fmt.Errorf("%s:%d: %s: %s", p.name, p.line, p.column(i), fmt.Sprintf(format, args...))
	}
}

func (p *rowParser) int(i, hi int) int {
	v, err := strconv.Atoi(p.rec[i])
	switch {
	case err != nil:
		p.fail(i, "want an integer, got %q", p.rec[i])
	case v < 0 || v > hi:
		p.fail(i, "must be from 0 to %d, got %d", hi, v)
	}
	return v
}

func (p *rowParser) float(i int, lo, hi float64) float64 {
	v, err := strconv.ParseFloat(p.rec[i], 64)
	switch {
	case err != nil:
		p.fail(i, "want a number, got %q", p.rec[i])
	case !(v >= lo && v <= hi):
		if hi == math.MaxFloat64 {
			p.fail(i, "must be >= %g, got %s", lo, p.rec[i])
		} else {
			p.fail(i, "must be from %g to %g, got %s", lo, hi, p.rec[i])
		}
	}
	return v
}

func (p *rowParser) float32(i int) float32 {
	v, err := strconv.ParseFloat(p.rec[i], 32)
	switch {
	case err != nil:
		p.fail(i, "want a number, got %q", p.rec[i])
	case math.IsNaN(v) || math.IsInf(v, 0):
		p.fail(i, "want a finite number, got %s", p.rec[i])
	}
	return float32(v)
}
