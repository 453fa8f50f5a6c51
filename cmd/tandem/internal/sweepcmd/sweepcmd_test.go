package sweepcmd

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tandem-edge/tandem/cmd/tandem/internal/cli"
)

func execute(t *testing.T, args ...string) error {
	t.Helper()
	cmd := NewCmd()
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	return cmd.Execute()
}

// TestShardAndMerge runs a sweep whole and in two shards through the
// command, and checks that merge gives the same files.
func TestShardAndMerge(t *testing.T) {
	dir := t.TempDir()
	spec := filepath.Join(dir, "s.yaml")
	if err := os.WriteFile(spec, []byte("scenario: builtin:threshold\nrequests: 500\nvary:\n  edge.count: [2, 4, 6]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	whole, a, b, merged := filepath.Join(dir, "whole"), filepath.Join(dir, "a"), filepath.Join(dir, "b"), filepath.Join(dir, "merged")
	for _, args := range [][]string{
		{spec, "--out", whole},
		{spec, "--shard", "0/2", "--out", a},
		{spec, "--shard", "1/2", "--out", b},
		{"merge", a, b, "--out", merged},
	} {
		if err := execute(t, args...); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
	}
	// shard.json too: the merge's manifest is the whole run's.
	for _, name := range []string{"results.jsonl", "results.csv", "shard.json"} {
		x, err1 := os.ReadFile(filepath.Join(whole, name))
		y, err2 := os.ReadFile(filepath.Join(merged, name))
		if err1 != nil || err2 != nil || !bytes.Equal(x, y) {
			t.Errorf("%s: merged shards differ from the whole (%v, %v)", name, err1, err2)
		}
	}
	// A missing shard is an error, and leaves no output.
	lone := filepath.Join(dir, "lone")
	if err := execute(t, "merge", a, "--out", lone); cli.ExitCode(err) != cli.ExitBadInput {
		t.Errorf("merge of one of two shards: %v", err)
	}
	if _, err := os.Stat(lone); !os.IsNotExist(err) {
		t.Errorf("merge left %s behind", lone)
	}
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("scenario: builtin:threshold\nvary:\n  edge.count: [0]\n"), 0o644)
	for _, args := range [][]string{
		{bad},
		{bad, "--out", filepath.Join(dir, "o"), "--shard", "2/2"},
		{filepath.Join(dir, "missing.yaml"), "--out", filepath.Join(dir, "o")},
		{bad, "--out", filepath.Join(dir, "o")},
		{"merge", dir, "--out", filepath.Join(dir, "m")},
	} {
		if err := execute(t, args...); cli.ExitCode(err) != cli.ExitBadInput {
			t.Errorf("%v: %v (exit %d), want exit %d", args, err, cli.ExitCode(err), cli.ExitBadInput)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "o")); !os.IsNotExist(err) {
		t.Error("a failed sweep left its --out folder")
	}
}

// run executes the command and returns what it printed.
func run(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	cmd := NewCmd()
	cmd.SetArgs(args)
	var o, e bytes.Buffer
	cmd.SetOut(&o)
	cmd.SetErr(&e)
	err = cmd.Execute()
	return o.String(), e.String(), err
}

const small = "name: small\nscenario: builtin:threshold\nrequests: 200\nvary:\n  edge.count: [2, 4, 6]\n"

// TestRerun: a finished shard is left alone; one that did not finish, was
// changed, or is of another sweep or shard is run again.
func TestRerun(t *testing.T) {
	cases := []struct {
		name  string
		spoil func(t *testing.T, spec, dir string)
		want  string // on stderr; "" for nothing to do
	}{
		{"finished", func(*testing.T, string, string) {}, ""},
		{"no manifest", func(t *testing.T, _, dir string) { remove(t, filepath.Join(dir, "shard.json")) }, "results.jsonl but no shard.json: a run that did not finish"},
		{"truncated", func(t *testing.T, _, dir string) {
			if err := os.Truncate(filepath.Join(dir, "results.csv"), 3); err != nil {
				t.Fatal(err)
			}
		}, "results.csv does not match shard.json"},
		{"sweep edited", func(t *testing.T, spec, _ string) { writeFile(t, spec, small+"# edited\n") }, "it holds another sweep file"},
		{"another shard", func(t *testing.T, spec, dir string) {
			remove(t, dir)
			if _, _, err := run(t, spec, "--shard", "1/2", "--out", dir); err != nil {
				t.Fatal(err)
			}
		}, "it holds shard 1/2, not 0/2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			spec, dir := filepath.Join(root, "s.yaml"), filepath.Join(root, "shard-0")
			writeFile(t, spec, small)
			if _, _, err := run(t, spec, "--shard", "0/2", "--out", dir); err != nil {
				t.Fatal(err)
			}
			tc.spoil(t, spec, dir)
			stdout, stderr, err := run(t, spec, "--shard", "0/2", "--out", dir)
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == "" {
				if !strings.Contains(stdout, "shard 0/2 of "+spec+" is complete (2 points, shard.json matches): nothing to do") || stderr != "" {
					t.Errorf("rerun of a finished shard printed\n%s%s", stdout, stderr)
				}
				return
			}
			if !strings.Contains(stderr, dir+": running shard 0/2 again: ") || !strings.Contains(stderr, tc.want) || !strings.Contains(stdout, "2 points: wrote") {
				t.Errorf("rerun printed\n%s%s\nwant %q", stdout, stderr, tc.want)
			}
			if _, _, err := run(t, "merge", dir, "--out", filepath.Join(root, "m")); err == nil || !strings.Contains(err.Error(), "shard 1/2 of sweep small is missing") {
				t.Errorf("the shard run again is not shard 0/2 of the sweep: merge says %v", err)
			}
		})
	}
}

