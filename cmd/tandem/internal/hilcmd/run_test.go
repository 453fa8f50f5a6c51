package hilcmd

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tandem-edge/tandem/bundles"
	"github.com/tandem-edge/tandem/cmd/tandem/internal/cli"
	"github.com/tandem-edge/tandem/cmd/tandem/internal/simcmd"
	"github.com/tandem-edge/tandem/deploy"
	"github.com/tandem-edge/tandem/dnn/data"
	"github.com/tandem-edge/tandem/dnn/data/datatest"
	"github.com/tandem-edge/tandem/hil"
	"github.com/tandem-edge/tandem/hil/fleet"
	"github.com/tandem-edge/tandem/hil/hiltest"
	"github.com/tandem-edge/tandem/hil/kernlink"
	"github.com/tandem-edge/tandem/hil/oip"
	"github.com/tandem-edge/tandem/scenarios"
)

// TestRunMatchesSim runs builtin:default for real and checks, request by
// request, that it made the simulator's requests and decisions and got the
// answers the bundle's outcomes say the models give; and the same of the
// scenario split after the heavy model's last stage, whose real answers
// come from the two parts the run cut the heavy model into.
func TestRunMatchesSim(t *testing.T) {
	for _, shaper := range []string{fleet.ShaperProcess, fleet.ShaperKernel} {
		t.Run(shaper, func(t *testing.T) { testRunMatchesSim(t, "builtin:default", shaper) })
	}
	// Clothes and digits: two bundles' edge models on their own devices,
	// both heavy models on the one server.
	for _, shaper := range []string{fleet.ShaperProcess, fleet.ShaperKernel} {
		t.Run("two-apps/"+shaper, func(t *testing.T) {
			datatest.Load(t, data.MNIST)
			testRunMatchesSim(t, filepath.Join("..", "..", "..", "..", "docs", "examples", "two-apps.yaml"), shaper)
		})
		// A campus server and the central cloud: each group's requests
		// go to its own pool's server.
		t.Run("two-pools/"+shaper, func(t *testing.T) {
			testRunMatchesSim(t, filepath.Join("..", "..", "..", "..", "docs", "examples", "two-pools.yaml"), shaper)
		})
	}
	t.Run("split", func(t *testing.T) {
		def, err := scenarios.Load("builtin:default")
		if err != nil {
			t.Fatal(err)
		}
		def.Name, def.Policy = "split", scenarios.Policy{Kind: scenarios.PolicySplit, After: "pool3"}
		b, err := scenarios.Marshal(def)
		if err != nil {
			t.Fatal(err)
		}
		sc := filepath.Join(t.TempDir(), "split.yaml")
		if err := os.WriteFile(sc, b, 0o644); err != nil {
			t.Fatal(err)
		}
		testRunMatchesSim(t, sc, fleet.ShaperProcess)
	})
}

