#!/usr/bin/env bash
# Smoke test of the edge side on linux/arm64, for CI (make arm64): cross-builds
# tandem for linux/arm64 (cgo, -tags noopenblas: the pure-Go GEMM, as no arm64
# OpenBLAS is installed) into bin/tandem-linux-arm64, runs it under
# qemu-aarch64-static with the linux-arm64 ONNX Runtime from tandem's cache, and
# checks it against the same code built for this host:
#   - tandem ort check   loads ONNX Runtime and reports its version
#   - tandem eval        the edge model's accuracy on the first Fashion-MNIST test
#                        samples: plausible, and exactly the host build's
#   - tandem profile     writes a profile whose host.arch is arm64
#   - tandem sim         summary.json byte for byte the host build's but for
#                        wall_seconds, and requests.csv byte for byte
# Correctness only: the timings of a program emulated by qemu say nothing about
# any arm64 board, so none is checked and the profile written is thrown away.
#
# Needs what scripts/setup.sh installs (run it as root first): the cross
# compiler gcc-aarch64-linux-gnu with libc6-dev-arm64-cross, libstdc++6-arm64-cross
# (ONNX Runtime links libstdc++), qemu-user-static, the Fashion-MNIST package and
# $TANDEM_CACHE/onnxruntime/<version>/linux-arm64/libonnxruntime.so.1. Anything
# missing is an error, never a skip. Runs on a linux host that is not arm64.
set -euo pipefail

readonly EVAL_SAMPLES=200 # emulation is slow: a few hundred samples show the predictions agree
readonly MIN_ACCURACY=0.8
readonly SIM_REQUESTS=500
readonly SYSROOT=/usr/aarch64-linux-gnu # libc6-arm64-cross: the dynamic loader and libc
# The emulated CPU: a Raspberry Pi 4's, the baseline Armv8.0-A core (no dot
# product, no SVE), so that ONNX Runtime's generic NEON kernels are the ones run.
readonly QEMU_CPU=cortex-a72

say() { printf 'arm64-smoke: %s\n' "$*"; }
die() {
	printf 'arm64-smoke: FAILED: %s\n' "$*" >&2
	exit 1
}
pass() { say "ok: $*"; }

cd "$(dirname "${BASH_SOURCE[0]}")/.."

start=$SECONDS
command -v go >/dev/null || die "go not found: install Go (see go.mod for the version)"
[[ "$(go env GOOS)" == linux ]] ||
	die "runs on linux only (this is $(go env GOOS)): it needs qemu-user and the Debian cross toolchain"
[[ "$(go env GOARCH)" != arm64 ]] ||
	die "this host is arm64 already: build tandem natively and run 'tandem ort check' instead"

ort_version="$(sed -n 's/^const ORTVersion = "\(.*\)"$/\1/p' hil/ortlib.go)"
[[ -n "$ort_version" ]] || die "no 'const ORTVersion = \"...\"' in hil/ortlib.go"
cache="${TANDEM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tandem}"
lib="$cache/onnxruntime/$ort_version/linux-arm64/libonnxruntime.so.1"

fix="run scripts/setup.sh as root"
command -v aarch64-linux-gnu-gcc >/dev/null ||
	die "aarch64-linux-gnu-gcc not found (Debian gcc-aarch64-linux-gnu): $fix"
command -v qemu-aarch64-static >/dev/null ||
	die "qemu-aarch64-static not found (Debian qemu-user-static): $fix"
[[ -e "$SYSROOT/lib/ld-linux-aarch64.so.1" ]] ||
	die "$SYSROOT/lib/ld-linux-aarch64.so.1 not found (Debian libc6-arm64-cross): $fix"
[[ -e "$SYSROOT/lib/libstdc++.so.6" ]] ||
	die "$SYSROOT/lib/libstdc++.so.6 not found (Debian libstdc++6-arm64-cross): $fix"
