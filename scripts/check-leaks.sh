#!/usr/bin/env bash
# Fails when a test or a container left something behind: a mount, a veth or
# bridge (a user network's is br-<12 hex>), a network namespace, a cgroup, an
# nft table (a user network's is minidocker-br-...) or a process of ours (the
# embedded DNS servers of user networks live in the containers' monitors,
# __minidocker_monitor: a server left behind is a monitor left behind).
# It only looks; it changes nothing. (It never lists legacy iptables tables:
# on this kernel merely listing one creates it.)
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
	} 2>/dev/null | LC_ALL=C sort -u
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