func testRunMatchesSim(t *testing.T, scenario, shaper string) {
	hiltest.RequireORT(t)
	datatest.Load(t, data.FashionMNIST)
	if testing.Short() {
		t.Skip("a second of real time and all of Fashion-MNIST")
	}
	if shaper == fleet.ShaperKernel {
		hiltest.RequireNamespaces(t)
	}
	dir := t.TempDir()
	hilOut, simOut := filepath.Join(dir, "hil"), filepath.Join(dir, "sim")
	var stdout, stderr bytes.Buffer
	err := Run(context.Background(), &RunOptions{Scenario: scenario, Requests: 150, Out: hilOut, Model: "heavy", Shaper: shaper, Stdout: &stdout, Stderr: &stderr})
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	if err := simcmd.Run(&simcmd.Options{Scenario: scenario, Requests: 150, Out: simOut, Stdout: io.Discard}); err != nil {
		t.Fatal(err)
	}
	hilRows, simRows := readCSV(t, filepath.Join(hilOut, "requests.csv")), readCSV(t, filepath.Join(simOut, "requests.csv"))
	if len(hilRows) != 150 || len(simRows) != 150 {
		t.Fatalf("%d hil rows, %d sim rows, want 150 each", len(hilRows), len(simRows))
	}
	for id, s := range simRows {
		h := hilRows[id]
		for _, col := range []string{"device", "sample", "arrival_ms", "decision", "correct", "status"} {
			if h[col] != s[col] {
				t.Errorf("request %s: %s %s in hil, %s in sim", id, col, h[col], s[col])
			}
		}
	}
	var sum struct {
		Mode      string               `json:"mode"`
		Completed int                  `json:"completed"`
		Cut       *deploy.Cut          `json:"cut"`
		Clouds    []deploy.PoolSummary `json:"clouds"`
	}
	raw, err := os.ReadFile(filepath.Join(hilOut, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &sum); err != nil || sum.Mode != "hil" || sum.Completed != 150 {
		t.Errorf("summary.json: %s (%v)", raw, err)
	}
	if split := strings.HasSuffix(scenario, "split.yaml"); split != (sum.Cut != nil) {
		t.Errorf("summary.json's cut: %+v", sum.Cut)
	}
	if pools := strings.HasSuffix(scenario, "two-pools.yaml"); pools != (len(sum.Clouds) == 2) || pools && !(sum.Clouds[0].Utilization > 0 && sum.Clouds[1].Utilization > 0) {
		t.Errorf("summary.json's clouds: %+v", sum.Clouds)
	}
	if left := kernlink.Namespaces(); len(left) != 0 {
		t.Errorf("network namespaces left after the run: %v", left)
	}
}

// readCSV reads requests.csv into rows keyed by id.
func readCSV(t *testing.T, path string) map[string]map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]map[string]string{}
	for _, r := range recs[1:] {
		row := map[string]string{}
		for i, col := range recs[0] {
			row[col] = r[i]
		}
		rows[row["id"]] = row
	}
	return rows
}

