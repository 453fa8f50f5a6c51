package sweepcmd

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// clock advances by step at every reading.
func clock(step time.Duration) func() time.Time {
	t := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return func() time.Time {
		t = t.Add(step)
		return t
	}
}

func TestProgressLog(t *testing.T) {
	for _, tc := range []struct {
		name  string
		total int
		want  []string // lines, in full or as a prefix
	}{
		{"every 5%", 40, []string{
			"sweep: 2/40 points (5%), 0.5 points/s, ETA 1m16s",
			"sweep: 4/40 points (10%), 0.5 points/s, ETA 1m12s",
		}},
		{"fewer than 20 points: a line each", 3, []string{
			"sweep: 1/3 points (33%), 0.5 points/s, ETA 4s",
			"sweep: 2/3 points (66%), 0.5 points/s, ETA 2s",
			"sweep: 3/3 points (100%), 0.5 points/s, took 6s",
		}},
		{"one point", 1, []string{"sweep: 1/1 points (100%), 0.5 points/s, took 2s"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			p := newProgress(&b, "sweep", tc.total, clock(2*time.Second))
			for done := 1; done <= tc.total; done++ {
				p.update(done)
			}
			lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
			if tc.total >= 20 && len(lines) != 20 {
				t.Errorf("%d lines for %d points, want 20:\n%s", len(lines), tc.total, b.String())
			}
			for i, w := range tc.want {
				if i >= len(lines) || lines[i] != w {
					t.Errorf("line %d: %q, want %q", i, lines[min(i, len(lines)-1)], w)
				}
			}
			if last := lines[len(lines)-1]; !strings.Contains(last, "100%") || !strings.Contains(last, "took") {
				t.Errorf("last line %q", last)
			}
		})
	}
}

func TestProgressTerminal(t *testing.T) {
	var b bytes.Buffer
	p := newProgress(&b, "sweep shard 1/4", 1000, clock(50*time.Millisecond))
	p.tty = true
	for done := 1; done <= 1000; done++ {
		p.update(done)
	}
	s := b.String()
	draws := strings.Count(s, "\r")
	// One redraw every 200 ms of a 50 s run, and the last.
	if draws < 200 || draws > 260 || strings.Count(s, "\n") != 1 || !strings.HasSuffix(s, "took 50s\n") {
		t.Errorf("%d redraws, %d newlines, ending %q", draws, strings.Count(s, "\n"), s[max(len(s)-80, 0):])
	}
	if !strings.Contains(s, "\rsweep shard 1/4: 501/1000 points (50%), 20 points/s, ETA 25s") {
		t.Errorf("no redraw at half way:\n%q", s[:200])
	}
	// An error mid-way starts on a line of its own.
	b.Reset()
	p = newProgress(&b, "sweep", 10, clock(time.Second))
	p.tty = true
	p.update(1)
	p.interrupt()
	if !strings.HasSuffix(b.String(), "ETA 9s\n") {
		t.Errorf("interrupted: %q", b.String())
	}
}
