package profiles

import (
	"bufio"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// sharedTraces returns ../shared/traces beside the repository. Outside CI
// the test skips when it is absent; under CI (CI=true) that is a failure.
func sharedTraces(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		up := filepath.Dir(dir)
		if up == dir {
			tb.Fatal("no go.mod above the test's folder")
		}
		dir = up
	}
	traces := filepath.Join(dir, "..", "shared", "traces")
	if _, err := os.Stat(traces); err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("real traces missing under CI: %v", err)
		}
		tb.Skipf("real traces not here (%v); they are in CI", err)
	}
	return traces
}

// readmeTable reads the traces README's table: file → duration and mean
// capacity, for ".up / .down" rows both files.
func readmeTable(t *testing.T, dir string) map[string][2]float64 {
	f, err := os.Open(filepath.Join(dir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	row := regexp.MustCompile(`^\| (\S+?)(\.up|\.down)( / \.down)? \| ([\d.]+) s \| ([\d.]+)( / ([\d.]+))? Mbit/s \|$`)
	want := map[string][2]float64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := row.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		secs, _ := strconv.ParseFloat(m[4], 64)
		first, _ := strconv.ParseFloat(m[5], 64)
		want[m[1]+m[2]] = [2]float64{secs, first}
		if m[3] != "" {
			second, _ := strconv.ParseFloat(m[7], 64)
			want[m[1]+".down"] = [2]float64{secs, second}
		}
	}
	if len(want) == 0 {
		t.Fatal("no trace rows in the README's table")
	}
	return want
}

func TestRealTraces(t *testing.T) {
	dir := sharedTraces(t)
	for file, w := range readmeTable(t, dir) {
		t.Run(file, func(t *testing.T) {
			l, err := LoadTrace(filepath.Join(dir, "mahimahi", file))
			if err != nil {
				t.Fatal(err)
			}
			tr := l.(*Trace)
			if tr.Format() != FormatMahimahi {
				t.Errorf("format %s", tr.Format())
			}
			if got := tr.MeanMbps(); math.Abs(got-w[1]) > 0.01*w[1] {
				t.Errorf("mean %.3f Mbit/s, README says %.2f", got, w[1])
			}
			if got := tr.Period().Seconds(); math.Abs(got-w[0]) > 0.01*w[0] {
				t.Errorf("period %.3f s, README says %.0f", got, w[0])
			}
			// A long run loops the trace exactly: a day later, the same
			// transfer takes the same time.
			rng := rand.New(rand.NewPCG(3, 4))
			for range 1000 {
				start := time.Duration(rng.Int64N(int64(tr.Period())))
				n := 1 + rng.IntN(1<<20)
				loops := time.Duration(24*time.Hour/tr.Period()) * tr.Period()
				a, b := tr.TransferEnd(start, n), tr.TransferEnd(start+loops, n)
				if b-a != loops || a < start || tr.TransferEnd(start, n+1500) < a {
					t.Fatalf("TransferEnd(%v, %d) = %v, a day of loops later %v", start, n, a, b)
				}
			}
		})
	}
}

func BenchmarkTransferEnd(b *testing.B) {
	for _, file := range []string{"TMobile-LTE-short.down", "Verizon-EVDO-driving.up"} {
		b.Run(strings.TrimSuffix(file, filepath.Ext(file)), func(b *testing.B) {
			l, err := LoadTrace(filepath.Join(sharedTraces(b), "mahimahi", file))
			if err != nil {
				b.Fatal(err)
			}
			benchmarkTransferEnd(b, l)
		})
	}
	b.Run("csv", func(b *testing.B) {
		var text strings.Builder
		for i := range 10000 {
			text.WriteString(strconv.Itoa(i) + "," + strconv.Itoa(1+i%17) + "\n")
		}
		benchmarkTransferEnd(b, mustTrace(b, "bench.csv", text.String()))
	})
}

// benchmarkTransferEnd times transfers of one input (3136 bytes) starting at
// random instants of a long run.
func benchmarkTransferEnd(b *testing.B, l Link) {
	const starts = 1 << 12
	rng := rand.New(rand.NewPCG(1, 1))
	at := make([]time.Duration, starts)
	for i := range at {
		at[i] = time.Duration(rng.Int64N(int64(24 * time.Hour)))
	}
	b.ReportAllocs()
	b.ResetTimer()
	var sink time.Duration
	for i := 0; b.Loop(); i++ {
		sink += l.TransferEnd(at[i%starts], 3136)
	}
	_ = sink
}
