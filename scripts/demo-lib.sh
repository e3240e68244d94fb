# Shared by the demos (demo.sh, demo-app.sh): source it first. It moves to
# the repository's top, where bin/ gets the demos' programs.
cd "$(dirname "${BASH_SOURCE[0]}")/.."
GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
repo=$PWD
mkdir -p bin

# build_bins builds minidocker, the image maker and step 6's demo (whose
# teardown deletes the default bridge when nothing uses it).
build_bins() {
	CGO_ENABLED=0 "$GO" build -o bin/minidocker ./final
	"$GO" build -o bin/mkimage ./internal/imagebuild/mkimage
	"$GO" build -o bin/step06-networking ./step06-networking
}

# show prints a command the way you would type it, then runs it.
show() {
	printf '\n\033[1m$'
	local a
	for a in "$@"; do
		a=${a//$repo\//}
		if [[ $a =~ ^[A-Za-z0-9_./:=@%+,-]+$ ]]; then printf ' %s' "$a"; else printf " '%s'" "${a//\'/\'\\\'\'}"; fi
	done
	printf '\033[0m\n'
	"$@" || printf '(exit code %d)\n' "$?"
}

# start_registry DIR starts Debian's docker-registry on a free port of
# 127.0.0.1 ($port), its storage in DIR, and makes it the docker.io mirror
# (MINIDOCKER_REGISTRY_MIRROR). stop_registry stops it.
registry_pid=
start_registry() {
	while :; do
		port=$((20000 + RANDOM % 30000))
		ss -Hltn "sport = :$port" | grep -q . || break
	done
	cat >"$1/registry.yml" <<YAML
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $1/registry}}
http: {addr: 127.0.0.1:$port}
YAML
	docker-registry serve "$1/registry.yml" >"$1/registry.log" 2>&1 &
	registry_pid=$!
	wait_http "http://127.0.0.1:$port/v2/"
	export MINIDOCKER_REGISTRY_MIRROR=http://127.0.0.1:$port
}
stop_registry() {
	[ -n "$registry_pid" ] && kill "$registry_pid" 2>/dev/null && wait "$registry_pid" 2>/dev/null
	registry_pid=
}

# wait_http URL waits up to 5 s for URL to answer.
wait_http() {
	for _ in $(seq 100); do curl -fs "$1" >/dev/null && return 0; sleep 0.05; done
	return 1
}
