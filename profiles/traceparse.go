package profiles

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"strconv"
	"strings"
	"time"
)

// Limits on trace files, so that a period's capacity in bits and its length
// in nanoseconds fit int64 with room to loop the trace for years.
const (
	maxTraceMillis  = int64(1) << 34 // about 199 days
	maxTraceSeconds = float64(maxTraceMillis / 1000)
	maxTraceMbps    = 1e5 // 100 Gbit/s
)

// LoadTrace loads a link capacity trace: a built-in by name ("NAME" or
// "builtin:NAME"; see BuiltinTraces) or the file at path ref, in either
// format ParseTrace reads.
func LoadTrace(ref string) (Link, error) {
	name := strings.TrimPrefix(ref, BuiltinPrefix)
	if b, ok := readBuiltin(name, ".trace"); ok {
		return ParseTrace(BuiltinPrefix+name, b)
	}
	noBuiltin := fmt.Sprintf("no built-in link trace %q (built-ins: %s; tandem ships no recorded traces, give a trace file's path)",
		name, listOrNone(BuiltinTraces()))
	if strings.HasPrefix(ref, BuiltinPrefix) {
		return nil, errors.New("profiles: " + noBuiltin)
	}
	b, err := os.ReadFile(ref)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("profiles: %s and no such file", noBuiltin)
	}
	if err != nil {
		return nil, fmt.Errorf("profiles: %w", err)
	}
	return ParseTrace(ref, b)
}

// ParseTrace reads a trace in either of two formats, told apart by the first
// non-blank line (a comma means CSV):
//
//   - mahimahi: one line per 1500-byte delivery opportunity, the whole
//     millisecond at which it occurs, non-decreasing; a millisecond repeated
//     N times is N packets in it. It loops with period the last millisecond
//     (1 ms if that is 0), as mahimahi's mm-link does: an opportunity at 0
//     coincides with the previous loop's last millisecond.
//   - CSV, "seconds,mbps" rows with an optional header line: the rate holds
//     from a row's time until the next row's. Times are relative to the
//     first row and strictly increasing; the trace loops after the last row's
//     time plus the spacing before it (a single row is a constant rate).
//
// Blank lines are ignored. Errors name the line: `trace.csv:7: want
// "seconds,mbps", got "abc"`. A trace with no capacity at all is an error.
func ParseTrace(name string, b []byte) (*Trace, error) {
	for rest, line := b, 1; len(rest) > 0; line++ {
		l, next := cutLine(rest)
		rest = next
		if len(l) == 0 {
			continue
		}
		if bytes.IndexByte(l, ',') >= 0 {
			return parseCSV(name, b)
		}
		if _, ok := parseMillis(l); !ok {
			return nil, fmt.Errorf("%s:%d: want a whole millisecond (mahimahi) or \"seconds,mbps\" (CSV), got %q", name, line, clip(l))
		}
		return parseMahimahi(name, b)
	}
	return nil, fmt.Errorf("%s: empty trace", name)
}

// cutLine returns b's first line, without its end and surrounding blanks,
// and the rest.
func cutLine(b []byte) (line, rest []byte) {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		line, rest = b[:i], b[i+1:]
	} else {
		line = b
	}
	return bytes.TrimSpace(line), rest
}

func clip(l []byte) string {
	if len(l) > 40 {
		return string(l[:37]) + "..."
	}
	return string(l)
}

func parseMillis(l []byte) (int64, bool) {
	if len(l) == 0 {
		return 0, false
	}
	var v int64
	for _, c := range l {
		if c < '0' || c > '9' {
			return 0, false
		}
		if v = v*10 + int64(c-'0'); v > maxTraceMillis {
			return 0, false
		}
	}
	return v, true
}

