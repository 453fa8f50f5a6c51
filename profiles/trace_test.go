package profiles

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"
)

const ms = time.Millisecond

func mustTrace(t testing.TB, name, text string) *Trace {
	t.Helper()
	tr, err := ParseTrace(name, []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

type transfer struct {
	start time.Duration
	bytes int
	want  time.Duration
}

func TestTransferEnd(t *testing.T) {
	cases := []struct {
		name      string
		link      Link
		format    string
		period    time.Duration
		mbps      float64
		transfers []transfer
	}{
		{"constant", Constant(8), "", 0, 8, []transfer{
			{0, 0, 0}, {5 * ms, 0, 5 * ms}, {0, 1000, ms}, {ms, 1, ms + 1000}, {time.Hour, 125000, time.Hour + 125*ms},
		}},
		{"mahimahi one packet per ms", mustTrace(t, "one.up", "1\n"), FormatMahimahi, ms, 12, []transfer{
			{0, 1, ms},
			{0, 1500, ms},
			{0, 1501, 2 * ms},  // a second packet, a second opportunity
			{ms / 2, 1, ms},    // the next opportunity
			{ms, 1500, 2 * ms}, // open at the start: the opportunity at 1ms finished the last transfer
			{10 * time.Second, 1500, 10*time.Second + ms},
		}},
		{"mahimahi repeated ms", mustTrace(t, "rep.up", "0\n0\n5\n5\n5\n10\n"), FormatMahimahi, 10 * ms, 7.2, []transfer{
			{0, 1500, 5 * ms},
			{0, 3 * 1500, 5 * ms},    // three packets in ms 5
			{0, 3*1500 + 1, 10 * ms}, // a fourth: ms 10, with the next loop's two at 0
			{0, 6 * 1500, 10 * ms},
			{0, 7 * 1500, 15 * ms}, // into the second loop
			{5 * ms, 1500, 10 * ms},
			{10 * ms, 1500, 15 * ms}, // loop boundary: ms 10 is the next loop's 0
			{9999 * ms, 1500, 10 * ms * 1000},
			{0, 18*1500 + 1, 35 * ms}, // three whole loops, then one packet
		}},
		{"mahimahi with a gap", mustTrace(t, "gap.up", "1\n1000\n"), FormatMahimahi, time.Second, 0.024, []transfer{
			{0, 1, ms},
			{2 * ms, 1, time.Second}, // nothing until ms 1000
			{time.Second, 1, time.Second + ms},
			{0, 4 * 1500, 2 * time.Second},
		}},
		{"csv steps", mustTrace(t, "steps.csv", "seconds,mbps\n0,8\n1,0\n2,16\n"), FormatCSV, 3 * time.Second, 8, []transfer{
			{0, 1e6, time.Second},
			{0, 1e6 + 2, 2*time.Second + 1000}, // the zero stretch, then 16 bits at 16 Mbit/s
			{500 * ms, 1e6, 2*time.Second + 250*ms},
			{1200 * ms, 1, 2*time.Second + 500},     // waits out the zero stretch
			{2500 * ms, 3e6, 5500 * ms},             // one whole period's capacity: one period later
			{2500 * ms, 2 * 3e6, 8500 * ms},         // two loops
			{3 * time.Second, 1e6, 4 * time.Second}, // loop boundary
		}},
		{"csv single row", mustTrace(t, "one.csv", "0,1\n"), FormatCSV, time.Second, 1, []transfer{
			{0, 125000, time.Second}, {0, 250000, 2 * time.Second}, {300 * ms, 125000, 1300 * ms},
		}},
		{"csv shifted, no header", mustTrace(t, "shift.csv", "10, 8\n11, 16\n"), FormatCSV, 2 * time.Second, 12, []transfer{
			{0, 1e6, time.Second}, {time.Second, 2e6, 2 * time.Second},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tr, ok := tc.link.(*Trace); ok {
				if tr.Format() != tc.format || tr.Period() != tc.period {
					t.Errorf("format %q period %v, want %q %v", tr.Format(), tr.Period(), tc.format, tc.period)
				}
			}
			if got := tc.link.MeanMbps(); math.Abs(got-tc.mbps) > 1e-9*tc.mbps {
				t.Errorf("MeanMbps() = %g, want %g", got, tc.mbps)
			}
			for _, x := range tc.transfers {
				if got := tc.link.TransferEnd(x.start, x.bytes); got != x.want {
					t.Errorf("TransferEnd(%v, %d) = %v, want %v", x.start, x.bytes, got, x.want)
				}
			}
		})
	}
}

// TestMahimahiAgainstReplay checks TransferEnd on random mahimahi traces
// against replaying the delivery opportunities one by one.
func TestMahimahiAgainstReplay(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		var b strings.Builder
		var lines []int64
		last := int64(0)
		for range 1 + rng.IntN(20) {
			last += int64(rng.IntN(4)) // repeats and gaps
			lines = append(lines, last)
			b.WriteString(strconv.FormatInt(last, 10) + "\n")
		}
		tr := mustTrace(t, "rand.up", b.String())
		period := max(last, 1)
		// opportunity k of loop j happens at j*period + lines[k], except
		// that loop j's opportunities at 0 coincide with loop j-1's end.
		opportunity := func(i int64) time.Duration {
			j, k := i/int64(len(lines)), i%int64(len(lines))
			return time.Duration(j*period+lines[k]) * ms
		}
		for range 50 {
			start := time.Duration(rng.Int64N(5*period*int64(ms) + 1))
			n := 1 + rng.IntN(40*1500)
			want := time.Duration(-1)
			used := 0
			for i := int64(0); used < (n+1499)/1500; i++ {
				if at := opportunity(i); at > start {
					used++
					want = at
				}
			}
			if got := tr.TransferEnd(start, n); got != want {
				t.Fatalf("trace %v: TransferEnd(%v, %d) = %v, replay says %v", lines, start, n, got, want)
			}
		}
	}
}

func TestParseTraceErrors(t *testing.T) {
	cases := []struct{ name, text, want string }{
		{"trace.csv", "seconds,mbps\n0,1\n\n1,2\n2,3\n3,4\nabc\n", `trace.csv:7: want "seconds,mbps", got "abc"`},
		{"trace.csv", "0,1\n1,x\n", `trace.csv:2: want "seconds,mbps", got "1,x"`},
		{"trace.csv", "0,1\n1,2,3\n", `trace.csv:2: want "seconds,mbps", got "1,2,3"`},
		{"trace.csv", "0,1\n0,2\n", `trace.csv:2: 0 s is not after the previous row's 0 s; want increasing times`},
		{"trace.csv", "0,-1\n", `trace.csv:1: mbps must be from 0 to 100000, got -1`},
		{"trace.csv", "-1,1\n", `trace.csv:1: seconds must be from 0 to `},
		{"trace.csv", "0,NaN\n", `trace.csv:1: mbps must be from 0 to 100000, got NaN`},
		{"trace.csv", "0,0\n5,0\n", `trace.csv: the trace has no capacity: every rate is 0`},
		{"trace.csv", "seconds,mbps\n", `trace.csv: no rows, want "seconds,mbps" lines`},
		{"trace", "", `trace: empty trace`},
		{"trace", "\n  \n", `trace: empty trace`},
		{"trace", "abc\n", `trace:1: want a whole millisecond (mahimahi) or "seconds,mbps" (CSV), got "abc"`},
		{"trace", "1.5\n", `trace:1: want a whole millisecond (mahimahi) or "seconds,mbps" (CSV), got "1.5"`},
		{"trace.up", "5\n3\n", `trace.up:2: 3 ms comes before the previous line's 5 ms; want non-decreasing milliseconds`},
		{"trace.up", "1\n2\nx\n", `trace.up:3: want a whole millisecond from 0 to 17179869184, got "x"`},
		{"trace.up", "1\n-2\n", `trace.up:2: want a whole millisecond from 0 to 17179869184, got "-2"`},
		{"trace.up", "99999999999999999999\n", `trace:1: want a whole millisecond`},
	}
	for _, tc := range cases {
		_, err := ParseTrace(tc.name, []byte(tc.text))
		if tc.name == "trace.up" && strings.HasPrefix(tc.want, "trace:") {
			_, err = ParseTrace("trace", []byte(tc.text))
		}
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("ParseTrace(%q, %q) = %v, want %q", tc.name, tc.text, err, tc.want)
		}
	}
}

