#!/bin/sh
# check-asan: skip (the image is built without sanitizers: the same run as make check)
# The FROM scratch image (deploy/Dockerfile, `make image`), built and run
# on a dockerd of this test's own: a one-node Swarm in a network namespace
# (tests/swarm/lib.sh), so neither a registry nor the system's engine is
# involved. Checked: the build and its sizes, --version, --list-plugins,
# that the libraries in the image are exactly ldd's, that the daemon runs
# as uid 65532, publishes through its plugins, serves /metrics, turns
# healthy through the image's own HEALTHCHECK and stops at once on
# `docker stop` (it is PID 1); that it reaches the Swarm through the socket
# with the socket's group and is refused without it; and that
# deploy/stack.yml deploys on that Swarm (the forge swapped for busybox).
# The image, containers, stack and engine are removed at the end.
. "$(dirname "$0")/../lib/tap.sh"
. "$TOP/tests/swarm/lib.sh"

if [ "$(id -u)" != 0 ] || ! command -v dockerd >/dev/null || ! command -v busybox >/dev/null; then
	ok "# SKIP needs root, dockerd and busybox"
	tap_done; exit 0
fi
if ! sw_lock; then
	not_ok "the swarm lock (another swarm test or bench still running)"
	tap_done; exit 1
fi
# The target: under 15 MB uncompressed (about 9 MB with the image's own
# static libcurl and libmicrohttpd; Debian's shared ones made 19.8 MB).
# The test prints both sizes.
: "${IMAGE_MAX_BYTES:=15000000}"
# The image's libcurl and libmicrohttpd, built once from Debian's source
# packages (deploy/image.sh libs), are shared with `make image`'s cache.
: "${IMAGE_DEPS:=$TOP/build/image/deps}"
version=$(sed -n 's/^VERSION *:= *//p' "$TOP/Makefile")
IMG=dnsfollow-test:$version
T=$(mktemp -d /tmp/dfimg.XXXXXX)
cleanup() {
	if [ -n "$SW_DIR" ]; then
		dk 1 stack rm dns dns2 >/dev/null 2>&1
		dk 1 rm -f dfimg-d dfimg-c >/dev/null 2>&1
		dk 1 rmi -f "$IMG" >/dev/null 2>&1
	fi
	sw_down
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

t0=$(date +%s)
if ! sw_up 1; then
	not_ok "a one-node Swarm starts"
	tap_done; exit 1
fi
SOCK=$(sw_sock 1)
export DOCKER_HOST="unix://$SOCK"

# ---- make image -----------------------------------------------------------
mk_image() {
	make -s -j2 -C "$TOP" B="$T/build" IMAGE="$IMG" IMAGE_DEPS="$IMAGE_DEPS" DOCKER="$SW_DOCKER" image
}
s0=$(date +%s)
mk_image >"$T/make.out" 2>&1; rc=$?
check "make image builds $IMG on this engine, no registry ($(( $(date +%s) - s0 )) s)" [ "$rc" = 0 ]
if [ "$rc" != 0 ]; then tail -5 "$T/make.out" | sed 's/^/# /'; tap_done; exit 1; fi
grep "built static libraries" "$T/make.out" | sed 's/^/# /'
line=$(grep "^image $IMG: " "$T/make.out")
diag "$line"
raw=$(echo "$line" | sed -n 's/.*: \([0-9]*\) bytes (.*/\1/p')
gz=$(echo "$line" | sed -n 's/.*, \([0-9]*\) bytes (.*) as docker save.*/\1/p')
check "make image prints the size and the docker save | gzip size" \
	eval '[ "$raw" = "$(dk 1 image inspect -f "{{.Size}}" "$IMG")" ] && [ "${gz:-0}" -gt 0 ]'
check "the image is under $IMAGE_MAX_BYTES bytes uncompressed (${raw:-?})" \
	[ "${raw:-999999999}" -lt "$IMAGE_MAX_BYTES" ]
if [ "${raw:-0}" -ge "$IMAGE_MAX_BYTES" ]; then
	diag "largest files in the image:"
	find "$T/build/image/ctx/rootfs" -type f -printf '%s %P\n' | sort -rn | head -8 | sed 's/^/#   /'
fi

# The image's libcurl (HTTP(S) through OpenSSL) and libmicrohttpd (no
# HTTPS) are linked in statically: neither they nor GnuTLS are in it.
needed() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' '; }
check "dnsfollow links libcurl and libmicrohttpd statically: $(needed "$T/build/image/dnsfollow")" \
	eval '! needed "$T/build/image/dnsfollow" | grep -q "libcurl\|libmicrohttpd\|gnutls" &&
	nm "$T/build/image/dnsfollow" | grep -q " [Tt] curl_easy_perform$" &&
	nm "$T/build/image/dnsfollow" | grep -q " [Tt] MHD_start_daemon$"'
