package sweep

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// The files Slurm.Files writes, and the folders its jobs write into, under
// the sweep's output folder.
const (
	SlurmArrayScript = "sweep.sbatch"
	SlurmMergeScript = "merge.sbatch"
	SubmitScript     = "submit.sh"
	LogsDir          = "logs"
	K8sJobManifest   = "k8s-sweep.yaml"
	K8sMergeManifest = "k8s-merge.yaml"
)

// ShardDir is shard k's folder under a sweep's output folder.
func ShardDir(out string, k int) string { return filepath.Join(out, "shard-"+strconv.Itoa(k)) }

// Slurm is how a sweep runs as a Slurm job array: one task per shard, each
// writing Out/shard-K, and a merge job, held until every task succeeded,
// writing the sweep's results into Out itself.
type Slurm struct {
	Tandem string // the binary, as a path the nodes see
	Sweep  string // the sweep file, the same
	Out    string // the same
	Shards int

	// #SBATCH options; the zero value of each leaves it out, so that the
	// cluster's default applies.
	JobName   string
	Time      string // such as 1:00:00; the merge job gets the same
	CPUs      int    // per task; GOMAXPROCS follows it
	Partition string
	Mem       string   // per task, such as 2G
	Extra     []string // more #SBATCH options, such as --account=lab
}

// sbatchSafe is what a path must be made of to sit on an #SBATCH line:
// sbatch splits those lines at spaces, and reads % in --output as a pattern.
var sbatchSafe = regexp.MustCompile(`^[A-Za-z0-9/._+,:=@-]+$`)

// Files returns the array script, the merge script and submit.sh, which
// submits both (sbatch --parsable, then --dependency=afterok on the array).
func (s Slurm) Files() (map[string][]byte, error) {
	for _, p := range []struct{ flag, path string }{{"tandem binary", s.Tandem}, {"sweep file", s.Sweep}, {"--out", s.Out}} {
		if !filepath.IsAbs(p.path) {
			return nil, fmt.Errorf("sweep: slurm: %s %q: want an absolute path", p.flag, p.path)
		}
	}
	if !sbatchSafe.MatchString(s.Out) {
		return nil, fmt.Errorf("sweep: slurm: --out %q: #SBATCH --output cannot carry spaces, quotes or %%; choose a plainer folder", s.Out)
	}
	if s.Shards < 1 {
		return nil, fmt.Errorf("sweep: slurm: %d shards", s.Shards)
	}
	for _, v := range []struct{ flag, value string }{{"--job-name", s.JobName}, {"--time", s.Time}, {"--partition", s.Partition}, {"--mem", s.Mem}} {
		if strings.ContainsAny(v.value, " \t\r\n'\"\\") {
			return nil, fmt.Errorf("sweep: slurm: %s %q: want one word, without spaces or quotes", v.flag, v.value)
		}
	}
	for _, e := range s.Extra {
		if !strings.HasPrefix(e, "-") || strings.ContainsAny(e, "\n\r") {
			return nil, fmt.Errorf("sweep: slurm: --sbatch %q: want one sbatch option, such as --account=lab", e)
		}
	}
	logs := filepath.Join(s.Out, LogsDir)
	header := func(name, output string) string {
		var b strings.Builder
		b.WriteString("#!/bin/bash\n")
		line := func(opt, v string) {
			if v != "" {
				fmt.Fprintf(&b, "#SBATCH --%s=%s\n", opt, v)
			}
		}
		line("job-name", name)
		line("time", s.Time)
		if s.CPUs > 0 {
			line("cpus-per-task", strconv.Itoa(s.CPUs))
		}
		line("partition", s.Partition)
		line("mem", s.Mem)
		line("output", filepath.Join(logs, output))
		for _, e := range s.Extra {
			fmt.Fprintf(&b, "#SBATCH %s\n", e)
		}
		return b.String()
	}
	name := s.JobName
	mergeName := ""
	if name != "" {
		mergeName = name + "-merge"
	}

	var array strings.Builder
	array.WriteString(header(name, "shard-%a.out"))
	fmt.Fprintf(&array, "#SBATCH --array=0-%d\n", s.Shards-1)
	fmt.Fprintf(&array, `# One task per shard of %[1]s; submit.sh submits it.
# A task run again (requeued, or the array resubmitted) skips a shard whose
# folder is complete.
set -euo pipefail
# The Go runtime would otherwise use every core it sees, not the task's share.
export GOMAXPROCS="${SLURM_CPUS_PER_TASK:-1}"
exec %[2]s sweep %[1]s --shard "${SLURM_ARRAY_TASK_ID}/%[3]d" --out %[4]s"/shard-${SLURM_ARRAY_TASK_ID}"
`, shq(s.Sweep), shq(s.Tandem), s.Shards, shq(s.Out))

	var merge strings.Builder
	merge.WriteString(header(mergeName, "merge.out"))
	fmt.Fprintf(&merge, `# Joins the shards of %s into the sweep's results; submit.sh holds it
# until every task of the array succeeded. Every shard is named, so that a
# missing one is reported by name.
set -euo pipefail
exec %s sweep merge \
`, shq(s.Sweep), shq(s.Tandem))
	for k := range s.Shards {
		fmt.Fprintf(&merge, "\t%s \\\n", shq(ShardDir(s.Out, k)))
	}
	fmt.Fprintf(&merge, "\t--out %s\n", shq(s.Out))

	submit := fmt.Sprintf(`#!/bin/bash
# Submits the sweep of %[1]s to Slurm: the array of %[2]d tasks, then the merge,
# to start once every task succeeded. sbatch comes from $SBATCH (default sbatch).
set -euo pipefail
sbatch="${SBATCH:-sbatch}"
mkdir -p %[3]s
# --parsable prints "JOBID" or "JOBID;CLUSTER".
array="$("$sbatch" --parsable %[4]s)"
array="${array%%%%;*}"
echo "submitted array job ${array} (tasks 0-%[5]d)"
merge="$("$sbatch" --parsable --dependency="afterok:${array}" %[6]s)"
merge="${merge%%%%;*}"
echo "submitted merge job ${merge} (after array job ${array} succeeds); results in" %[7]s
`, shq(s.Sweep), s.Shards, shq(logs), shq(filepath.Join(s.Out, SlurmArrayScript)), s.Shards-1, shq(filepath.Join(s.Out, SlurmMergeScript)), shq(s.Out))

	return map[string][]byte{
		SlurmArrayScript: []byte(array.String()),
		SlurmMergeScript: []byte(merge.String()),
		SubmitScript:     []byte(submit),
	}, nil
}

