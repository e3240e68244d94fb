#!/usr/bin/env bash
# Fails when a test or a container left something behind: a mount, a veth or
# bridge (a user network's is br-<12 hex>), a network namespace, a cgroup, an
# nft table (a user network's is minidocker-br-...) or a process of ours (the
# embedded DNS servers of user networks live in the containers' monitors,
# __minidocker_monitor: a server left behind is a monitor left behind).
# It only looks; it changes nothing. (It never lists legacy iptables tables:
# on this kernel merely listing one creates it.)
#
# A process of ours is one of minidocker's (its re-exec argument), one that
# runs from or in a test's temporary directory (t.TempDir is $TMPDIR/TestName…,
# a test binary lives in $TMPDIR/go-build…, make mutate's copies in
# $TMPDIR/mdk-mutate-…), or a container's process orphaned to init: parent
# PID 1 and a PID namespace other than ours, which is what a runtime that
# died without taking its container along leaves (a zombie is dead already,
# and init's to reap: not counted). Listed with its PID, so
# that a process that was there before (a user's own) is not counted again.
#
#   check-leaks.sh --save FILE   record what is there now (before the tests)
#   check-leaks.sh --since FILE  fail on what is there now and was not then
#   check-leaks.sh               fail on anything
#
# With --save/--since a user's own minidocker (its minidocker0, its running
# containers) does not fail the run: only what appeared meanwhile does.
set -uo pipefail

list() {
	{
		grep -E 'minidocker|mdk|overlay' /proc/self/mountinfo | grep -v ' /var/lib/docker' | sed 's/^/mount: /'
		ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1 | grep -E '^(veth|mdk|minidocker|br-[0-9a-f]{12}$)' | sed 's/^/link: /'
		ip netns list 2>/dev/null | sed 's/^/netns: /'
		find /sys/fs/cgroup -mindepth 1 -maxdepth 8 -type d \( -name 'minidocker*' -o -name 'mdk-*' \) 2>/dev/null | sed 's/^/cgroup: /'
		if command -v nft >/dev/null; then nft list tables 2>/dev/null | grep -i -E 'minidocker|mdk' | sed 's/^/nft: /'; fi
		pgrep -a -f '__minidocker' | sed 's/^/process: /'
		test_processes
	} 2>/dev/null | LC_ALL=C sort -u
}

# test_processes lists the processes a test may have left (see above), in
# one pass of find and awk over /proc (a process that ends meanwhile is
# simply not listed).
test_processes() {
	local tmp=${TMPDIR:-/tmp}
	find /proc/[0-9]*/cwd /proc/[0-9]*/exe /proc/[0-9]*/ns/pid -maxdepth 0 -printf '%p %l\n' 2>/dev/null |
		awk -v tmp="${tmp%/}" -v me="$$" -v myns="$(readlink /proc/self/ns/pid)" '
		{ split($1, p, "/"); pid = p[3]; if (pid == me) next
		  link = substr($0, length($1) + 2)
		  if ($1 ~ /ns\/pid$/) ns[pid] = link; else path[pid] = path[pid] " " link }
		END {
			for (pid in ns) {
				why = ""
				if (index(path[pid], " " tmp "/Test") || index(path[pid], " " tmp "/go-build") || index(path[pid], " " tmp "/mdk-mutate-"))
					why = "in a test'"'"'s temporary directory"
				else if (ns[pid] != myns && ppid(pid) == 1 && state != "Z")
					why = "a container'"'"'s process orphaned to init"
				if (why != "") print "process: " pid " " cmdline(pid) " (" why ")"
			}
		}
		# ppid returns the parent PID and sets state (Z: a zombie, dead, for
		# init to reap: not running anything).
		function ppid(pid,   line, f) {
			state = ""
			if ((getline line < ("/proc/" pid "/stat")) <= 0) return -1
			close("/proc/" pid "/stat")
			sub(/.*\) /, "", line); split(line, f, " ")
			state = f[1]
			return f[2]
		}
		function cmdline(pid,   line, rs, f) {
			rs = RS; RS = "\0"; line = ""
			while ((getline f < ("/proc/" pid "/cmdline")) > 0) line = line (line == "" ? "" : " ") f
			close("/proc/" pid "/cmdline"); RS = rs
			return substr(line, 1, 100)
		}'
}

case "${1:-}" in
--save)
	list >"$2"
	exit 0
	;;
--since)
	leaks=$(list | LC_ALL=C comm -13 "$2" -)
	;;
*)
	leaks=$(list)
	;;
esac
if [ -n "$leaks" ]; then
	echo "check-leaks: FAIL: left behind on this machine:"
	echo "$leaks"
	exit 1
fi
echo "check-leaks: ok (no mount, link, netns, cgroup, nft table or process of minidocker left)"