check "no plugin loads libcurl, libmicrohttpd or GnuTLS" \
	eval '! for p in "$T/build/image/plugins"/*.so; do needed "$p"; done | grep -q "libcurl\|libmicrohttpd\|gnutls"'
# Its libraries are cached: a second make image builds none of them.
s0=$(date +%s)
mk_image >"$T/make2.out" 2>&1; rc=$?
took=$(( $(date +%s) - s0 ))
check "a second make image reuses the libraries (${took} s)" \
	eval '[ "$rc" = 0 ] && ! grep -q "built static libraries" "$T/make2.out" && [ "$took" -le 60 ]'

# ---- what it is -------------------------------------------------------------
dk 1 run --rm --network none "$IMG" --version >"$T/version" 2>&1
check "docker run IMAGE --version: $(cat "$T/version")" grep -q "^dnsfollow $version " "$T/version"
dk 1 run --rm --network none "$IMG" --list-plugins >"$T/plugins" 2>&1
missing=""
for p in swarm static mock rfc2136 ovh pdns; do
	grep -q "^  $p  *\(provider\|backend\)" "$T/plugins" || missing="$missing $p"
done
check "--list-plugins lists swarm, static, mock, rfc2136, ovh, pdns${missing:+ (missing:$missing)}" \
	eval '[ -z "$missing" ] && grep -q "^plugins in /usr/lib/dnsfollow" "$T/plugins"'
cfg() { dk 1 image inspect -f "$1" "$IMG"; }
check "USER 65532:65532, ENTRYPOINT /usr/bin/dnsfollow, CMD -c /etc/dnsfollow/dnsfollow.ini" \
	eval '[ "$(cfg "{{.Config.User}}")" = 65532:65532 ] &&
	[ "$(cfg "{{json .Config.Entrypoint}}")" = "[\"/usr/bin/dnsfollow\"]" ] &&
	[ "$(cfg "{{json .Config.Cmd}}")" = "[\"-c\",\"/etc/dnsfollow/dnsfollow.ini\"]" ]'
check "HEALTHCHECK: dnsfollow --healthcheck -c /etc/dnsfollow/dnsfollow.ini" \
	[ "$(cfg '{{json .Config.Healthcheck.Test}}')" = \
	'["CMD","/usr/bin/dnsfollow","--healthcheck","-c","/etc/dnsfollow/dnsfollow.ini"]' ]

