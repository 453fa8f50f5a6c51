package paired

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// ReadOutcomes reads a requests.csv (deploy.CSVHeader's columns, or any
// with id, sample, correct and status): every request, in file order. A
// request whose status is not "ok" counts as not answered right, whatever
// its correct column says. name is for errors, which give the line.
func ReadOutcomes(name string, r io.Reader) ([]Outcome, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: empty: not a requests.csv", name)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	col := map[string]int{"id": -1, "sample": -1, "correct": -1, "status": -1}
	for i, h := range header {
		if j, ok := col[h]; ok && j < 0 {
			col[h] = i
		}
	}
	for _, c := range []string{"id", "sample", "correct", "status"} {
		if col[c] < 0 {
			return nil, fmt.Errorf("%s:1: no column %q: not a requests.csv", name, c)
		}
	}
	var out []Outcome
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		id, err := strconv.ParseUint(rec[col["id"]], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: id: want a non-negative integer, got %q", name, line, rec[col["id"]])
		}
		sample, err := strconv.Atoi(rec[col["sample"]])
		if err != nil || sample < 0 {
			return nil, fmt.Errorf("%s:%d: sample: want a non-negative integer, got %q", name, line, rec[col["sample"]])
		}
		correct, err := strconv.ParseBool(rec[col["correct"]])
		if err != nil {
			return nil, fmt.Errorf("%s:%d: correct: want true or false, got %q", name, line, rec[col["correct"]])
		}
		out = append(out, Outcome{ID: id, Sample: sample, Correct: correct && rec[col["status"]] == "ok"})
	}
}