// TestMergeRefuses: merge names the folder that does not belong, and writes
// nothing.
func TestMergeRefuses(t *testing.T) {
	root := t.TempDir()
	spec, other := filepath.Join(root, "s.yaml"), filepath.Join(root, "other.yaml")
	writeFile(t, spec, small)
	writeFile(t, other, strings.Replace(small, "small", "other", 1))
	dir := func(name string) string { return filepath.Join(root, name) }
	for _, args := range [][]string{
		{spec, "--shard", "0/2", "--out", dir("a")},
		{spec, "--shard", "1/2", "--out", dir("b")},
		{spec, "--shard", "1/3", "--out", dir("b3")},
		{other, "--shard", "1/2", "--out", dir("b-other")},
		{spec, "--shard", "1/2", "--out", dir("b-unfinished")},
		{spec, "--shard", "1/2", "--out", dir("b-old")},
	} {
		if _, _, err := run(t, args...); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
	}
	remove(t, filepath.Join(dir("b-unfinished"), "shard.json"))
	// As if another build had written it: only the manifest says which.
	m := filepath.Join(dir("b-old"), "shard.json")
	b, err := os.ReadFile(m)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, m, strings.Replace(string(b), `"module": "`, `"module": "old-`, 1))

	for _, tc := range []struct {
		name  string
		parts []string
		want  string
	}{
		{"missing", []string{"a"}, "shard 1/2 of sweep small is missing"},
		{"twice", []string{"a", "b", "b"}, dir("b") + " and " + dir("b") + " are both shard 1/2"},
		{"another count", []string{"a", "b3"}, dir("b3") + ": shard 1/3, of 3 shards, not 2"},
		{"another sweep", []string{"a", "b-other"}, dir("b-other") + ": another sweep file"},
		{"unfinished", []string{"a", "b-unfinished"}, dir("b-unfinished") + ": no shard.json"},
		{"another build", []string{"a", "b-old"}, dir("b-old") + ": written by tandem old-"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(root, "merged-"+tc.name)
			args := []string{"merge"}
			for _, p := range tc.parts {
				args = append(args, dir(p))
			}
			_, _, err := run(t, append(args, "--out", out)...)
			if cli.ExitCode(err) != cli.ExitBadInput || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("merge: %v (exit %d), want exit 2 and %q", err, cli.ExitCode(err), tc.want)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("merge left %s behind", out)
			}
		})
	}
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func remove(t *testing.T, path string) {
	t.Helper()
	if err := os.RemoveAll(path); err != nil {
		t.Fatal(err)
	}
}