[[ -s "$lib" ]] || die "$lib not found: $fix"
# e_machine, the two bytes at offset 18 of an ELF file: b7 00 is AArch64.
[[ "$(head -c 4 "$lib" | od -An -tx1 | tr -d ' \n')$(od -An -tx1 -j18 -N2 "$lib" | tr -d ' \n')" == 7f454c46b700 ]] ||
	die "$lib is not an AArch64 ELF library: $fix (it replaces it)"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# qemu-user passes the x86 host's /proc/cpuinfo through to the arm64 program
# (QEMU 7.2, Debian 12's, emulates it for a few other targets only), and the
# pytorch/cpuinfo that ONNX Runtime runs when its library is loaded crashes
# (SIGSEGV inside dlopen) on a /proc/cpuinfo with no Arm processor in it. qemu
# looks every absolute path up in the -L folder first, so a sysroot made of
# $SYSROOT's folders plus proc/cpuinfo in the form an arm64 kernel writes it,
# one Cortex-A72 for each of this host's processors, gives the program an Arm
# /proc/cpuinfo. gopsutil reads it too: the profile's host.cpu says Cortex-A72.
root="$tmp/sysroot"
mkdir -p "$root/proc"
for e in "$SYSROOT"/*; do
	ln -s "$e" "$root/"
done
ncpu="$(grep -c '^processor' /proc/cpuinfo)" || die "no processor in /proc/cpuinfo"
for ((i = 0; i < ncpu; i++)); do
	printf 'processor\t: %d\nBogoMIPS\t: 108.00\nFeatures\t: fp asimd evtstrm crc32 cpuid\n' "$i"
	printf 'CPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x0\nCPU part\t: 0xd08\nCPU revision\t: 3\n\n'
done >"$root/proc/cpuinfo"

# Build both: the arm64 binary to keep (README, "Profiles": copy it to a board),
# and the same code for this host, to compare with.
t=$SECONDS
CGO_ENABLED=1 GOOS=linux GOARCH=arm64 CC=aarch64-linux-gnu-gcc \
	go build -tags noopenblas -o bin/tandem-linux-arm64 ./cmd/tandem ||
	die "cross-build for linux/arm64 failed"
go build -tags noopenblas -o "$tmp/tandem-host" ./cmd/tandem || die "build for this host failed"
pass "built bin/tandem-linux-arm64 and the host binary ($((SECONDS - t)) s)"

# arm64 NAME ARGS... runs the arm64 tandem under qemu; host NAME ARGS... the host
# build. Each writes $tmp/NAME.out and $tmp/NAME.err and, when tandem fails,
# stops the test with its error output.
arm64() {
	local name="$1"
	shift
	TANDEM_CACHE="$cache" ONNXRUNTIME_LIB="$lib" \
		qemu-aarch64-static -cpu "$QEMU_CPU" -L "$root" bin/tandem-linux-arm64 "$@" \
		>"$tmp/$name.out" 2>"$tmp/$name.err" || {
		local rc=$?
		cat "$tmp/$name.err" >&2
		die "arm64: tandem $* exited with status $rc"
	}
}
host() {
	local name="$1"
	shift
	TANDEM_CACHE="$cache" "$tmp/tandem-host" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" || {
		local rc=$?
		cat "$tmp/$name.err" >&2
		die "host: tandem $* exited with status $rc"
	}
}
# json_field FILE KEY prints KEY's number or string from the one-line JSON object in FILE.
json_field() {
	sed -n 's/.*"'"$2"'":"\{0,1\}\([^",}]*\).*/\1/p' "$1"
}

# 1. ONNX Runtime loads and computes (ort check compares a linear model with Go).
t=$SECONDS
arm64 ort ort check --json
v="$(json_field "$tmp/ort.out" ort_version)"
[[ "$v" == "$ort_version" ]] ||
	die "arm64: tandem ort check reports ONNX Runtime '$v', want $ort_version: $(cat "$tmp/ort.out")"
pass "tandem ort check under qemu: ONNX Runtime $v from $lib ($((SECONDS - t)) s)"

