#!/usr/bin/env bash
# Whole-command latency with hyperfine and ./internal/interleave (in-process
# benchmarks: go test -bench). BENCH_ONLY=final (or step01, step02, step04,
# step05, step06, networks) runs one part; BENCH_ONLY=runtime only the OCI
# runtimes' interleaved run (part of final).
set -euo pipefail
want() { [ -z "${BENCH_ONLY:-}" ] || [ "$BENCH_ONLY" = "$1" ]; }
cd "$(dirname "$0")/.."
GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
out=${BENCH_OUT:-bench-results}
mkdir -p "$out"
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT

if want step01; then
"$GO" build -o "$bin/step01" ./step01-process
echo "== step01: the wrapper's added cost over /bin/true"
hyperfine -N --warmup 20 --runs 300 --export-markdown "$out/step01.md" \
	'/bin/true' "$bin/step01 run -- /bin/true"
fi

if want step02; then
"$GO" build -o "$bin/step02" ./step02-namespaces
echo "== step02: the cost of each namespace (run -- /bin/true)"
hyperfine -N --warmup 10 --runs 100 --export-markdown "$out/step02.md" \
	"$bin/step02 run --ns= -- /bin/true" \
	"$bin/step02 run --ns=uts -- /bin/true" "$bin/step02 run --ns=pid -- /bin/true" \
	"$bin/step02 run --ns=mnt -- /bin/true" "$bin/step02 run --ns=ipc -- /bin/true" \
	"$bin/step02 run --ns=net -- /bin/true" "$bin/step02 run --ns=cgroup -- /bin/true" \
	"$bin/step02 run -- /bin/true"
fi

if want step04; then
echo "== step04: create + place + destroy one cgroup with three limits"
"$GO" test -run '^$' -bench Lifecycle -count 5 ./step04-cgroups/cgroups | tee "$out/step04.txt"
fi

# A registry on 127.0.0.1 for step05 and final.
"$GO" build -o "$bin/mkimage" ./internal/imagebuild/mkimage
reg=$(mktemp -d)
port=$((20000 + RANDOM % 30000))
printf 'version: 0.1\nlog: {level: error, accesslog: {disabled: true}}\nstorage: {filesystem: {rootdirectory: %s}}\nhttp: {addr: 127.0.0.1:%s}\n' "$reg/storage" "$port" >"$reg/config.yml"
docker-registry serve "$reg/config.yml" >/dev/null 2>&1 &
regpid=$!
trap 'kill $regpid 2>/dev/null; rm -rf "$bin" "$reg" /dev/shm/mdk-b5 /dev/shm/mdk-bo /dev/shm/mdk-bu' EXIT
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.05; done

if want step05; then
echo "== step05: pull a 100 MB, 5-layer image from a registry on 127.0.0.1, against skopeo copy + umoci unpack"
"$GO" build -o "$bin/step05" ./step05-pull
"$bin/mkimage" -random-layers 5 -layer-mb 20 -tag big:1 -push "127.0.0.1:$port/big:1"
hyperfine -N --warmup 1 --runs 10 --export-markdown "$out/step05.md" \
	--prepare 'rm -rf /dev/shm/mdk-b5 /dev/shm/mdk-bo /dev/shm/mdk-bu' \
	"$bin/step05 pull --root /dev/shm/mdk-b5 127.0.0.1:$port/big:1" \
	"sh -c 'skopeo copy -q --src-tls-verify=false docker://127.0.0.1:$port/big:1 oci:/dev/shm/mdk-bo:big && umoci unpack --image /dev/shm/mdk-bo:big /dev/shm/mdk-bu >/dev/null'"
"$GO" test -run '^$' -bench 'Pull100MB|PullRSS' -benchtime 3x ./step05-pull/store | tee "$out/step05.txt"
fi

if want step06; then
echo "== step06: network set-up + teardown of one container"
"$GO" test -run '^$' -bench AttachDetach -count 5 ./step06-networking/network | tee "$out/step06.txt"
fi

if want final || want networks; then
echo "== final: user networks: a name resolved from inside a container (1,000 queries), network create + rm"
"$GO" test -run '^$' -bench 'NameResolution' -benchtime 1000x ./final | tee "$out/networks.txt"
"$GO" test -run '^$' -bench 'NetworkCreateRemove' -benchtime 50x ./final | tee -a "$out/networks.txt"
fi

want final || want runtime || exit 0

