package sweep

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"

	"github.com/tandem-edge/tandem/deploy"
)

// The files a sweep writes into its output folder.
const (
	ResultsJSONL = "results.jsonl" // one Result a line, in point order
	ResultsCSV   = "results.csv"   // the same, flat: a column per varied key and per figure
)

// WriteJSONL writes results one JSON object a line.
func WriteJSONL(w io.Writer, results []Result) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	for i := range results {
		if err := enc.Encode(&results[i]); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// ReadJSONL reads what WriteJSONL wrote; name is for messages.
func ReadJSONL(name string, r io.Reader) ([]Result, error) {
	var out []Result
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for line := 1; sc.Scan(); line++ {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var res Result
		if err := json.Unmarshal(sc.Bytes(), &res); err != nil {
			return nil, fmt.Errorf("%s:%d: %v", name, line, err)
		}
		if res.Summary == nil || res.Of < 1 || res.Point < 0 || res.Point >= res.Of {
			return nil, fmt.Errorf("%s:%d: not a sweep result (point %d of %d, summary %v)", name, line, res.Point, res.Of, res.Summary != nil)
		}
		out = append(out, res)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return out, nil
}

// Merge joins the results of a sweep's shards into the sweep's, in point
// order: exactly what one unsharded run writes. Every point must be there
// once.
func Merge(parts ...[]Result) ([]Result, error) {
	var all []Result
	for _, p := range parts {
		all = append(all, p...)
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("sweep: merge: no results")
	}
	slices.SortFunc(all, func(a, b Result) int { return a.Point - b.Point })
	of := all[0].Of
	for i, r := range all {
		switch {
		case r.Of != of:
			return nil, fmt.Errorf("sweep: merge: results of two sweeps (%d and %d points)", of, r.Of)
		case r.Point < i:
			return nil, fmt.Errorf("sweep: merge: point %d is there twice", r.Point)
		case r.Point > i:
			return nil, fmt.Errorf("sweep: merge: point %d of %d is missing (a shard not run or not given?)", i, of)
		}
	}
	if len(all) != of {
		return nil, fmt.Errorf("sweep: merge: %d of %d points; missing from %d on", len(all), of, len(all))
	}
	return all, nil
}

// WriteCSV writes results as a table: point, seed, a column per varied key
// (named by the first result's keys), then the summary's figures.
func WriteCSV(w io.Writer, results []Result) error {
	cw := csv.NewWriter(w)
	header := []string{"point", "seed"}
	if len(results) > 0 {
		for _, a := range results[0].Values {
			header = append(header, a.Key)
		}
	}
	for _, f := range deploy.Figures {
		header = append(header, f.Name)
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	for _, r := range results {
		row := []string{strconv.Itoa(r.Point), strconv.FormatUint(r.Seed, 10)}
		for _, a := range r.Values {
			row = append(row, a.Value)
		}
		for _, f := range deploy.Figures {
			row = append(row, strconv.FormatFloat(f.Of(r.Summary), 'g', -1, 64))
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
