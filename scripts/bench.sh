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

echo "== step05: pull a 100 MB, 5-layer image from a registry on 127.0.0.1, against skopeo copy + umoci unpack"
"$GO" build -o "$bin/step05" ./step05-pull
"$GO" build -o "$bin/mkimage" ./internal/imagebuild/mkimage
reg=$(mktemp -d)
port=$((20000 + RANDOM % 30000))
printf 'version: 0.1\nlog: {level: error, accesslog: {disabled: true}}\nstorage: {filesystem: {rootdirectory: %s}}\nhttp: {addr: 127.0.0.1:%s}\n' "$reg/storage" "$port" >"$reg/config.yml"
docker-registry serve "$reg/config.yml" >/dev/null 2>&1 &
regpid=$!
trap 'kill $regpid 2>/dev/null; rm -rf "$bin" "$reg" /dev/shm/mdk-b5 /dev/shm/mdk-bo /dev/shm/mdk-bu' EXIT
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.05; done
"$bin/mkimage" -random-layers 5 -layer-mb 20 -tag big:1 -push "127.0.0.1:$port/big:1"
hyperfine -N --warmup 1 --runs 10 --export-markdown "$out/step05.md" \
	--prepare 'rm -rf /dev/shm/mdk-b5 /dev/shm/mdk-bo /dev/shm/mdk-bu' \
	"$bin/step05 pull --root /dev/shm/mdk-b5 127.0.0.1:$port/big:1" \
	"sh -c 'skopeo copy -q --src-tls-verify=false docker://127.0.0.1:$port/big:1 oci:/dev/shm/mdk-bo:big && umoci unpack --image /dev/shm/mdk-bo:big /dev/shm/mdk-bu >/dev/null'"
"$GO" test -run '^$' -bench 'Pull100MB|PullRSS' -benchtime 3x ./step05-pull/store | tee "$out/step05.txt"

echo "== step06: network set-up + teardown of one container"
"$GO" test -run '^$' -bench AttachDetach -count 5 ./step06-networking/network | tee "$out/step06.txt"

echo "== final: minidocker run --rm busybox true (with and without the network), and ps"
CGO_ENABLED=0 "$GO" build -o "$bin/minidocker" ./final
export MINIDOCKER_ROOT=$(mktemp -d /dev/shm/mdk-bench-final-XXXX) MINIDOCKER_REGISTRY_MIRROR=http://127.0.0.1:$port
"$bin/mkimage" -push "127.0.0.1:$port/library/busybox:latest"
"$bin/minidocker" pull busybox >/dev/null
cmds=("$bin/minidocker run --rm busybox true" "$bin/minidocker run --rm --network none busybox true")
command -v runc >/dev/null && echo "(runc and crun are installed; the issue's anchors for them: runc 18.6 ms, crun 7.7 ms)"
hyperfine -N --warmup 3 --runs 30 --export-markdown "$out/final-run.md" "${cmds[@]}"
for _ in $(seq 200); do "$bin/minidocker" run --network none busybox true; done
hyperfine -N --warmup 3 --runs 20 --export-markdown "$out/final-ps.md" "$bin/minidocker ps -a"
id=$("$bin/minidocker" run -d busybox sleep 1000); sleep 0.5
grep -E 'VmRSS|RssAnon|RssFile' "/proc/$(pgrep -f "__minidocker_monitor.*$id")/status" | tee "$out/final-monitor.txt"
"$bin/minidocker" rm -f $("$bin/minidocker" ps -aq) >/dev/null
"$bin/minidocker" ps -aq | wc -l
"$GO" run ./step06-networking teardown
rm -rf "$MINIDOCKER_ROOT"