func TestRunBadInput(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "up.trace"), []byte("1\n2\n3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	huge := filepath.Join(dir, "huge.yaml")
	if err := os.WriteFile(huge, []byte(strings.Replace(faultScenario, "count: 20, ", "count: 20000, ", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	traced := filepath.Join(dir, "traced.yaml")
	if err := os.WriteFile(traced, []byte(strings.Replace(faultScenario, "link: {uplink_mbps: 10, rtt: 20ms}", "link: {trace: up.trace, rtt: 20ms}", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	twoApps := filepath.Join("..", "..", "..", "..", "docs", "examples", "two-apps.yaml")
	cases := []struct {
		name string
		opts RunOptions
		want string
	}{
		{"no out", RunOptions{Scenario: "builtin:default"}, "--out is required"},
		{"unknown scenario", RunOptions{Scenario: "builtin:nope", Out: "x"}, `no built-in scenario "nope"`},
		{"too many devices", RunOptions{Scenario: huge, Out: "x"}, "20000 devices; one hil run drives at most 10000"},
		{"failure rate over 1", RunOptions{Scenario: "builtin:default", Out: "x", MaxFailureRate: 1.5}, "--max-failure-rate 1.5: want a share from 0 to 1"},
		{"negative failure rate", RunOptions{Scenario: "builtin:default", Out: "x", MaxFailureRate: -0.1}, "--max-failure-rate -0.1"},
		{"unknown shaper", RunOptions{Scenario: "builtin:default", Out: "x", Shaper: "tc"}, `--shaper "tc": want process or kernel`},
		{"kernel shaper and a remote cloud", RunOptions{Scenario: "builtin:default", Out: "x", Shaper: "kernel", Cloud: "http://10.0.0.2:8000"}, "with --cloud the links are the real network's"},
		{"kernel shaper on a trace", RunOptions{Scenario: traced, Out: filepath.Join(dir, "out"), Shaper: "kernel"}, "the kernel shaper shapes constant rates"},
		{"several applications and one dataset", RunOptions{Scenario: twoApps, Out: "x", Dataset: "mnist"}, "each replaying its own bundle's held-out data"},
		{"several pools and a remote cloud", RunOptions{Scenario: filepath.Join(filepath.Dir(twoApps), "two-pools.yaml"), Out: "x", Cloud: "http://127.0.0.1:1"}, "cloud: 2 pools; hil run starts a server for each, a --cloud server is one"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Stdout, tc.opts.Stderr = io.Discard, io.Discard
			err := Run(context.Background(), &tc.opts)
			if cli.ExitCode(err) != cli.ExitBadInput || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Run: %v (exit %d), want exit %d and %q", err, cli.ExitCode(err), cli.ExitBadInput, tc.want)
			}
		})
	}
}

// faultScenario is builtin:cloud-only, shortened, with a timeout: every
// request goes to the cloud, so a failing cloud fails them all.
const faultScenario = `name: faults
seed: 1
requests: 40
bundle: builtin:fashion
timeout: 400ms
workload: {arrival: poisson, rate: 10}
edge: {count: 20, device: edge-cpu-1t}
link: {uplink_mbps: 10, rtt: 20ms}
cloud: {servers: 1, device: server-cpu}
policy: {kind: cloud-only}
`

// faultCloud serves the heavy model's metadata (input [-1 1 28 28], 10
// classes, unless input says otherwise) on loopback and answers inference
// with infer; kill closes it and its connections at once.
func faultCloud(t *testing.T, input []int64, infer http.Handler) (url string, kill func()) {
	t.Helper()
	if input == nil {
		input = []int64{-1, 1, 28, 28}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v2/models/heavy", func(w http.ResponseWriter, _ *http.Request) {
		json.NewEncoder(w).Encode(oip.ModelMetadata{Name: "heavy",
			Inputs:  []oip.MetadataTensor{{Name: "input", Datatype: oip.DatatypeFP32, Shape: input}},
			Outputs: []oip.MetadataTensor{{Name: "logits", Datatype: oip.DatatypeFP32, Shape: []int64{-1, 10}}}})
	})
	mux.Handle("POST /v2/models/heavy/infer", infer)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	var once sync.Once
	kill = func() { once.Do(func() { srv.Close() }) }
	t.Cleanup(kill)
	return "http://" + ln.Addr().String(), kill
}

// heavyHandler serves the bundle's real heavy model, as 'tandem hil serve'
// does.
func heavyHandler(t *testing.T) http.Handler {
	t.Helper()
	b, err := bundles.Load("builtin:fashion")
	if err != nil {
		t.Fatal(err)
	}
	heavy, err := b.ReadModel(bundles.ModelHeavy)
	if err != nil {
		t.Fatal(err)
	}
	sess, err := hil.OpenBytes("heavy", heavy, hil.Options{IntraOpThreads: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sess.Close() })
	cfg, err := oip.SessionConfig(sess, "heavy")
	if err != nil {
		t.Fatal(err)
	}
	s, err := oip.NewServer(sess, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// TestRunCloudFaults runs a cloud-only scenario for real against clouds
// that fail: every request is accounted for as completed or failed with
// its reason, the run exits with ExitTooManyFailed (its outputs written),
// a hung cloud is cut off by the scenario's timeout, and accuracy over all
// requests falls below edge-only's instead of rising above it.
func TestRunCloudFaults(t *testing.T) {
	hiltest.RequireORT(t)
	if testing.Short() && raceEnabled {
		t.Skip("five real runs take minutes under the race detector; hil/fleet's fault tests race the same code")
	}
	datatest.Load(t, data.FashionMNIST)
	dir := t.TempDir()
	scenario := filepath.Join(dir, "faults.yaml")
	if err := os.WriteFile(scenario, []byte(faultScenario), 0o644); err != nil {
		t.Fatal(err)
	}
	edgeOut := filepath.Join(dir, "edge-only")
	if err := Run(context.Background(), &RunOptions{Scenario: "builtin:edge-only", Requests: 40, Out: edgeOut, Stdout: io.Discard, Stderr: io.Discard}); err != nil {
		t.Fatal(err)
	}
	edgeOnly := readSummary(t, edgeOut)
	if edgeOnly.AccuracyOverRequests < 0.5 {
		t.Fatalf("edge-only accuracy %v over all requests", edgeOnly.AccuracyOverRequests)
	}

	stop := make(chan struct{})
	defer close(stop)
	var served atomic.Int64
	cases := []struct {
		name   string
		infer  http.Handler
		killAt int64    // kill the server once it has answered this many
		want   []string // the only failure reasons allowed
	}{
		{name: "503", infer: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Retry-After", "1")
			http.Error(w, `{"error": "overloaded"}`, http.StatusServiceUnavailable)
		}), want: []string{"http_503"}},
		{name: "hang", infer: http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-stop:
			}
		}), want: []string{"timeout"}},
		{name: "killed", killAt: 5, want: []string{"refused", "connection"}},
	}
	heavy := heavyHandler(t)
	var fastFail time.Duration // how long the run took against the 503 cloud
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			served.Store(0)
			infer := tc.infer
			if infer == nil {
				infer = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					heavy.ServeHTTP(w, r)
					// Answered is on the wire: the server would otherwise
					// write the buffered answer after the handler returns,
					// and a kill in between would lose it.
					w.(http.Flusher).Flush()
					served.Add(1)
				})
			}
			url, kill := faultCloud(t, nil, infer)
			if tc.killAt > 0 {
				go func() {
					for served.Load() < tc.killAt {
						select {
						case <-stop:
							return
						case <-time.After(time.Millisecond):
						}
					}
					kill()
				}()
			}
			out := filepath.Join(dir, tc.name)
			var stderr bytes.Buffer
			start := time.Now()
			err := Run(context.Background(), &RunOptions{Scenario: scenario, Cloud: url, Model: "heavy", Protocol: "json", Out: out, Stdout: io.Discard, Stderr: &stderr})
			// Without the timeout a hung cloud would hold every request for the
			// HTTP client's minute.
			switch took := time.Since(start); tc.name {
			case "503":
				fastFail = took
			case "hang":
				if took > fastFail+10*time.Second {
					t.Errorf("the run took %v against a hung cloud, %v against one that answered 503", took, fastFail)
				}
			}
			if cli.ExitCode(err) != cli.ExitTooManyFailed || !strings.Contains(err.Error(), "--max-failure-rate") {
				t.Fatalf("Run: %v (exit %d), want exit %d\n%s", err, cli.ExitCode(err), cli.ExitTooManyFailed, stderr.String())
			}
			sum := readSummary(t, out)
			rows := readCSV(t, filepath.Join(out, "requests.csv"))
			if sum.Requests != 40 || sum.Completed+sum.Failed != 40 || len(rows) != 40 || sum.Failed == 0 {
				t.Fatalf("%d requests: %d completed, %d failed, %d rows", sum.Requests, sum.Completed, sum.Failed, len(rows))
			}
			var byReason int64
			for reason, n := range sum.Failures {
				if !slices.Contains(tc.want, reason) {
					t.Errorf("failures %v, want only %v", sum.Failures, tc.want)
				}
				byReason += n
			}
			if byReason != sum.Failed {
				t.Errorf("failures %v do not add up to %d", sum.Failures, sum.Failed)
			}
			for id, r := range rows {
				if failed := r["status"] == "failed"; failed != (r["failure"] != "") || failed && !slices.Contains(tc.want, r["failure"]) {
					t.Errorf("request %s: status %s, failure %q", id, r["status"], r["failure"])
				}
			}
			if sum.AccuracyOverRequests >= edgeOnly.AccuracyOverRequests {
				t.Errorf("accuracy over all requests %v, edge-only's %v", sum.AccuracyOverRequests, edgeOnly.AccuracyOverRequests)
			}
			if tc.killAt > 0 && sum.Completed < tc.killAt {
				t.Errorf("%d completed before the kill, want at least %d", sum.Completed, tc.killAt)
			}
		})
	}
}

