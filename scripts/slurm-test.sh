#!/usr/bin/env bash
# Runs a sweep on a real Slurm, started here on localhost, and checks that the
# merged result is byte for byte the single-machine run's.
#
#   scripts/slurm-test.sh TANDEM [TASKS...]
#
# TANDEM is a built tandem binary. For each TASKS (default 4) a sweep of
# 8 points (builtin:default, SLURM_TEST_REQUESTS requests each, default 2000)
# is emitted with --emit slurm --shards TASKS, submitted through its
# submit.sh (the array, then the merge held on it by afterok), waited for, and
# compared with 'tandem sweep' run directly, then submitted again with one
# shard cut short, which alone runs again; each run's wall time is printed as
#   slurm-test: tasks=N wall_s=S
# and an empty job's round trip (submission to completion) as
#   slurm-test: empty-job wall_s=S
#
# It installs nothing (scripts/setup.sh installs slurm-wlm and munge) and must
# run as root: slurmd starts every job as its user. What it starts listens on
# 127.0.0.1 only (slurmctld, slurmd, on ports of its own) or on a socket in a
# temporary folder (munged), with a slurm.conf of its own (one node, no
# cgroups, no accounting); on exit, failure included, it cancels its jobs,
# stops those daemons and removes the folder.
set -euo pipefail

say() { printf 'slurm-test: %s\n' "$*"; }
die() {
	printf 'slurm-test: error: %s\n' "$*" >&2
	exit 1
}

