#!/usr/bin/env bash
# The course's main demo (make demo), offline: the seed's docker session,
# run with minidocker. Images are built from Debian's busybox and served by a
# registry on 127.0.0.1 (Debian's docker-registry), set as the docker.io
# mirror, so "pull busybox" works without internet. Each command is printed
# before it runs; everything is removed at the end. The second act types the
# same session with the real docker CLI, through minidocker's daemon.
set -euo pipefail
source "$(dirname "$0")/demo-lib.sh"

echo "Building minidocker and the demo's images (busybox, and httpd: busybox httpd on port 80)..."
build_bins

work=$(mktemp -d /dev/shm/minidocker-demo-XXXX)
export MINIDOCKER_ROOT=$work/root
daemon_pid=
cleanup() {
	set +e
	[ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
	unset DOCKER_HOST
	for c in $(bin/minidocker ps -aq 2>/dev/null); do bin/minidocker rm -f "$c" >/dev/null; done
	bin/step06-networking teardown >/dev/null 2>&1
	stop_registry
	rm -rf "$work"
}
trap cleanup EXIT

start_registry "$work"
bin/mkimage -push "127.0.0.1:$port/library/busybox:latest"
bin/mkimage -httpd -push "127.0.0.1:$port/library/httpd:latest"
echo "A registry on 127.0.0.1:$port serves busybox and httpd; it is the docker.io mirror (MINIDOCKER_REGISTRY_MIRROR)."

site=$work/site
mkdir -p "$site"
echo '<h1>Hello from a minidocker container</h1>' >"$site/index.html"
md=$repo/bin/minidocker

show "$md" pull busybox
show "$md" images
show "$md" run --rm busybox echo hello
show "$md" run -d --name web -p 8888:80 -v "$site:/usr/local/apache2/htdocs" httpd
show "$md" ps
for _ in $(seq 50); do curl -fs http://127.0.0.1:8888/ >/dev/null && break; sleep 0.1; done
show curl -s http://127.0.0.1:8888/
show "$md" logs web
show "$md" stop web
show "$md" ps -a
show "$md" rm web
show "$md" rmi httpd
show "$md" images

# Act 2: the same session typed with the real docker CLI, pointed at
# minidocker's daemon: the notes' picture of a client, a unix socket and a
# daemon. The socket is the demo's own, so a daemon of yours is not touched.
echo
echo "Act 2: the docker CLI, through minidocker's daemon (client -> unix socket -> daemon)."
sock=$work/minidocker.sock
"$md" daemon -H "unix://$sock" >"$work/daemon.log" 2>&1 &
daemon_pid=$!
for _ in $(seq 100); do curl -fs --unix-socket "$sock" http://d/_ping >/dev/null && break; sleep 0.05; done
export DOCKER_HOST=unix://$sock DOCKER_CONFIG=$work/docker-cli
show docker version --format 'client {{.Client.Version}}, server {{.Server.Version}} (API {{.Server.APIVersion}})'
show docker pull busybox
show docker images
show docker run --rm busybox echo hello
show docker run -d --name web -p 8888:80 -v "$site:/usr/local/apache2/htdocs" httpd
show docker ps
for _ in $(seq 50); do curl -fs http://127.0.0.1:8888/ >/dev/null && break; sleep 0.1; done
show curl -s http://127.0.0.1:8888/
show curl -s --unix-socket "$sock" "http://d/v1.43/containers/json"
echo
show docker logs web
show docker stop web
show docker rm web
show docker rmi httpd
kill "$daemon_pid" && wait "$daemon_pid"
daemon_pid=
echo "The daemon stopped; its socket is gone: $(ls "$sock" 2>&1 | sed 's/^ls: //')"
