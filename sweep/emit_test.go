package sweep

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// recorder writes a shell script at path that appends its arguments (and
// GOMAXPROCS) to log, one call a line, and prints reply: a stand-in for
// sbatch or tandem.
func recorder(t *testing.T, path, log, reply string) {
	t.Helper()
	script := "#!/bin/sh\necho \"GOMAXPROCS=$GOMAXPROCS $*\" >> " + shq(log) + "\n"
	if reply != "" {
		script += "echo " + shq(reply) + "\n"
	}
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
}

func shellcheck(t *testing.T, files ...string) {
	t.Helper()
	for _, f := range files {
		if out, err := exec.Command("bash", "-n", f).CombinedOutput(); err != nil {
			t.Errorf("bash -n %s: %v\n%s", f, err, out)
		}
	}
	if _, err := exec.LookPath("shellcheck"); err != nil {
		t.Log("shellcheck not installed: only bash -n checked the scripts")
		return
	}
	if out, err := exec.Command("shellcheck", files...).CombinedOutput(); err != nil {
		t.Errorf("shellcheck: %v\n%s", err, out)
	}
}

func writeAll(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSlurmScripts writes the scripts and runs them with sbatch and tandem
// stood in for by recorders: submit.sh submits the array, then the merge
// held on it; a task runs its shard; the merge names every shard.
func TestSlurmScripts(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(dir, "calls")
	tandem, sbatch := filepath.Join(dir, "tandem"), filepath.Join(dir, "sbatch")
	recorder(t, tandem, log, "")
	s := Slurm{Tandem: tandem, Sweep: "/data/my sweep's.yaml", Out: out, Shards: 4,
		JobName: "tandem-fleet", Time: "2:00:00", CPUs: 3, Mem: "2G", Extra: []string{"--account=lab", "--qos high"}}
	files, err := s.Files()
	if err != nil {
		t.Fatal(err)
	}
	writeAll(t, out, files)
	array := string(files[SlurmArrayScript])
	for _, want := range []string{
		"#!/bin/bash\n#SBATCH --job-name=tandem-fleet\n#SBATCH --time=2:00:00\n#SBATCH --cpus-per-task=3\n#SBATCH --mem=2G\n",
		"#SBATCH --output=" + out + "/logs/shard-%a.out\n#SBATCH --account=lab\n#SBATCH --qos high\n#SBATCH --array=0-3\n",
	} {
		if !strings.Contains(array, want) {
			t.Errorf("%s lacks %q:\n%s", SlurmArrayScript, want, array)
		}
	}
	if m := string(files[SlurmMergeScript]); !strings.Contains(m, "#SBATCH --job-name=tandem-fleet-merge\n") || !strings.Contains(m, "#SBATCH --output="+out+"/logs/merge.out\n") || strings.Contains(m, "--array") {
		t.Errorf("%s:\n%s", SlurmMergeScript, m)
	}
	var paths []string
	for name := range files {
		paths = append(paths, filepath.Join(out, name))
	}
	shellcheck(t, paths...)

	// Each step as Slurm would run it.
	recorder(t, sbatch, log, "41;cluster")
	submit := exec.Command("bash", filepath.Join(out, SubmitScript))
	submit.Env = append(os.Environ(), "SBATCH="+sbatch)
	stdout, err := submit.Output()
	if err != nil {
		t.Fatalf("submit.sh: %v", err)
	}
	if !strings.Contains(string(stdout), "submitted array job 41 (tasks 0-3)\nsubmitted merge job 41 (after array job 41 succeeds); results in "+out+"\n") {
		t.Errorf("submit.sh printed\n%s", stdout)
	}
	task := exec.Command("bash", filepath.Join(out, SlurmArrayScript))
	task.Env = append(os.Environ(), "SLURM_ARRAY_TASK_ID=2", "SLURM_CPUS_PER_TASK=3")
	if b, err := task.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", SlurmArrayScript, err, b)
	}
	if b, err := exec.Command("bash", filepath.Join(out, SlurmMergeScript)).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", SlurmMergeScript, err, b)
	}
	calls, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	gomaxprocs := "GOMAXPROCS=" + os.Getenv("GOMAXPROCS")
	want := strings.Join([]string{
		gomaxprocs + " --parsable " + out + "/sweep.sbatch",
		gomaxprocs + " --parsable --dependency=afterok:41 " + out + "/merge.sbatch",
		"GOMAXPROCS=3 sweep /data/my sweep's.yaml --shard 2/4 --out " + out + "/shard-2",
		gomaxprocs + " sweep merge " + out + "/shard-0 " + out + "/shard-1 " + out + "/shard-2 " + out + "/shard-3 --out " + out,
	}, "\n") + "\n"
	if string(calls) != want {
		t.Errorf("calls:\n%s\nwant:\n%s", calls, want)
	}
	if _, err := os.Stat(filepath.Join(out, LogsDir)); err != nil {
		t.Errorf("submit.sh did not make the logs folder: %v", err)
	}
}

