#!/bin/sh
# `make image`: stage a root file system for deploy/Dockerfile (FROM
# scratch), build the image with `docker build`, print its sizes.
#   deploy/image.sh BUILD IMAGE VERSION
# BUILD holds dnsfollow and plugins/*.so built with PREFIX=/usr (the
# plugin folder compiled in is then the image's /usr/lib/dnsfollow).
# The staging folder BUILD/ctx is the build context: the Dockerfile and
# rootfs/, which the image is made of: the binary and the
# plugins (stripped), exactly the shared libraries ldd finds for them
# (libcurl's whole closure, the dynamic loader), CA certificates, and
# /etc/passwd + /etc/group naming the non-root user 65532 (dnsfollow).
# DOCKER (default docker) is the client; DOCKER_HOST picks the engine.
set -eu
B=$1 IMAGE=$2 VERSION=$3
TOP=$(cd "$(dirname "$0")/.." && pwd)
: "${DOCKER:=docker}"
C=$B/ctx
R=$C/rootfs
CA=/etc/ssl/certs/ca-certificates.crt

die() { echo "make image: $*" >&2; exit 1; }
[ -x "$B/dnsfollow" ] || die "$B/dnsfollow: not built"
[ -f "$CA" ] || die "$CA: missing (apt-get install ca-certificates)"
command -v ldd >/dev/null || die "ldd not found"

rm -rf "$C"
mkdir -p "$R/usr/bin" "$R/usr/lib/dnsfollow" "$R/etc/ssl/certs" "$R/etc/dnsfollow"
strip --strip-unneeded -o "$R/usr/bin/dnsfollow" "$B/dnsfollow"
for p in "$B"/plugins/*.so; do
	strip --strip-unneeded -o "$R/usr/lib/dnsfollow/${p##*/}" "$p"
done

# Every library the binary or a plugin loads, at the path the loader
# resolved it to here (the loader itself by its PT_INTERP path), so the
# image needs no ld.so.cache. "not found", or ldd failing, stops the build.
libs=$(for f in "$B/dnsfollow" "$B"/plugins/*.so; do ldd "$f" || echo "$f => not found"; done |
	awk '/not found/ { print "MISSING " $1; next }
	     $2 == "=>" && $3 ~ /^\// { print $3 }
	     $1 ~ /^\// { print $1 }' | sort -u)
case "$libs" in *MISSING*) die "a library is missing: $(echo "$libs" | grep MISSING)" ;; esac
for l in $libs; do
	mkdir -p "$R${l%/*}"
	cp -L "$l" "$R$l"   # the file, not the symlink: the soname is the name asked for
done

cp "$CA" "$R$CA"
cat >"$R/etc/passwd" <<PW
root:x:0:0:root:/:/nonexistent
nobody:x:65534:65534:nobody:/nonexistent:/nonexistent
dnsfollow:x:65532:65532:dnsfollow:/nonexistent:/nonexistent
PW
cat >"$R/etc/group" <<GR
root:x:0:
nogroup:x:65534:
dnsfollow:x:65532:
GR
# Docker writes /etc/hosts and resolv.conf (service names on an overlay
# network resolve through its DNS); users and groups from the files above.
printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$R/etc/nsswitch.conf"
cp "$TOP/deploy/Dockerfile" "$C/Dockerfile"

"$DOCKER" build -q -t "$IMAGE" --build-arg VERSION="$VERSION" "$C" >/dev/null ||
	die "docker build failed (is the engine at ${DOCKER_HOST:-the default socket} running?)"
raw=$("$DOCKER" image inspect -f '{{.Size}}' "$IMAGE")
gz=$("$DOCKER" save "$IMAGE" | gzip -c | wc -c)
echo "image $IMAGE: $raw bytes ($(awk "BEGIN{printf \"%.1f\", $raw/1048576}") MiB) uncompressed," \
	"$gz bytes ($(awk "BEGIN{printf \"%.1f\", $gz/1048576}") MiB) as docker save | gzip;" \
	"$(echo "$libs" | wc -l) shared libraries"
