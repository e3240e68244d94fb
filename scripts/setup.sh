#!/usr/bin/env bash
# Installs the Debian packages that minidocker's tests and demo need.
# Idempotent: when everything is present it changes nothing and says so.
#   scripts/setup.sh          packages for make test and make demo
#   scripts/setup.sh bench    also the benchmark tools (hyperfine, crun)
set -euo pipefail

packages=(
	busybox-static  # the test images and the demo images are built from /bin/busybox
	skopeo          # interop tests: archives written by a real tool, images pushed read back
	umoci           # interop tests: a pushed image unpacked by a real OCI tool
	docker-registry # interop tests: the real distribution registry on 127.0.0.1
	nftables        # nft, to look at our rules (the product itself talks netlink)
	iproute2        # ip, for the lesson commands and the leak check
	curl            # the demo fetches the page served by a container
	ca-certificates
	docker.io       # tests compare minidocker's confinement with the real Docker's (never left running)
	runc            # the OCI runtime tests compare minidocker's runtime with runc on the same bundles
	containerd      # ... and run it under containerd (ctr run --runc-binary)
	podman          # ... and under podman (--runtime)
)
if [ "${1:-}" = bench ]; then
	packages+=(hyperfine crun)
fi

missing=()
for p in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "setup: all packages present (${packages[*]})"
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "setup: missing packages: ${missing[*]}; run as root: sudo make setup" >&2
	exit 1
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# A package's service must not start because we installed it: Debian's
# docker.io would start dockerd with a docker0 bridge on 172.17.0.0/16 (the
# range minidocker0 uses). policy-rc.d tells the maintainer scripts no; and
# where systemd runs, the units we brought are disabled again. Tests start
# the engines they need themselves, with roots of their own.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy"
	trap 'rm -f "$policy"' EXIT
fi
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
if [[ " ${missing[*]} " == *" docker.io "* ]] && command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
	systemctl disable --now docker.service docker.socket containerd.service >/dev/null 2>&1 || true
fi
# Debian starts the registry as a service on :5000 when systemd runs; tests
# start their own on a free port, so the packaged one is not needed.
echo "setup: done"