// TestRunCloudMetadataMismatch checks that a --cloud model that is not
// the bundle's is refused before any request, and before the dataset is
// read (none is needed).
func TestRunCloudMetadataMismatch(t *testing.T) {
	hiltest.RequireORT(t)
	var calls atomic.Int64
	url, _ := faultCloud(t, []int64{-1, 3, 32, 32}, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { calls.Add(1) }))
	err := Run(context.Background(), &RunOptions{Scenario: "builtin:cloud-only", Requests: 5, Cloud: url, Model: "heavy", Protocol: "json",
		Out: t.TempDir(), Stdout: io.Discard, Stderr: io.Discard})
	if cli.ExitCode(err) != cli.ExitBadInput || !strings.Contains(err.Error(), "has shape [-1 3 32 32], the bundle's model takes [-1 1 28 28]") || calls.Load() != 0 {
		t.Errorf("Run: %v (exit %d) after %d inference calls", err, cli.ExitCode(err), calls.Load())
	}
}

func TestRunCloudFlags(t *testing.T) {
	hiltest.RequireORT(t)
	dir := t.TempDir()
	empty, notPEM := filepath.Join(dir, "empty"), filepath.Join(dir, "ca.pem")
	os.WriteFile(empty, nil, 0o600)
	os.WriteFile(notPEM, []byte("hello"), 0o600)
	cases := []struct {
		name string
		opts RunOptions
		want string
	}{
		{"missing CA", RunOptions{CloudCA: filepath.Join(dir, "nope.pem")}, "--cloud-ca: open"},
		{"CA not PEM", RunOptions{CloudCA: notPEM}, "no PEM certificate in it"},
		{"empty token", RunOptions{CloudTokenFile: empty}, "--cloud-token-file: " + empty + " holds no token"},
		{"no server", RunOptions{}, "connection refused"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Scenario, tc.opts.Requests, tc.opts.Cloud, tc.opts.Model = "builtin:cloud-only", 5, "http://127.0.0.1:1", "heavy"
			tc.opts.Out, tc.opts.Stdout, tc.opts.Stderr = t.TempDir(), io.Discard, io.Discard
			err := Run(context.Background(), &tc.opts)
			if cli.ExitCode(err) != cli.ExitBadInput || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Run: %v (exit %d), want exit 2 and %q", err, cli.ExitCode(err), tc.want)
			}
		})
	}
}

