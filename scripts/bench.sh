#!/usr/bin/env bash
# Whole-command latency with hyperfine (in-process benchmarks: go test -bench).
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
out=${BENCH_OUT:-bench-results}
mkdir -p "$out"
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT

"$GO" build -o "$bin/step01" ./step01-process
echo "== step01: the wrapper's added cost over /bin/true"
hyperfine -N --warmup 20 --runs 300 --export-markdown "$out/step01.md" \
	'/bin/true' "$bin/step01 run -- /bin/true"

"$GO" build -o "$bin/step02" ./step02-namespaces
echo "== step02: the cost of each namespace (run -- /bin/true)"
hyperfine -N --warmup 10 --runs 100 --export-markdown "$out/step02.md" \
	"$bin/step02 run --ns= -- /bin/true" \
	"$bin/step02 run --ns=uts -- /bin/true" "$bin/step02 run --ns=pid -- /bin/true" \
	"$bin/step02 run --ns=mnt -- /bin/true" "$bin/step02 run --ns=ipc -- /bin/true" \
	"$bin/step02 run --ns=net -- /bin/true" "$bin/step02 run --ns=cgroup -- /bin/true" \
	"$bin/step02 run -- /bin/true"

echo "== step04: create + place + destroy one cgroup with three limits"
"$GO" test -run '^$' -bench Lifecycle -count 5 ./step04-cgroups/cgroups | tee "$out/step04.txt"
