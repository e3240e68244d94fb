#!/usr/bin/env bash
# make demo-app: the course notes' three containers that are isolated yet
# talk and share data, offline, with busybox: a database stand-in (a
# key-value service, busybox httpd running a CGI script, its data on the
# named volume appdata), an app that asks it by name, and a web front
# published on 127.0.0.1:8080 (or the next free port), all on the user
# network "app". curl from the host shows a visit counter that survives rm
# and run of the database.
# Everything is removed at the end.
set -euo pipefail
source "$(dirname "$0")/demo-lib.sh"

echo "Building minidocker and the busybox image..."
build_bins

work=$(mktemp -d /dev/shm/minidocker-demo-app-XXXX)
export MINIDOCKER_ROOT=$work/root
md=$repo/bin/minidocker
cleanup() {
	set +e
	for c in $("$md" ps -aq 2>/dev/null); do "$md" rm -f "$c" >/dev/null; done
	"$md" network rm app >/dev/null 2>&1
	"$md" volume rm appdata >/dev/null 2>&1
	bin/step06-networking teardown >/dev/null 2>&1 # the default bridge, if nobody else uses it
	stop_registry
	rm -rf "$work"
}
trap cleanup EXIT
start_registry "$work"
bin/mkimage -push "127.0.0.1:$port/library/busybox:latest"
# The web front's port on 127.0.0.1: 8080, or the next free one.
web=8080
while ss -Hltn "sport = :$web" | grep -q .; do web=$((web + 1)); done

# The three tiers' programs: shell CGI scripts that busybox httpd runs,
# bind-mounted read-only. Each talks HTTP to the next with nc, by name.
mkdir -p "$work/db/cgi-bin" "$work/app/cgi-bin" "$work/web/cgi-bin"
cat >"$work/db/cgi-bin/kv" <<'SH'
#!/bin/sh
# GET /cgi-bin/kv?KEY: the value; POST /cgi-bin/kv?KEY with a body: stores it.
key=$QUERY_STRING
case $key in '' | *[!A-Za-z0-9_]*) printf 'Status: 400\r\n\r\nbad key\n'; exit 0 ;; esac
printf 'Content-Type: text/plain\r\n\r\n'
if [ "$REQUEST_METHOD" = POST ]; then head -c "$CONTENT_LENGTH" >"/data/$key"; else cat "/data/$key" 2>/dev/null; fi
SH
cat >"$work/app/cgi-bin/visit" <<'SH'
#!/bin/sh
# One visit: read the counter from the database "db", add one, store it.
printf 'Content-Type: text/plain\r\n\r\n'
resp=$(printf 'GET /cgi-bin/kv?visits HTTP/1.0\r\n\r\n' | nc db 5000) || { echo "app $(hostname): db does not answer"; exit 0; }
n=$(echo "$resp" | sed '1,/^\r*$/d')
n=$((${n:-0} + 1))
printf 'POST /cgi-bin/kv?visits HTTP/1.0\r\nContent-Length: %d\r\n\r\n%s' ${#n} "$n" | nc db 5000 >/dev/null
echo "visit number $n (app $(hostname) asked db, which is $(nslookup db 2>/dev/null | awk '/^Address: /{print $2}'))"
SH
cat >"$work/web/cgi-bin/index" <<'SH'
#!/bin/sh
# The front: asks the app by name and wraps its answer.
printf 'Content-Type: text/plain\r\n\r\n'
echo "web front $(hostname) says:"
printf 'GET /cgi-bin/visit HTTP/1.0\r\n\r\n' | nc app 8000 | sed '1,/^\r*$/d'
SH
echo "the web front is up" >"$work/web/index.html"
chmod +x "$work"/*/cgi-bin/*

show "$md" network create app
show "$md" volume create appdata
show "$md" run -d --name db --network app -v appdata:/data -v "$work/db:/srv:ro" busybox httpd -f -p 5000 -h /srv
show "$md" run -d --name app --network app --network-alias backend -v "$work/app:/srv:ro" busybox httpd -f -p 8000 -h /srv
show "$md" run -d --name web --network app -p 127.0.0.1:$web:80 -v "$work/web:/srv:ro" busybox httpd -f -p 80 -h /srv
show "$md" ps
show "$md" network inspect app
wait_http http://127.0.0.1:$web/
show curl -s http://127.0.0.1:$web/cgi-bin/index
show curl -s http://127.0.0.1:$web/cgi-bin/index
echo
echo "The database goes, with its container; its data stays in the volume appdata:"
show "$md" rm -f db
show curl -s http://127.0.0.1:$web/cgi-bin/index
show "$md" run -d --name db --network app -v appdata:/data -v "$work/db:/srv:ro" busybox httpd -f -p 5000 -h /srv
show curl -s http://127.0.0.1:$web/cgi-bin/index
echo
echo "From the default bridge, the names mean nothing (Docker's behaviour):"
show "$md" run --rm busybox nslookup db
show "$md" rm -f web app db
show "$md" network rm app
show "$md" volume rm appdata