func TestEmit(t *testing.T) {
	root := t.TempDir()
	spec := filepath.Join(root, "s.yaml")
	writeFile(t, spec, small)
	rel := filepath.Join(root, "rel.yaml")
	writeFile(t, rel, strings.Replace(small, "builtin:threshold", "mine.yaml", 1))
	out := filepath.Join(root, "job")

	stdout, _, err := run(t, spec, "--emit", "slurm", "--shards", "3", "--tandem", "/opt/tandem/bin/tandem", "--time", "0:10:00", "--sbatch", "--account=lab", "--out", out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout, "slurm job tandem-small, 3 shards of 3 points: wrote ") {
		t.Errorf("printed %q", stdout)
	}
	b, err := os.ReadFile(filepath.Join(out, "sweep.sbatch"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"#SBATCH --job-name=tandem-small\n", "#SBATCH --time=0:10:00\n", "#SBATCH --cpus-per-task=1\n", "#SBATCH --account=lab\n", "#SBATCH --array=0-2\n",
		"exec /opt/tandem/bin/tandem sweep " + spec + ` --shard "${SLURM_ARRAY_TASK_ID}/3" --out ` + out + `"/shard-${SLURM_ARRAY_TASK_ID}"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("sweep.sbatch lacks %q:\n%s", want, b)
		}
	}
	if fi, err := os.Stat(filepath.Join(out, "submit.sh")); err != nil || fi.Mode().Perm()&0o100 == 0 {
		t.Errorf("submit.sh: %v, %v", fi, err)
	}
	// Without --tandem, this binary, by absolute path.
	if _, _, err := run(t, spec, "--emit", "slurm", "--shards", "2", "--out", filepath.Join(root, "self")); err != nil {
		t.Fatal(err)
	}
	self, _ := os.Executable()
	self, _ = filepath.EvalSymlinks(self)
	if b, _ := os.ReadFile(filepath.Join(root, "self", "merge.sbatch")); !strings.Contains(string(b), "exec "+self+" sweep merge") {
		t.Errorf("merge.sbatch does not run %s:\n%s", self, b)
	}
	if _, _, err := run(t, spec, "--emit", "k8s", "--shards", "3", "--image", "tandem:1", "--claim", "sweeps", "--out", filepath.Join(root, "k8s")); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"k8s-sweep.yaml", "k8s-merge.yaml", "submit.sh"} {
		if _, err := os.Stat(filepath.Join(root, "k8s", name)); err != nil {
			t.Error(err)
		}
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{spec, "--emit", "slurm"}, "--emit needs --shards N"},
		{[]string{spec, "--emit", "slurm", "--shards", "4"}, "--shards 4: " + spec + " has only 3 points"},
		{[]string{spec, "--emit", "pbs", "--shards", "2"}, `--emit "pbs": want slurm or k8s`},
		{[]string{spec, "--emit", "slurm", "--shards", "2", "--shard", "1/2"}, "--shard is for one of them"},
		{[]string{spec, "--emit", "slurm", "--shards", "2", "--cpus-per-task", "0"}, "--cpus-per-task 0"},
		{[]string{spec, "--emit", "slurm", "--shards", "2", "--image", "x"}, "--image is for --emit k8s"},
		{[]string{spec, "--emit", "k8s", "--shards", "2", "--image", "x", "--claim", "c", "--time", "1:00"}, "--time is for --emit slurm"},
		{[]string{spec, "--emit", "k8s", "--shards", "2", "--claim", "c"}, "--image is required"},
		{[]string{rel, "--emit", "k8s", "--shards", "2", "--image", "x", "--claim", "c"}, `scenario "mine.yaml" is a path relative to the sweep file`},
		{[]string{spec, "--emit", "slurm", "--shards", "2", "--sbatch", "account=lab"}, "want one sbatch option"},
		{[]string{spec, "--shards", "2"}, "--shards is for --emit slurm or k8s"},
	} {
		_, _, err := run(t, append(tc.args, "--out", filepath.Join(root, "bad"))...)
		if cli.ExitCode(err) != cli.ExitBadInput || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v (exit %d), want exit 2 and %q", tc.args[1:], err, cli.ExitCode(err), tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "bad")); !os.IsNotExist(err) {
		t.Error("a refused --emit left its --out folder")
	}
}
