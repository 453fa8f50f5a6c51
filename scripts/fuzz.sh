#!/usr/bin/env bash
# Runs every fuzz target of the module for a fixed number of executions each
# (default 200000x; a duration such as 10s also works).
#
# The default is a count, not a duration: with a duration, Go 1.26's fuzz
# coordinator can report "context deadline exceeded" as a failure when the
# deadline fires while a worker is mid-call (golang/go#75804, fixed in Go
# 1.27). A count has no deadline to race. go test -fuzz takes one target of one
# package at a time, hence the loop.
set -euo pipefail
cd "$(dirname "$0")/.."
budget=${1:-200000x}
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
    echo "fuzz: $pkg $target ($budget)"
    go test -run '^$' -fuzz "^${target}\$" -fuzztime "$budget" "$pkg"
  done
done