func TestParseTraceFormats(t *testing.T) {
	for text, want := range map[string]string{
		"0\n1\n":            FormatMahimahi,
		"\r\n 7 \r\n8\r\n":  FormatMahimahi,
		"0,1\n":             FormatCSV,
		"time,rate\n0,1\n":  FormatCSV,
		"seconds,mbps\n0,1": FormatCSV,
		"0.0, 1.5\n2.5,3\n": FormatCSV,
	} {
		if tr, err := ParseTrace("t", []byte(text)); err != nil || tr.Format() != want {
			t.Errorf("ParseTrace(%q): %v, %v; want format %s", text, tr, err, want)
		}
	}
}

func TestLoadTraceBuiltin(t *testing.T) {
	if _, err := LoadTrace("builtin:lte"); err == nil ||
		err.Error() != `profiles: no built-in link trace "lte" (built-ins: none; tandem ships no recorded traces, give a trace file's path)` {
		t.Errorf("LoadTrace(builtin:lte) = %v", err)
	}
	if _, err := LoadTrace("lte"); err == nil || !strings.HasSuffix(err.Error(), "and no such file") {
		t.Errorf("LoadTrace(lte) = %v", err)
	}
}

func TestConstantMbps(t *testing.T) {
	if got, ok := ConstantMbps(Constant(12.5)); !ok || got != 12.5 {
		t.Errorf("ConstantMbps(Constant(12.5)) = %g, %v", got, ok)
	}
	tr, err := ParseTrace("t", []byte("1\n2\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := ConstantMbps(tr); ok {
		t.Error("ConstantMbps(trace): true")
	}
}