echo "== final: run --rm busybox true, interleaved with runc and crun (go run ./internal/interleave: A B C, B C A, ...)"
CGO_ENABLED=0 "$GO" build -o "$bin/minidocker" ./final
"$GO" build -o "$bin/interleave" ./internal/interleave
# A bridge, subnet and network book of the benchmark's own: never the user's minidocker0.
exec_root=$(mktemp -d /dev/shm/mdk-bench-exec-XXXX)
export MINIDOCKER_ROOT=$(mktemp -d /dev/shm/mdk-bench-final-XXXX) MINIDOCKER_REGISTRY_MIRROR=http://127.0.0.1:$port \
	MINIDOCKER_BRIDGE=mdkbench0 MINIDOCKER_EXEC_ROOT=$exec_root
bundle=$(mktemp -d /dev/shm/mdk-bench-bundle-XXXX)
cleanup_final() {
	"$bin/minidocker" rm -f $("$bin/minidocker" ps -aq) >/dev/null 2>&1 || true
	"$GO" run ./step06-networking teardown --bridge mdkbench0 || true
	rm -rf "$MINIDOCKER_ROOT" "$exec_root" "$bundle" /dev/shm/mdk-bench-runc /dev/shm/mdk-bench-crun /dev/shm/mdk-bench-mdkrt
	if [ -n "${hugetlb_mounted:-}" ]; then umount /sys/fs/cgroup/hugetlb && rmdir /sys/fs/cgroup/hugetlb; fi
}
trap 'cleanup_final; kill $regpid 2>/dev/null; rm -rf "$bin" "$reg" /dev/shm/mdk-b5 /dev/shm/mdk-bo /dev/shm/mdk-bu' EXIT
"$bin/mkimage" -push "127.0.0.1:$port/library/busybox:latest"
"$bin/minidocker" pull busybox >/dev/null

# The OCI runtimes run the same busybox in an OCI bundle (runc spec: pid,
# net, ipc, uts and mount namespaces, like --network none), in cgroups
# beneath their own (a relative cgroupsPath).
mkdir -p "$bundle/rootfs/bin"
cp "$(command -v busybox)" "$bundle/rootfs/bin/busybox"
ln -s busybox "$bundle/rootfs/bin/true"
(cd "$bundle" && runc spec)
sed -i 's/"terminal": true/"terminal": false/; s/"sh"$/"true"/; s/"linux": {/"linux": {\n\t\t"cgroupsPath": "mdk-bench-oci",/' "$bundle/config.json"
cmds=("$bin/minidocker run --rm --network none busybox true" "$bin/minidocker run --rm busybox true")
# minidocker as an OCI runtime (final/ociruntime), on the same bundle as runc and crun.
ln -s minidocker "$bin/minidocker-runtime"
cmds+=("$bin/minidocker-runtime --root /dev/shm/mdk-bench-mdkrt run -b $bundle mdkbench")
command -v runc >/dev/null && cmds+=("runc --root /dev/shm/mdk-bench-runc run -b $bundle mdkbench")
if command -v crun >/dev/null; then
	# crun 1.8 refuses a cgroup-hybrid host while the v2 hierarchy still
	# offers a controller (hugetlb here): mounted as a v1 hierarchy for the
	# benchmark, unmounted after.
	if [ -s /sys/fs/cgroup/unified/cgroup.controllers ] && [ ! -e /sys/fs/cgroup/hugetlb ] &&
		grep -qw hugetlb /sys/fs/cgroup/unified/cgroup.controllers; then
		mkdir /sys/fs/cgroup/hugetlb && mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb && hugetlb_mounted=1
	fi
	cmds+=("crun --root /dev/shm/mdk-bench-crun run -b $bundle mdkbench")
fi
"$bin/interleave" -rounds 40 -pause 100ms "${cmds[@]}" | tee "$out/final-run.txt"
want final || exit 0

echo "== final: ps -a with 200 containers"
for _ in $(seq 200); do "$bin/minidocker" run --network none busybox true; done
"$bin/interleave" -rounds 20 -pause 0 "$bin/minidocker ps -a" | tee "$out/final-ps.txt"

echo "== final: an idle monitor's memory (PSS: its share of pages shared with other processes)"
id=$("$bin/minidocker" run -d --network none busybox sleep 1000); sleep 0.5
grep -E '^(Rss|Pss|Pss_Anon|Pss_File):' "/proc/$(pgrep -f "__minidocker_monitor.*$id")/smaps_rollup" | tee "$out/final-monitor.txt"
