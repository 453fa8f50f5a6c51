package report

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tandem-edge/tandem/sweep"
)

// chromium finds a headless-capable Chromium: under CI (CI=true) the setup
// has installed Debian's, and a missing one fails the test; elsewhere it
// skips.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium must be installed under CI (scripts/setup.sh installs Debian's chromium)")
	}
	t.Skip("no chromium: the report is not checked in a browser")
	return ""
}

// TestReportInChromium renders a sweep's HTML report in headless Chromium
// and checks what a person would see: no console message, every plot drawn
// with axes, data and tick labels that differ along each axis, and a
// screenshot that is not blank.
func TestReportInChromium(t *testing.T) {
	browser := chromium(t)
	if testing.Short() {
		t.Skip("starts a browser")
	}
	spec, err := sweep.Decode("s.yaml", []byte("scenario: builtin:threshold\nrequests: 400\nseeds: [1, 2]\nvary:\n  workload.rate: [5, 10, 15]\n  cloud.servers: [1, 2]\n"))
	if err != nil {
		t.Fatal(err)
	}
	results, err := sweep.Run(spec, sweep.All, nil)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := sweepReport(results)
	if err != nil {
		t.Fatal(err)
	}
	html, err := rep.HTML()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	if err := os.WriteFile(page, html, 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (stdout, stderr string) {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, browser, append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
			"--user-data-dir=" + filepath.Join(dir, "profile"), "--enable-logging=stderr", "--v=0"}, args...)...)
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		if err := cmd.Run(); err != nil {
			t.Fatalf("chromium %v: %v\n%s", args, err, e.String())
		}
		return o.String(), e.String()
	}
	dom, log := run("--dump-dom", "file://"+page)
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, ":CONSOLE") {
			t.Errorf("the page logged to the console: %s", line)
		}
	}
	svgs := regexp.MustCompile(`(?s)<svg.*?</svg>`).FindAllString(dom, -1)
	if len(svgs) != len(rep.Plots) || len(svgs) == 0 {
		t.Fatalf("the rendered page has %d plots, the report %d", len(svgs), len(rep.Plots))
	}
	text := regexp.MustCompile(`<text x="([-0-9.e]+)" y="([-0-9.e]+)"[^>]*>([^<]*)</text>`)
	for i, svg := range svgs {
		// Tick labels are numbers; an axis's share one coordinate: the
		// x axis's their y, the y axis's their x.
		byX, byY := map[string][]string{}, map[string][]string{}
		for _, m := range text.FindAllStringSubmatch(svg, -1) {
			if _, err := strconv.ParseFloat(strings.TrimSpace(m[3]), 64); err == nil {
				byX[m[1]] = append(byX[m[1]], m[3])
				byY[m[2]] = append(byY[m[2]], m[3])
			}
		}
		axes := 0
		for _, group := range []map[string][]string{byX, byY} {
			for _, labels := range group {
				if len(labels) < 2 {
					continue
				}
				axes++
				seen := map[string]bool{}
				for _, l := range labels {
					if seen[l] {
						t.Errorf("plot %q: tick label %s twice on one axis (%v)", rep.Plots[i].Title, l, labels)
					}
					seen[l] = true
				}
			}
		}
		if axes < 2 {
			t.Errorf("plot %q: %d labelled axes, want 2", rep.Plots[i].Title, axes)
		}
		if n := strings.Count(svg, "<path"); n < 10 {
			t.Errorf("plot %q: %d paths, too few for axes, grid and data", rep.Plots[i].Title, n)
		}
	}

	shot := filepath.Join(dir, "shot.png")
	run("--window-size=1000,1400", "--screenshot="+shot, "file://"+page)
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	dark := 0
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r+g+bl < 3*0xc000 {
				dark++
			}
		}
	}
	if frac := float64(dark) / float64(b.Dx()*b.Dy()/4); frac < 0.01 {
		t.Errorf("the screenshot is %.2f%% ink: blank", 100*frac)
	}
}
