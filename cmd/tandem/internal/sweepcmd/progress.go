package sweepcmd

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"
)

// progress shows how far a sweep is: points done of the total, the rate and
// the time left. On a terminal it redraws one line, at most every redraw;
// in a log (CI, a Slurm task's output) it writes a line every 5% of the
// points, which keeps a long sweep's log short and still shows it moving.
type progress struct {
	w      io.Writer
	label  string
	total  int
	tty    bool
	now    func() time.Time
	start  time.Time
	drawn  time.Time // the terminal line's last redraw
	wide   int       // its length, to blank what a shorter one leaves
	logged int       // the 5% steps logged
}

const redraw = 200 * time.Millisecond

func newProgress(w io.Writer, label string, total int, now func() time.Time) *progress {
	tty := false
	if f, ok := w.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	return &progress{w: w, label: label, total: total, tty: tty, now: now, start: now()}
}

// update is told that done points are finished; sweep.Run calls it from one
// goroutine at a time.
func (p *progress) update(done int) {
	t := p.now()
	if p.tty {
		if done < p.total && t.Sub(p.drawn) < redraw {
			return
		}
		p.drawn = t
		line := p.line(done, t)
		fmt.Fprintf(p.w, "\r%s%s", line, strings.Repeat(" ", max(p.wide-len(line), 0)))
		p.wide = len(line)
		if done == p.total {
			p.interrupt()
		}
		return
	}
	// Step k of 20 is reached when done*20 >= k*total.
	step := done * 20 / max(p.total, 1)
	if step > p.logged || done == p.total {
		p.logged = step
		fmt.Fprintln(p.w, p.line(done, t))
	}
}

// interrupt ends a terminal line left unfinished, so that what is printed
// next (the error) starts on its own line.
func (p *progress) interrupt() {
	if p.tty && p.wide > 0 {
		fmt.Fprintln(p.w)
		p.wide = 0
	}
}

func (p *progress) line(done int, t time.Time) string {
	el := t.Sub(p.start)
	s := fmt.Sprintf("%s: %d/%d points (%d%%)", p.label, done, p.total, 100*done/max(p.total, 1))
	if done == 0 || el <= 0 {
		return s
	}
	rate := float64(done) / el.Seconds()
	if done == p.total {
		return s + fmt.Sprintf(", %.3g points/s, took %v", rate, round(el))
	}
	left := time.Duration(float64(p.total-done) / rate * float64(time.Second))
	return s + fmt.Sprintf(", %.3g points/s, ETA %v", rate, round(left))
}

// round keeps a duration readable: whole seconds, tenths below ten seconds.
func round(d time.Duration) time.Duration {
	if d < 10*time.Second {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Second)
}