func readSummary(t *testing.T, dir string) *deploy.Summary {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s deploy.Summary
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	return &s
}

// TestRunCloudBinaryNeedsExtension checks that the binary protocol is
// refused before any request by a server that does not list the extension.
func TestRunCloudBinaryNeedsExtension(t *testing.T) {
	hiltest.RequireORT(t)
	var calls atomic.Int64
	url, _ := faultCloud(t, nil, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { calls.Add(1) }))
	err := Run(context.Background(), &RunOptions{Scenario: "builtin:cloud-only", Requests: 5, Cloud: url, Model: "heavy", Protocol: "binary",
		Out: t.TempDir(), Stdout: io.Discard, Stderr: io.Discard})
	if cli.ExitCode(err) != cli.ExitBadInput || !strings.Contains(err.Error(), "--protocol json") || calls.Load() != 0 {
		t.Errorf("Run: %v (exit %d) after %d inference calls", err, cli.ExitCode(err), calls.Load())
	}
}

// TestRunTwoAppsRemoteCloud runs the two-application example against a
// tandem hil serve of both heavy models, each named as hil run asks for it.
func TestRunTwoAppsRemoteCloud(t *testing.T) {
	hiltest.RequireORT(t)
	datatest.Load(t, data.FashionMNIST)
	datatest.Load(t, data.MNIST)
	if testing.Short() {
		t.Skip("a second of real time, Fashion-MNIST and MNIST")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	root := filepath.Join("..", "..", "..", "..")
	ready, done := make(chan string, 1), make(chan error, 1)
	go func() {
		done <- Serve(ctx, &ServeOptions{Listen: "127.0.0.1:0", Model: "heavy=" + filepath.Join(root, "bundles", "fashion", "heavy.onnx"),
			Also: []string{"heavy-digits=" + filepath.Join(root, "bundles", "digits", "heavy.onnx")}, Threads: 1, MaxBatch: 8, MaxWait: 2 * time.Millisecond,
			Log: io.Discard, Ready: func(addr string) { ready <- addr }})
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("Serve: %v", err)
	}
	out := filepath.Join(t.TempDir(), "hil")
	var stderr bytes.Buffer
	err := Run(context.Background(), &RunOptions{Scenario: filepath.Join(root, "docs", "examples", "two-apps.yaml"), Requests: 120, Cloud: "http://" + addr, Model: "heavy",
		Out: out, Stdout: io.Discard, Stderr: &stderr})
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	rows := readCSV(t, filepath.Join(out, "requests.csv"))
	offloaded := [2]int{}
	for _, r := range rows {
		if r["status"] != "ok" {
			t.Fatalf("request %s: %s (%s)", r["id"], r["status"], r["failure"])
		}
		if r["decision"] == "cloud" {
			d, _ := strconv.Atoi(r["device"])
			offloaded[d/10]++
		}
	}
	if len(rows) != 120 || offloaded[0] == 0 || offloaded[1] == 0 {
		t.Errorf("%d requests, offloaded per application %v: want 120 and both applications in the cloud", len(rows), offloaded)
	}
}