(($# >= 1)) || die "usage: $0 TANDEM [TASKS...]"
tandem="$(realpath "$1")"
shift
tasks=("$@")
((${#tasks[@]})) || tasks=(4)
[[ -x "$tandem" ]] || die "$tandem: not an executable tandem binary"
[[ "$(id -u)" == 0 ]] || die "must run as root (slurmd starts each job as its user, and munged's key must be root's)"
for c in munged mungekey slurmctld slurmd sbatch scontrol squeue scancel; do
	command -v "$c" >/dev/null ||
		die "$c not found: install slurm-wlm and munge (apt-get install -y slurm-wlm munge, or scripts/setup.sh as root)"
done
# How long a job may take, in seconds.
readonly wait_s="${SLURM_TEST_TIMEOUT:-300}"

tmp="$(mktemp -d /tmp/tandem-slurm.XXXXXX)"
chmod 755 "$tmp"
pids=()
export SLURM_CONF="$tmp/slurm.conf"

cleanup() {
	local rc=$? pid i
	trap - EXIT INT TERM
	if [[ -n "${ctld_pid:-}" ]] && kill -0 "$ctld_pid" 2>/dev/null; then
		local ids
		mapfile -t ids < <(squeue -h -o %i 2>/dev/null)
		((${#ids[@]} == 0)) || scancel --quiet "${ids[@]}" 2>/dev/null || true
		for ((i = 0; i < 30; i++)); do
			[[ -z "$(squeue -h -o %i 2>/dev/null)" ]] && break
			sleep 1
		done
	fi
	# A job step's slurmstepd outlives its job by a moment and removes its
	# socket in the spool folder when it exits.
	for ((i = 0; i < 100; i++)); do
		compgen -G "$tmp/spool/localhost_*" >/dev/null || break
		sleep 0.1
	done
	if compgen -G "$tmp/spool/localhost_*" >/dev/null; then
		printf 'slurm-test: error: job steps still running after 10 s: %s\n' "$(cd "$tmp/spool" && echo localhost_*)" >&2
		((rc != 0)) || rc=1
	fi
	# Stopped in reverse: slurmd, then slurmctld, then munged.
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
		pid="${pids[i]}"
		kill -TERM "$pid" 2>/dev/null || continue
		for _ in {1..50}; do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	if ((rc != 0)); then
		for log in "$tmp"/*.log "$tmp"/out-*/logs/*; do
			[[ -s "$log" ]] || continue
			printf -- '--- %s (last lines)\n' "$log" >&2
			tail -n 20 "$log" >&2
		done
	fi
	rm -rf "$tmp"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# free_port prints a TCP port nothing listens on, from a range Slurm and
# munge do not use by default.
free_port() {
	local p
	for _ in {1..100}; do
		p=$((20000 + RANDOM % 10000))
		if ! ss -Htln "sport = :$p" 2>/dev/null | grep -q .; then
			echo "$p"
			return
		fi
	done
	die "no free port found between 20000 and 30000"
}
ctld_port="$(free_port)"
slurmd_port="$(free_port)"
[[ "$ctld_port" != "$slurmd_port" ]] || slurmd_port=$((ctld_port + 1))

# munge: a fresh key and socket of its own, not the system's.
mkdir -m 700 "$tmp/munge"
mungekey --create --keyfile="$tmp/munge/munge.key" --bits=1024 >/dev/null 2>&1 ||
	die "mungekey could not create a key in $tmp/munge"
chmod 400 "$tmp/munge/munge.key"
munged --foreground --force --socket="$tmp/munge/munge.socket" --key-file="$tmp/munge/munge.key" \
	--pid-file="$tmp/munge/munged.pid" --log-file="$tmp/munged.log" --seed-file="$tmp/munge/seed" \
	>>"$tmp/munged.log" 2>&1 &
pids+=($!)
for _ in {1..50}; do
	[[ -S "$tmp/munge/munge.socket" ]] && break
	kill -0 "${pids[0]}" 2>/dev/null || die "munged exited at start: $(tail -n 3 "$tmp/munged.log" | tr '\n' ' ')"
	sleep 0.1
done
[[ -S "$tmp/munge/munge.socket" ]] || die "munged made no socket in 5 s: $(tail -n 3 "$tmp/munged.log" | tr '\n' ' ')"

cpus="$(nproc)"
mem_mb="$(awk '/^MemTotal:/ {print int($2 / 1024 / 2)}' /proc/meminfo)"
mkdir -p "$tmp/state" "$tmp/spool"
cat >"$SLURM_CONF" <<EOF
ClusterName=tandemtest
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
# slurmctld and slurmd listen on 127.0.0.1, what localhost resolves to, not
# on every interface.
CommunicationParameters=NoCtldInAddrAny,NoInAddrAny
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$tmp/munge/munge.socket
CredType=cred/munge
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SwitchType=switch/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
ReturnToService=2
MinJobAge=600
KillWait=5
PlugStackConfig=$tmp/plugstack.conf
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=tandemtest Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
: >"$tmp/plugstack.conf"

slurmctld -D -i -f "$SLURM_CONF" >>"$tmp/slurmctld.log" 2>&1 &
ctld_pid=$!
pids+=("$ctld_pid")
slurmd -D -N localhost -f "$SLURM_CONF" >>"$tmp/slurmd.log" 2>&1 &
pids+=($!)

# The node is up when slurmctld says so.
up=0
for _ in {1..100}; do
	kill -0 "$ctld_pid" 2>/dev/null || die "slurmctld exited at start: $(tail -n 5 "$tmp/slurmctld.log" | tr '\n' ' ')"
	kill -0 "${pids[2]}" 2>/dev/null || die "slurmd exited at start: $(tail -n 5 "$tmp/slurmd.log" | tr '\n' ' ')"
	state="$(scontrol show node localhost -o 2>/dev/null | sed -n 's/.*State=\([^ ]*\).*/\1/p')"
	if [[ "$state" == IDLE* ]]; then
		up=1
		break
	fi
	sleep 0.2
done
((up)) || die "the node did not become idle in 20 s (state '${state:-none}'): $(tail -n 5 "$tmp/slurmctld.log" | tr '\n' ' ')"
say "slurmctld on 127.0.0.1:$ctld_port, slurmd on 127.0.0.1:$slurmd_port, node localhost with $cpus CPUs"

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

# wait_job ID: until the job ends; fails unless it COMPLETED.
wait_job() {
	local id=$1 deadline=$((SECONDS + wait_s)) st
	while ((SECONDS < deadline)); do
		st="$(scontrol show job "$id" -o 2>/dev/null | sed -n 's/.*JobState=\([^ ]*\).*Reason=\([^ ]*\).*/\1 \2/p' | sort -u | tr '\n' ' ')"
		case "$st" in
		"COMPLETED None ") return 0 ;;
		*FAILED* | *CANCELLED* | *TIMEOUT* | *NODE_FAIL* | *OUT_OF_MEMORY* | *DependencyNeverSatisfied*)
			die "job $id ended: $st" ;;
		esac
		sleep 0.2
	done
	die "job $id did not end in ${wait_s} s (state: ${st:-unknown})"
}

# A job that does nothing: what the scheduler alone costs.
t0="$(now)"
id="$(sbatch --parsable --output=/dev/null --wrap true)"
wait_job "${id%%;*}"
say "empty-job wall_s=$(elapsed "$t0" "$(now)")"

cat >"$tmp/sweep.yaml" <<EOF
name: slurm-test
scenario: builtin:default
requests: ${SLURM_TEST_REQUESTS:-2000}
vary:
  workload.rate: [10, 20, 40, 80, 120, 160, 200, 240]
EOF
t0="$(now)"
"$tandem" sweep "$tmp/sweep.yaml" --out "$tmp/single" >/dev/null 2>"$tmp/single.log" ||
	die "tandem sweep on this machine failed: $(cat "$tmp/single.log")"
say "direct wall_s=$(elapsed "$t0" "$(now)") (tandem sweep without Slurm, on every core)"

for n in "${tasks[@]}"; do
	out="$tmp/out-$n"
	"$tandem" sweep "$tmp/sweep.yaml" --emit slurm --shards "$n" --time 0:10:00 --out "$out" >/dev/null
	t0="$(now)"
	submitted="$(bash "$out/submit.sh")"
	merge="$(sed -n 's/^submitted merge job \([0-9]*\) .*/\1/p' <<<"$submitted")"
	[[ -n "$merge" ]] || die "submit.sh printed no merge job: $submitted"
	wait_job "$merge"
	wall="$(elapsed "$t0" "$(now)")"
	for f in results.jsonl results.csv shard.json; do
		cmp "$tmp/single/$f" "$out/$f" || die "$n tasks: merged $f differs from the single-machine run's"
	done
	for ((k = 0; k < n; k++)); do
		[[ -f "$out/shard-$k/shard.json" ]] || die "$n tasks: shard $k wrote no shard.json"
	done
	say "tasks=$n wall_s=$wall (merged results byte-identical to the single-machine run)"
done
# Submitted again with one shard cut short: that shard runs again, the
# others are left as they are, and the merge is the same.
out="$tmp/out-$n"
if ((n > 1)); then
	: >"$out/shard-1/results.jsonl"
	submitted="$(bash "$out/submit.sh")"
	wait_job "$(sed -n 's/^submitted merge job \([0-9]*\) .*/\1/p' <<<"$submitted")"
	grep -q "running shard 1/$n again: .*results.jsonl does not match shard.json" "$out/logs/shard-1.out" ||
		die "resubmitted, the cut-short shard 1 was not run again: $(cat "$out/logs/shard-1.out")"
	grep -q "shard 0/$n of .* is complete .*: nothing to do" "$out/logs/shard-0.out" ||
		die "resubmitted, the finished shard 0 was run again: $(cat "$out/logs/shard-0.out")"
	for f in results.jsonl results.csv shard.json; do
		cmp "$tmp/single/$f" "$out/$f" || die "resubmitted: merged $f differs from the single-machine run's"
	done
	say "resubmitted with shard 1 cut short: shard 1 ran again, the others did nothing, same results"
fi
say "ok"