// shq quotes s for a POSIX shell.
func shq(s string) string {
	if s != "" && sbatchSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Kubernetes is how a sweep runs as a Kubernetes Indexed Job: a ConfigMap
// carries the sweep file, pod K runs shard K into a shared volume, and a
// merge Job, applied once the Indexed Job completed, joins them there.
type Kubernetes struct {
	Name      string // of the Job; the ConfigMap and merge Job add suffixes
	Namespace string // "": kubectl's current one
	Image     string // with tandem on its PATH
	Sweep     []byte // the sweep file's bytes
	Shards    int
	CPUs      int    // requested per pod; GOMAXPROCS follows it
	Claim     string // the PersistentVolumeClaim the pods share, mounted at /sweeps
}

// k8sName is what Kubernetes accepts as a Job's name (a DNS label; the
// pods' names add a suffix, hence the shorter bound).
var k8sName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,46}[a-z0-9])?$`)

// Files returns the ConfigMap and Indexed Job, the merge Job, and submit.sh,
// which applies the first, waits for it to complete and applies the second.
func (k Kubernetes) Files() (map[string][]byte, error) {
	switch {
	case !k8sName.MatchString(k.Name):
		return nil, fmt.Errorf("sweep: k8s: job name %q: want lower-case letters, digits and '-', at most 48", k.Name)
	case k.Image == "":
		return nil, fmt.Errorf("sweep: k8s: --image is required: an image with tandem on its PATH")
	case k.Claim == "":
		return nil, fmt.Errorf("sweep: k8s: --claim is required: a PersistentVolumeClaim every pod can mount")
	case !k8sName.MatchString(k.Claim):
		return nil, fmt.Errorf("sweep: k8s: --claim %q: not a Kubernetes name", k.Claim)
	case k.Namespace != "" && !k8sName.MatchString(k.Namespace):
		return nil, fmt.Errorf("sweep: k8s: --namespace %q: not a Kubernetes name", k.Namespace)
	case k.Shards < 1:
		return nil, fmt.Errorf("sweep: k8s: %d shards", k.Shards)
	}
	cpus := max(k.CPUs, 1)
	out := "/sweeps/" + k.Name
	ns := ""
	if k.Namespace != "" {
		ns = "\n  namespace: " + q(k.Namespace)
	}
	pod := func(args []string) string {
		quoted := make([]string, len(args))
		for i, a := range args {
			quoted[i] = q(a)
		}
		return fmt.Sprintf(`    spec:
      restartPolicy: Never
      containers:
        - name: tandem
          image: %s
          command: ["tandem"]
          args: [%s]
          env:
            - name: GOMAXPROCS
              value: "%d"
          resources:
            requests:
              cpu: "%d"
          volumeMounts:
            - {name: sweep, mountPath: /etc/tandem, readOnly: true}
            - {name: results, mountPath: /sweeps}
      volumes:
        - name: sweep
          configMap: {name: %s}
        - name: results
          persistentVolumeClaim: {claimName: %s}