# 2. The same predictions: accuracy over the same samples, exactly.
t=$SECONDS
eval_args=(eval --model bundles/fashion/edge.onnx --dataset fashion-mnist --samples "$EVAL_SAMPLES" --latency-runs 1 --json)
arm64 eval-arm64 "${eval_args[@]}"
host eval-host "${eval_args[@]}"
acc="$(json_field "$tmp/eval-arm64.out" accuracy)"
want="$(json_field "$tmp/eval-host.out" accuracy)"
n="$(json_field "$tmp/eval-arm64.out" samples)"
[[ "$n" == "$EVAL_SAMPLES" ]] || die "arm64: tandem eval evaluated '$n' samples, want $EVAL_SAMPLES"
[[ "$(json_field "$tmp/eval-arm64.out" ort_version)" == "$ort_version" &&
	"$(json_field "$tmp/eval-host.out" ort_version)" == "$ort_version" ]] ||
	die "eval ran another ONNX Runtime than $ort_version: arm64 $(cat "$tmp/eval-arm64.out"), host $(cat "$tmp/eval-host.out")"
awk -v a="$acc" -v m="$MIN_ACCURACY" 'BEGIN { exit !(a + 0 > m + 0) }' ||
	die "arm64: edge.onnx accuracy '$acc' on $EVAL_SAMPLES Fashion-MNIST test samples, want more than $MIN_ACCURACY"
[[ "$acc" == "$want" ]] ||
	die "edge.onnx accuracy on $EVAL_SAMPLES Fashion-MNIST test samples: arm64 $acc, host $want: the predictions differ"
pass "tandem eval under qemu: edge.onnx accuracy $acc on $EVAL_SAMPLES Fashion-MNIST test samples, the host build's exactly ($((SECONDS - t)) s)"

# 3. A profile is written, and says arm64. Its timings are qemu's: meaningless.
t=$SECONDS
arm64 profile profile --model bundles/fashion/edge.onnx --runs 5 --warmup 1 --cold-gaps 0 --out "$tmp/arm64.yaml"
[[ -s "$tmp/arm64.yaml" ]] || die "arm64: tandem profile wrote no $tmp/arm64.yaml"
arch="$(awk '/^host:/ { h = 1; next } /^[^ ]/ { h = 0 } h && $1 == "arch:" { print $2 }' "$tmp/arm64.yaml")"
[[ "$arch" == arm64 ]] || die "arm64: the profile's host.arch is '$arch', want arm64"
pass "tandem profile under qemu: profile written, host.arch $arch ($((SECONDS - t)) s)"

# 4. The simulator is a function of its scenario and seed on every architecture.
t=$SECONDS
arm64 sim-arm64 sim --requests "$SIM_REQUESTS" --out "$tmp/sim-arm64"
host sim-host sim --requests "$SIM_REQUESTS" --out "$tmp/sim-host"
for f in summary.json requests.csv; do
	[[ -s "$tmp/sim-arm64/$f" && -s "$tmp/sim-host/$f" ]] || die "tandem sim --out wrote no $f"
done
grep -v '^ *"wall_seconds":' "$tmp/sim-arm64/summary.json" >"$tmp/summary-arm64.json"
grep -v '^ *"wall_seconds":' "$tmp/sim-host/summary.json" >"$tmp/summary-host.json"
diff -u "$tmp/summary-host.json" "$tmp/summary-arm64.json" >&2 ||
	die "tandem sim --requests $SIM_REQUESTS: summary.json differs between the host (---) and arm64 (+++) beyond wall_seconds"
cmp -s "$tmp/sim-host/requests.csv" "$tmp/sim-arm64/requests.csv" || {
	diff -u "$tmp/sim-host/requests.csv" "$tmp/sim-arm64/requests.csv" | head -n 40 >&2
	die "tandem sim --requests $SIM_REQUESTS: requests.csv differs between the host (---) and arm64 (+++)"
}
pass "tandem sim under qemu: summary.json (but wall_seconds) and requests.csv byte for byte the host build's ($((SECONDS - t)) s)"

say "all checks passed in $((SECONDS - start)) s"