func parseMahimahi(name string, b []byte) (*Trace, error) {
	var (
		millis []int64 // distinct milliseconds, ascending
		counts []int64 // opportunities in each
	)
	for rest, line := b, 1; len(rest) > 0; line++ {
		l, next := cutLine(rest)
		rest = next
		if len(l) == 0 {
			continue
		}
		ms, ok := parseMillis(l)
		switch {
		case !ok:
			return nil, fmt.Errorf("%s:%d: want a whole millisecond from 0 to %d, got %q", name, line, maxTraceMillis, clip(l))
		case len(millis) > 0 && ms < millis[len(millis)-1]:
			return nil, fmt.Errorf("%s:%d: %d ms comes before the previous line's %d ms; want non-decreasing milliseconds",
				name, line, ms, millis[len(millis)-1])
		case len(millis) > 0 && ms == millis[len(millis)-1]:
			counts[len(counts)-1]++
		default:
			millis = append(millis, ms)
			counts = append(counts, 1)
		}
	}
	// Opportunities at 0 belong at the end of the period: (0, P] then
	// repeats exactly, and a run starting at 0 cannot use them anyway.
	last := millis[len(millis)-1]
	period := max(last, 1)
	var atZero int64
	if millis[0] == 0 {
		atZero, millis, counts = counts[0], millis[1:], counts[1:]
	}
	if len(millis) == 0 || millis[len(millis)-1] != period {
		millis, counts = append(millis, period), append(counts, 0)
	}
	counts[len(counts)-1] += atZero

	tr := &Trace{name: name, format: FormatMahimahi, period: time.Duration(period) * time.Millisecond, step: true,
		at: make([]time.Duration, len(millis)), cum: make([]int64, len(millis))}
	var sum int64
	for i, ms := range millis {
		sum += counts[i]
		tr.at[i], tr.cum[i] = time.Duration(ms)*time.Millisecond, sum
	}
	tr.total = sum
	return tr, nil
}

func parseCSV(name string, b []byte) (*Trace, error) {
	var (
		secs  []float64
		rates []float64
		lines []int
	)
	first := true
	for rest, line := b, 1; len(rest) > 0; line++ {
		l, next := cutLine(rest)
		rest = next
		if len(l) == 0 {
			continue
		}
		header := first
		first = false
		fields := strings.Split(string(l), ",")
		if len(fields) != 2 {
			return nil, fmt.Errorf("%s:%d: want \"seconds,mbps\", got %q", name, line, clip(l))
		}
		s, errS := strconv.ParseFloat(strings.TrimSpace(fields[0]), 64)
		r, errR := strconv.ParseFloat(strings.TrimSpace(fields[1]), 64)
		switch {
		case header && errS != nil && errR != nil:
			continue // a header line names the columns
		case errS != nil || errR != nil:
			return nil, fmt.Errorf("%s:%d: want \"seconds,mbps\", got %q", name, line, clip(l))
		case !(s >= 0 && s <= maxTraceSeconds):
			return nil, fmt.Errorf("%s:%d: seconds must be from 0 to %g, got %g", name, line, maxTraceSeconds, s)
		case !(r >= 0 && r <= maxTraceMbps):
			return nil, fmt.Errorf("%s:%d: mbps must be from 0 to %g, got %g", name, line, maxTraceMbps, r)
		case len(secs) > 0 && s <= secs[len(secs)-1]:
			return nil, fmt.Errorf("%s:%d: %g s is not after the previous row's %g s; want increasing times",
				name, line, s, secs[len(secs)-1])
		}
		secs, rates, lines = append(secs, s), append(rates, r), append(lines, line)
	}
	if len(secs) == 0 {
		return nil, fmt.Errorf("%s: no rows, want \"seconds,mbps\" lines", name)
	}

	k := len(secs)
	tr := &Trace{name: name, format: FormatCSV, at: make([]time.Duration, k+1), cum: make([]int64, k+1), bps: make([]float64, k)}
	t0 := secs[0]
	for i, s := range secs {
		tr.at[i] = time.Duration(math.Round((s - t0) * 1e9))
		if i > 0 && tr.at[i] <= tr.at[i-1] {
			return nil, fmt.Errorf("%s:%d: %g s is less than 1ns after the previous row", name, lines[i], s)
		}
		tr.bps[i] = rates[i] * 1e6
	}
	if k == 1 {
		tr.at[1] = time.Second
	} else {
		tr.at[k] = 2*tr.at[k-1] - tr.at[k-2]
	}
	for i := range k {
		bits := math.Round(tr.bps[i] * float64(tr.at[i+1]-tr.at[i]) / 1e9)
		tr.cum[i+1] = tr.cum[i] + int64(bits)
	}
	tr.period, tr.total = tr.at[k], tr.cum[k]
	if tr.total <= 0 {
		return nil, fmt.Errorf("%s: the trace has no capacity: every rate is 0", name)
	}
	return tr, nil
}