func TestSlurmErrors(t *testing.T) {
	ok := Slurm{Tandem: "/bin/tandem", Sweep: "/s.yaml", Out: "/out", Shards: 2}
	for _, tc := range []struct {
		name string
		edit func(*Slurm)
		want string
	}{
		{"relative binary", func(s *Slurm) { s.Tandem = "tandem" }, `tandem binary "tandem": want an absolute path`},
		{"relative out", func(s *Slurm) { s.Out = "out" }, `--out "out": want an absolute path`},
		{"space in out", func(s *Slurm) { s.Out = "/my out" }, "#SBATCH --output cannot carry spaces"},
		{"percent in out", func(s *Slurm) { s.Out = "/out%j" }, "#SBATCH --output cannot carry"},
		{"no shards", func(s *Slurm) { s.Shards = 0 }, "0 shards"},
		{"a name of two words", func(s *Slurm) { s.JobName = "my sweep" }, `--job-name "my sweep": want one word`},
		{"a quoted time", func(s *Slurm) { s.Time = `"1:00"` }, "--time"},
		{"not an option", func(s *Slurm) { s.Extra = []string{"account=lab"} }, `--sbatch "account=lab": want one sbatch option`},
		{"two lines", func(s *Slurm) { s.Extra = []string{"--a\n--b"} }, "want one sbatch option"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := ok
			tc.edit(&s)
			if _, err := s.Files(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Files: %v, want %q", err, tc.want)
			}
		})
	}
	if _, err := ok.Files(); err != nil {
		t.Errorf("Files: %v", err)
	}
}

// docs splits a multi-document YAML file into its documents.
func docs(t *testing.T, b []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for {
		var d map[string]any
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("not YAML: %v\n%s", err, b)
		}
		out = append(out, d)
	}
}

// get walks a decoded YAML document: keys for mappings, ints for lists.
func get(t *testing.T, v any, path ...any) any {
	t.Helper()
	for _, p := range path {
		switch p := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("at %q: not a mapping: %v", p, v)
			}
			v = m[p]
		case int:
			l, ok := v.([]any)
			if !ok || p >= len(l) {
				t.Fatalf("at [%d]: not a list that long: %v", p, v)
			}
			v = l[p]
		}
	}
	return v
}