`, q(k.Image), strings.Join(quoted, ", "), cpus, cpus, q(k.Name+"-sweep"), q(k.Claim))
	}
	job := fmt.Sprintf(`# The sweep as an Indexed Job: pod K runs shard K/%[3]d into %[4]s/shard-K on
# the claim %[5]s. A pod run again skips a shard whose folder is complete.
apiVersion: v1
kind: ConfigMap
metadata:
  name: %[1]s%[2]s
data:
  sweep.yaml: %[6]s
---
apiVersion: batch/v1
kind: Job
metadata:
  name: %[7]s%[2]s
spec:
  completionMode: Indexed
  completions: %[3]d
  parallelism: %[3]d
  backoffLimit: %[8]d
  template:
`, q(k.Name+"-sweep"), ns, k.Shards, out, k.Claim, q(string(k.Sweep)), q(k.Name), 2*k.Shards)
	// The Job controller sets JOB_COMPLETION_INDEX too; naming it here is
	// what lets $(JOB_COMPLETION_INDEX) be expanded in args.
	job += pod([]string{"sweep", "/etc/tandem/sweep.yaml", "--shard", fmt.Sprintf("$(JOB_COMPLETION_INDEX)/%d", k.Shards), "--out", out + "/shard-$(JOB_COMPLETION_INDEX)"})
	job = strings.Replace(job, "          env:\n", `          env:
            - name: JOB_COMPLETION_INDEX
              valueFrom:
                fieldRef: {fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']"}
`, 1)

	mergeArgs := []string{"sweep", "merge"}
	for i := range k.Shards {
		mergeArgs = append(mergeArgs, fmt.Sprintf("%s/shard-%d", out, i))
	}
	mergeArgs = append(mergeArgs, "--out", out)
	merge := fmt.Sprintf(`# Joins the shards of the Indexed Job %[1]s into %[3]s; apply it once that
# Job completed (submit.sh does).
apiVersion: batch/v1
kind: Job
metadata:
  name: %[4]s%[2]s
spec:
  completions: 1
  backoffLimit: 1
  template:
`, k.Name, ns, out, q(k.Name+"-merge")) + pod(mergeArgs)

	nsFlag := ""
	if k.Namespace != "" {
		nsFlag = " --namespace " + shq(k.Namespace)
	}
	submit := fmt.Sprintf(`#!/bin/bash
# Runs the sweep on Kubernetes: the Indexed Job of %[1]d pods, then, once it
# completed, the merge Job. kubectl comes from $KUBECTL (default kubectl).
set -euo pipefail
kubectl="${KUBECTL:-kubectl}"
cd "$(dirname "${BASH_SOURCE[0]}")"
"$kubectl"%[2]s apply -f %[3]s
"$kubectl"%[2]s wait --for=condition=complete --timeout=-1s job/%[4]s
"$kubectl"%[2]s apply -f %[5]s
"$kubectl"%[2]s wait --for=condition=complete --timeout=-1s job/%[4]s-merge
echo "results in %[6]s on the claim %[7]s"
`, k.Shards, nsFlag, K8sJobManifest, k.Name, K8sMergeManifest, out, k.Claim)
	return map[string][]byte{K8sJobManifest: []byte(job), K8sMergeManifest: []byte(merge), SubmitScript: []byte(submit)}, nil
}

// q quotes s as a YAML double-quoted scalar, whose escapes are JSON's.
func q(s string) string { return strconv.Quote(s) }
