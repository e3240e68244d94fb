#!/usr/bin/env bash
# The steps' demos, one after another, offline (make demo-steps). Each
# command is printed before it runs.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
mkdir -p bin

# show prints a command the way you would type it, then runs it.
show() {
	printf '\n\033[1m$'
	local a
	for a in "$@"; do
		if [[ $a =~ ^[A-Za-z0-9_./:=@%+,-]+$ ]]; then printf ' %s' "$a"; else printf " '%s'" "${a//\'/\'\\\'\'}"; fi
	done
	printf '\033[0m\n'
	"$@" || printf '(exit code %d)\n' "$?"
}

"$GO" build -o bin/step01-process ./step01-process
echo "step01: a container is only a process: stdio, exit codes and signals pass through."
show bin/step01-process run -- sh -c 'echo hello from $$; echo to stderr >&2'
show bin/step01-process run -e GREETING=annyeong -- sh -c 'echo $GREETING; env | sort'
show bin/step01-process run -- sh -c 'exit 3'
show bin/step01-process run -- sh -c 'kill -TERM $$'
show bin/step01-process run -- no-such-command

"$GO" build -o bin/step02-namespaces ./step02-namespaces
echo
echo "step02: namespaces: its own hostname, PID 1, mounts and network."
show bin/step02-namespaces run --hostname box -- sh -c 'hostname; echo "my PID is $$"; ps; ip -o link'
show bin/step02-namespaces run --init -- ps -o pid,ppid,args

"$GO" build -o bin/step03-rootfs-layers ./step03-rootfs-layers
"$GO" run ./internal/imagebuild/mkimage -o bin/busybox.tar
echo
echo "step03: an image is read-only layers; the container gets one writable layer on top."
export MINIDOCKER_ROOT=${MINIDOCKER_ROOT:-$(mktemp -d /dev/shm/minidocker-demo-XXXX)}
trap 'rm -rf "$MINIDOCKER_ROOT"' EXIT
show bin/step03-rootfs-layers run --image bin/busybox.tar -- sh -c 'ls /; cat /etc/passwd; echo hi > /etc/motd; cat /etc/motd'
show bin/step03-rootfs-layers run --image bin/busybox.tar -- cat /etc/motd

"$GO" build -o bin/step04-cgroups ./step04-cgroups
echo
echo "step04: cgroups: how much memory, CPU and how many processes it may use."
show bin/step04-cgroups run --image bin/busybox.tar -m 32m -- sh -c 'tail /dev/zero'
show bin/step04-cgroups run --image bin/busybox.tar --cpus 0.5 --stats -- sh -c 'timeout 2 sh -c "while :; do :; done"; true'
show bin/step04-cgroups run --image bin/busybox.tar --pids-limit 20 -- sh -c 'for i in $(seq 40); do sleep 3 & set -- /proc/[0-9]*; echo -n "$# "; done'