func TestKubernetesManifests(t *testing.T) {
	sweepFile := []byte("name: fleet\nscenario: builtin:default\n# a \"quoted\" comment, a tab\t, ünïcode\nvary:\n  workload.rate: [10, 20]\n")
	k := Kubernetes{Name: "tandem-fleet", Namespace: "lab", Image: "registry.example/tandem:1", Sweep: sweepFile, Shards: 4, CPUs: 2, Claim: "sweeps"}
	files, err := k.Files()
	if err != nil {
		t.Fatal(err)
	}
	job := docs(t, files[K8sJobManifest])
	if len(job) != 2 || job[0]["kind"] != "ConfigMap" || job[1]["kind"] != "Job" {
		t.Fatalf("%s: %d documents: %v", K8sJobManifest, len(job), job)
	}
	if got := get(t, job[0], "data", "sweep.yaml"); got != string(sweepFile) {
		t.Errorf("the ConfigMap's sweep.yaml is %q, not the sweep file", got)
	}
	for _, tc := range []struct {
		path []any
		want any
	}{
		{[]any{"apiVersion"}, "batch/v1"},
		{[]any{"metadata", "name"}, "tandem-fleet"},
		{[]any{"metadata", "namespace"}, "lab"},
		{[]any{"spec", "completionMode"}, "Indexed"},
		{[]any{"spec", "completions"}, 4},
		{[]any{"spec", "parallelism"}, 4},
		{[]any{"spec", "template", "spec", "restartPolicy"}, "Never"},
		{[]any{"spec", "template", "spec", "containers", 0, "image"}, "registry.example/tandem:1"},
		{[]any{"spec", "template", "spec", "containers", 0, "env", 0, "name"}, "JOB_COMPLETION_INDEX"},
		{[]any{"spec", "template", "spec", "containers", 0, "env", 0, "valueFrom", "fieldRef", "fieldPath"}, "metadata.annotations['batch.kubernetes.io/job-completion-index']"},
		{[]any{"spec", "template", "spec", "containers", 0, "env", 1, "value"}, "2"},
		{[]any{"spec", "template", "spec", "containers", 0, "resources", "requests", "cpu"}, "2"},
		{[]any{"spec", "template", "spec", "volumes", 0, "configMap", "name"}, "tandem-fleet-sweep"},
		{[]any{"spec", "template", "spec", "volumes", 1, "persistentVolumeClaim", "claimName"}, "sweeps"},
	} {
		if got := get(t, job[1], tc.path...); got != tc.want {
			t.Errorf("Job %v = %v, want %v", tc.path, got, tc.want)
		}
	}
	args := strings.Join(anyStrings(t, get(t, job[1], "spec", "template", "spec", "containers", 0, "args")), " ")
	if args != "sweep /etc/tandem/sweep.yaml --shard $(JOB_COMPLETION_INDEX)/4 --out /sweeps/tandem-fleet/shard-$(JOB_COMPLETION_INDEX)" {
		t.Errorf("Job args %q", args)
	}
	merge := docs(t, files[K8sMergeManifest])
	if len(merge) != 1 || merge[0]["kind"] != "Job" || get(t, merge[0], "metadata", "name") != "tandem-fleet-merge" || get(t, merge[0], "spec", "completionMode") != nil {
		t.Fatalf("%s: %v", K8sMergeManifest, merge)
	}
	args = strings.Join(anyStrings(t, get(t, merge[0], "spec", "template", "spec", "containers", 0, "args")), " ")
	if args != "sweep merge /sweeps/tandem-fleet/shard-0 /sweeps/tandem-fleet/shard-1 /sweeps/tandem-fleet/shard-2 /sweeps/tandem-fleet/shard-3 --out /sweeps/tandem-fleet" {
		t.Errorf("merge Job args %q", args)
	}

	dir := t.TempDir()
	writeAll(t, dir, files)
	shellcheck(t, filepath.Join(dir, SubmitScript))
	log, kubectl := filepath.Join(dir, "calls"), filepath.Join(dir, "kubectl")
	recorder(t, kubectl, log, "")
	submit := exec.Command("bash", filepath.Join(dir, SubmitScript))
	submit.Env = append(os.Environ(), "KUBECTL="+kubectl, "GOMAXPROCS=1")
	if b, err := submit.CombinedOutput(); err != nil {
		t.Fatalf("submit.sh: %v\n%s", err, b)
	}
	calls, _ := os.ReadFile(log)
	want := `GOMAXPROCS=1 --namespace lab apply -f k8s-sweep.yaml
GOMAXPROCS=1 --namespace lab wait --for=condition=complete --timeout=-1s job/tandem-fleet
GOMAXPROCS=1 --namespace lab apply -f k8s-merge.yaml
GOMAXPROCS=1 --namespace lab wait --for=condition=complete --timeout=-1s job/tandem-fleet-merge
`
	if string(calls) != want {
		t.Errorf("kubectl calls:\n%s\nwant\n%s", calls, want)
	}
}

func anyStrings(t *testing.T, v any) []string {
	t.Helper()
	l, ok := v.([]any)
	if !ok {
		t.Fatalf("not a list: %v", v)
	}
	out := make([]string, len(l))
	for i, e := range l {
		out[i], ok = e.(string)
		if !ok {
			t.Fatalf("not a string: %v", e)
		}
	}
	return out
}

func TestKubernetesErrors(t *testing.T) {
	ok := Kubernetes{Name: "tandem-x", Image: "i", Claim: "c", Shards: 2}
	for _, tc := range []struct {
		name string
		edit func(*Kubernetes)
		want string
	}{
		{"upper-case name", func(k *Kubernetes) { k.Name = "Tandem" }, `job name "Tandem": want lower-case`},
		{"long name", func(k *Kubernetes) { k.Name = strings.Repeat("a", 49) }, "at most 48"},
		{"no image", func(k *Kubernetes) { k.Image = "" }, "--image is required"},
		{"no claim", func(k *Kubernetes) { k.Claim = "" }, "--claim is required"},
		{"bad claim", func(k *Kubernetes) { k.Claim = "a b" }, `--claim "a b": not a Kubernetes name`},
		{"bad namespace", func(k *Kubernetes) { k.Namespace = "-x" }, `--namespace "-x"`},
		{"no shards", func(k *Kubernetes) { k.Shards = 0 }, "0 shards"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := ok
			tc.edit(&k)
			if _, err := k.Files(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Files: %v, want %q", err, tc.want)
			}
		})
	}
}