# The image's files (docker export adds /etc/hosts & co., /dev, /proc, ...).
dk 1 create --name dfimg-c "$IMG" >/dev/null && dk 1 export dfimg-c | tar -t >"$T/files"
dk 1 rm dfimg-c >/dev/null
ldd_libs() {
	for f in "$T/build/image/dnsfollow" "$T/build/image/plugins"/*.so; do ldd "$f"; done |
		awk '$2 == "=>" && $3 ~ /^\// { print substr($3, 2) } $1 ~ /^\// { print substr($1, 2) }' | sort -u
}
ldd_libs >"$T/want"
grep '\.so' "$T/files" | grep -v '^usr/lib/dnsfollow/' | sort -u >"$T/got"
check "its libraries are exactly ldd's for the binary and the plugins ($(wc -l <"$T/want"), the loader included)" \
	eval 'cmp -s "$T/want" "$T/got" && grep -q "ld-linux" "$T/got"'
cmp -s "$T/want" "$T/got" || diff "$T/want" "$T/got" | sed 's/^/# /'
check "binary, 7 plugins, CA bundle, passwd/group with dnsfollow:65532; no shell" \
	eval 'grep -qx usr/bin/dnsfollow "$T/files" &&
	[ "$(grep -c "^usr/lib/dnsfollow/.*\.so$" "$T/files")" = "$(ls "$T/build/image/plugins" | wc -l)" ] &&
	grep -qx etc/ssl/certs/ca-certificates.crt "$T/files" &&
	grep -qx "dnsfollow:x:65532:65532:.*" "$T/build/image/ctx/rootfs/etc/passwd" &&
	grep -qx "dnsfollow:x:65532:" "$T/build/image/ctx/rootfs/etc/group" &&
	! grep -q "^bin/\|^usr/bin/sh$" "$T/files"'

# ---- the daemon in it: static backend, mock provider -------------------------
mkdir -p "$T/etc" "$T/data"
chown 65532:65532 "$T/data"
printf '[gogs]\naddresses = 192.0.2.10\n' >"$T/etc/placements.ini"
cat >"$T/etc/dnsfollow.ini" <<EOF
[dnsfollow]
listen = 127.0.0.1:9109
[backend lab]
type = static
file = placements.ini
[provider m]
type = mock
zones = example.test
state = /data/state.json
[record git.example.test]
provider = m
backend = lab
service = gogs
EOF
# The image's own HEALTHCHECK command, probed every second here.
dk 1 run -d --name dfimg-d --network none --health-interval 1s --health-start-period 1s \
	-v "$T/etc:/etc/dnsfollow:ro" -v "$T/data:/data" "$IMG" >/dev/null
rec() { python3 "$TOP/tests/lib/mockstate.py" "$T/data/state.json" example.test git.example.test A 2>/dev/null; }
wait_for 20 eval '[ "$(rec)" = 192.0.2.10 ]'
check "the daemon in the image publishes git.example.test (static -> mock)" [ "$(rec)" = 192.0.2.10 ]
pid=$(dk 1 inspect -f '{{.State.Pid}}' dfimg-d)
ids() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$pid/status"; }
check "it runs as uid 65532, gid 65532, not root ($(ids Uid)/$(ids Gid))" \
	eval '[ "$(ids Uid)" = 65532 ] && [ "$(ids Gid)" = 65532 ]'
check "the file it wrote is 65532's" [ "$(stat -c %u "$T/data/state.json")" = 65532 ]
health() { dk 1 inspect -f '{{.State.Health.Status}}' dfimg-d; }
wait_for 20 eval '[ "$(health)" = healthy ]'
check "the image's HEALTHCHECK turns it healthy ($(health))" [ "$(health)" = healthy ]
nsenter -t "$pid" -n python3 -c 'import urllib.request, sys
sys.stdout.write(urllib.request.urlopen("http://127.0.0.1:9109/metrics", timeout=5).read().decode())' \
	>"$T/metrics" 2>&1
check "/metrics answers: dnsfollow_build_info, version $version" \
	grep -q "^dnsfollow_build_info{.*version=\"$version\"" "$T/metrics"
start=$(date +%s)
dk 1 stop -t 15 dfimg-d >/dev/null
took=$(( $(date +%s) - start ))
code=$(dk 1 inspect -f '{{.State.ExitCode}}' dfimg-d)
check "docker stop: SIGTERM ends it (PID 1) in ${took}s with exit 0 (got $code)" \
	eval '[ "$took" -le 5 ] && [ "$code" = 0 ]'
dk 1 rm dfimg-d >/dev/null

# ---- the Swarm through the Docker socket ---------------------------------------
dk 1 service create --detach --name forge --label dnsfollow.name=git.example.test \
	"$SW_IMAGE" sleep 1000000 >/dev/null 2>&1
wait_for 40 eval '[ -n "$(sw_task_node forge)" ]'
cat >"$T/etc/swarm.ini" <<EOF
[backend swarm]
type = swarm
discover = yes
discover_provider = m
[provider m]
type = mock
zones = example.test
state = /data/swarm.json
EOF
GID=$(stat -c %g "$SOCK")
swarm_run() { # extra docker run arguments
	dk 1 run --rm --network none -v "$SOCK:/var/run/docker.sock" -v "$T/etc:/etc/dnsfollow:ro" \
		"$@" "$IMG" -c /etc/dnsfollow/swarm.ini --dry-run >"$T/plan" 2>"$T/plan.err"
}
swarm_run --group-add "$GID"; rc=$?
check "with --group-add (the socket's gid $GID) it plans git.example.test A 10.231.0.11 from the forge's label" \
	eval '[ "$rc" = 0 ] && grep -q "git.example.test.*10.231.0.11" "$T/plan"'
[ "$rc" = 0 ] || sed 's/^/# /' "$T/plan.err" | head -5
swarm_run; rc=$?
check "without it, the socket is refused: permission denied, exit $rc" \
	eval '[ "$rc" != 0 ] && grep -q "permission denied on /var/run/docker.sock" "$T/plan.err"'
dk 1 service rm forge >/dev/null

# ---- deploy/stack.yml on this one-node Swarm ------------------------------------
S=$T/stack
mkdir -p "$S"
cp "$TOP/deploy/dnsfollow.ini" "$S/"
# The engine's socket is not at /var/run here, and no registry holds Gogs.
sed -e "s|source: /var/run/docker.sock|source: $SOCK|" \
	-e "s|^\( *\)image: gogs/gogs.*|\1image: $SW_IMAGE\n\1command: [\"sleep\", \"1000000\"]|" \
	"$TOP/deploy/stack.yml" >"$S/stack.yml"
printf '[default]\nendpoint=ovh-eu\n[ovh-eu]\napplication_key=appkey0000\napplication_secret=appsecret0000\nconsumer_key=consumer0000\n' >"$S/ovh.conf"
printf 'key "ddns" {\n\talgorithm hmac-sha256;\n\tsecret "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0IQ==";\n};\n' >"$S/tsig.key"
dk 1 secret create dnsfollow_ovh_conf "$S/ovh.conf" >/dev/null &&
	dk 1 secret create dnsfollow_tsig_key "$S/tsig.key" >/dev/null
(cd "$S" && DOCKER_GID=$GID DNSFOLLOW_IMAGE=$IMG dk 1 stack deploy -c stack.yml dns) >"$T/deploy.out" 2>&1; rc=$?
check "docker stack deploy -c stack.yml (DOCKER_GID=$GID) succeeds" [ "$rc" = 0 ]
[ "$rc" = 0 ] || sed 's/^/# /' "$T/deploy.out"
(cd "$S" && unset DOCKER_GID; DNSFOLLOW_IMAGE=$IMG dk 1 stack deploy -c stack.yml dns2) >"$T/nogid.out" 2>&1; rc=$?
check "without DOCKER_GID it refuses, saying so" \
	eval '[ "$rc" != 0 ] && grep -q "DOCKER_GID" "$T/nogid.out"'
spec() { dk 1 service inspect -f "$1" dns_dnsfollow; }
check "one replica, on a manager, restarted on failure, user 65532:$GID" \
	eval '[ "$(spec "{{.Spec.Mode.Replicated.Replicas}}")" = 1 ] &&
	[ "$(spec "{{json .Spec.TaskTemplate.Placement.Constraints}}")" = "[\"node.role == manager\"]" ] &&
	[ "$(spec "{{.Spec.TaskTemplate.RestartPolicy.Condition}}")" = on-failure ] &&
	[ "$(spec "{{.Spec.TaskTemplate.ContainerSpec.User}}")" = "65532:$GID" ]'
check "the forge's labels are service labels" \
	[ "$(dk 1 service inspect -f '{{index .Spec.Labels "dnsfollow.name"}}' dns_gogs)" = git.example.org ]
cid() { dk 1 ps -q -f name=dns_dnsfollow -f status=running | head -1; }
wait_for 40 eval '[ -n "$(cid)" ]'
C=$(cid)
check "the dnsfollow task runs" [ -n "$C" ]
if [ -n "$C" ]; then
	spid=$(dk 1 inspect -f '{{.State.Pid}}' "$C")
	check "as uid 65532 with the socket's group ($GID) as its group" \
		eval '[ "$(awk "/^Uid:/ {print \$2}" /proc/$spid/status)" = 65532 ] &&
		[ "$(awk "/^Gid:/ {print \$2}" /proc/$spid/status)" = "$GID" ]'
	check "its secrets are 0400 and its own: /run/secrets/ovh.conf, tsig.key" \
		eval '[ "$(stat -c "%a %u" /proc/$spid/root/run/secrets/ovh.conf)" = "400 65532" ] &&
		[ "$(stat -c "%a %u" /proc/$spid/root/run/secrets/tsig.key)" = "400 65532" ]'
	wait_for 20 eval 'dk 1 exec "$C" /usr/bin/dnsfollow --healthcheck -c /etc/dnsfollow/dnsfollow.ini 2>/dev/null'
	check "the stack's health check command passes in it (listen = :9109)" \
		dk 1 exec "$C" /usr/bin/dnsfollow --healthcheck -c /etc/dnsfollow/dnsfollow.ini
	met() {
		nsenter -t "$spid" -n python3 -c 'import urllib.request, sys
sys.stdout.write(urllib.request.urlopen("http://127.0.0.1:9109/metrics", timeout=5).read().decode())' 2>/dev/null
	}
	wait_for 20 eval 'met | grep -q "^dnsfollow_discovered_records{.*swarm.*} 1"'
	check "it read the forge's label through the socket (dnsfollow_discovered_records 1)" \
		eval 'met | grep -q "^dnsfollow_discovered_records{.*swarm.*} 1"'
fi
diag "$(( $(date +%s) - t0 )) s from the engine's start (not counting the wait for the swarm lock)"
tap_done
