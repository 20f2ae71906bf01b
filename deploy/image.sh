#!/bin/sh
# `make image`: stage a root file system for deploy/Dockerfile (FROM
# scratch), build the image with `docker build`, print its sizes.
#   deploy/image.sh libs DEPS BUILD the image's own libcurl and libmicrohttpd
#   deploy/image.sh BUILD IMAGE VERSION
# `libs` builds, once, static libcurl (OpenSSL; HTTP, HTTPS and unix
# sockets only) and libmicrohttpd (no HTTPS, so no GnuTLS) from Debian's
# source packages into DEPS/include and DEPS/lib; `make image` links the
# image's dnsfollow with them, so the image holds neither Debian's libcurl
# closure (GnuTLS, Kerberos, LDAP, ssh, idn2, ...) nor GnuTLS for the
# server. Sources: IMAGE_SRC, a folder where `apt-get source -d curl
# libmicrohttpd` was run (the .dsc and tarballs), or else DEPS/src,
# fetched so (as root it adds a deb-src entry for this release when apt
# has none). They are unpacked in a temporary folder outside the build
# folder, and removed (the Makefile includes every *.d file under the
# build folder, and curl's sources have some). DEPS keeps the libraries,
# headers, logs and the packages: delete DEPS to rebuild (after a Debian
# update of either).
# BUILD holds dnsfollow and plugins/*.so built with PREFIX=/usr (the
# plugin folder compiled in is then the image's /usr/lib/dnsfollow).
# The staging folder BUILD/ctx is the build context: the Dockerfile and
# rootfs/, which the image is made of: the binary and the
# plugins (stripped), exactly the shared libraries ldd finds for them
# (libssl, libcrypto, jansson, inih, libc, the dynamic loader), CA
# certificates, and /etc/passwd + /etc/group naming the non-root user
# 65532 (dnsfollow).
# DOCKER (default docker) is the client; DOCKER_HOST picks the engine.
set -eu
die() { echo "make image: $*" >&2; exit 1; }

# ---- the image's libcurl and libmicrohttpd ---------------------------------
# What dnsfollow uses: HTTP/1.1 and HTTPS through OpenSSL, unix sockets
# (Docker), proxies, the threaded resolver; everything else is off.
CURL_OPTS="--with-openssl --with-ca-bundle=/etc/ssl/certs/ca-certificates.crt
--without-ca-path --without-zlib --without-brotli --without-zstd
--without-nghttp2 --without-ngtcp2 --without-nghttp3 --without-quiche
--without-msh3 --without-hyper --without-librtmp --without-libssh2
--without-libssh --without-wolfssh --without-gssapi --without-libidn2
--without-libpsl --without-libgsasl --disable-ldap --disable-ldaps
--disable-ftp --disable-file --disable-rtsp --disable-dict --disable-telnet
--disable-tftp --disable-pop3 --disable-imap --disable-smb --disable-smtp
--disable-gopher --disable-mqtt --disable-manual --disable-ntlm
--disable-ntlm-wb --disable-mime --disable-alt-svc --disable-hsts
--disable-headers-api --disable-websockets --disable-libcurl-option"
MHD_OPTS="--disable-https --without-gnutls --disable-doc --disable-examples
--disable-curl --disable-postprocessor --disable-dauth --disable-httpupgrade"

# apt-get source -d curl libmicrohttpd into $1, adding a deb-src entry for
# this release (root only) when apt knows no source package yet.
fetch_sources() {
	command -v dpkg-source >/dev/null || die "dpkg-source not found (apt-get install dpkg-dev)"
	if ! apt-cache showsrc curl 2>/dev/null | grep -q '^Package: curl'; then
		[ "$(id -u)" = 0 ] || die "apt has no deb-src entry: run make image as root once," \
			"or set IMAGE_SRC to a folder where 'apt-get source -d curl libmicrohttpd' was run"
		codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
		[ -n "$codename" ] || die "/etc/os-release names no release (VERSION_CODENAME)"
		cat >/etc/apt/sources.list.d/dnsfollow-deb-src.sources <<SRC
# Added by dnsfollow's deploy/image.sh (make image): Debian source packages.
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: $codename $codename-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: $codename-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
		echo "make image: added /etc/apt/sources.list.d/dnsfollow-deb-src.sources" >&2
		apt-get update -q >/dev/null || die "apt-get update failed"
	fi
	mkdir -p "$1"
	(cd "$1" && apt-get source -q -d curl libmicrohttpd >fetch.log 2>&1) ||
		die "apt-get source -d curl libmicrohttpd failed (see $1/fetch.log)"
}

# One static, position-independent library from a Debian source package
# (its patches applied): DSC NAME PREFIX SUBDIRS CONFIGURE-OPTIONS, built
# in $tmp/NAME, logs in $D/log/NAME.log (kept: the sources are not).
build_lib() {
	log=$D/log/$2.log
	dpkg-source -q -x "$1" "$tmp/$2" >"$log" 2>&1 || die "$1: dpkg-source -x failed (see $log)"
	# shellcheck disable=SC2086 # $5: one option a word
	(cd "$tmp/$2" && ./configure -q --prefix="$3" --disable-shared --enable-static \
		--with-pic --disable-dependency-tracking $5 >>"$log" 2>&1) || {
		cp "$tmp/$2/config.log" "$D/log/$2.config.log" 2>/dev/null
		die "$1: configure failed (see $log, $D/log/$2.config.log)"
	}
	for d in $4; do
		if ! make -s -C "$tmp/$2/$d" -j"$(nproc)" >>"$log" 2>&1 ||
			! make -s -C "$tmp/$2/$d" install >>"$log" 2>&1; then
			die "$1: make in $d failed (see $log)"
		fi
	done
}

libs() {
	D=$1
	mkdir -p "$D" && D=$(cd "$D" && pwd) && IMAGE_SRC=${IMAGE_SRC:+$(cd "$IMAGE_SRC" && pwd)}
	src=${IMAGE_SRC:-$D/src}
	ls "$src"/curl_*.dsc "$src"/libmicrohttpd_*.dsc >/dev/null 2>&1 || {
		[ -z "${IMAGE_SRC:-}" ] || die "IMAGE_SRC=$src: no curl_*.dsc and libmicrohttpd_*.dsc there"
		fetch_sources "$src"
	}
	command -v dpkg-source >/dev/null || die "dpkg-source not found (apt-get install dpkg-dev)"
	curl=$(ls "$src"/curl_*.dsc | sort -V | tail -1)
	mhd=$(ls "$src"/libmicrohttpd_*.dsc | sort -V | tail -1)
	stamp="${curl##*/} $CURL_OPTS ${mhd##*/} $MHD_OPTS"
	[ -f "$D/lib/libcurl.a" ] && [ -f "$D/lib/libmicrohttpd.a" ] &&
		[ "$(cat "$D/stamp" 2>/dev/null)" = "$stamp" ] && return 0
	t0=$(date +%s)
	# A clean environment: neither the outer make's variables nor the
	# caller's CFLAGS reach configure.
	unset MAKEFLAGS MFLAGS MAKELEVEL CPPFLAGS LDFLAGS LIBS
	export CFLAGS=-O2
	# Unpacked sources never outlive this run, not even a failed one.
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/dnsfollow-image-libs.XXXXXX") || die "mktemp failed"
	trap 'rm -rf "$tmp"' EXIT
	rm -rf "$D/log" && mkdir -p "$D/log"
	build_lib "$curl" curl "$tmp/prefix" "lib include" "$CURL_OPTS"
	build_lib "$mhd" libmicrohttpd "$tmp/prefix" "src/include src/microhttpd" "$MHD_OPTS"
	rm -rf "${D:?}/lib" "${D:?}/include"
	mv "$tmp/prefix/lib" "$tmp/prefix/include" "$D/"
	echo "$stamp" >"$D/stamp"
	echo "make image: built static libraries from ${curl##*/} and ${mhd##*/} in $D ($(( $(date +%s) - t0 )) s)"
}
if [ "${1:-}" = libs ]; then
	[ $# = 3 ] || die "usage: $0 libs DEPS BUILD"
	libs "$2"
	# BUILD's objects and links from other libraries (or other headers)
	# are dropped: make does not know LIBS changed, and would not relink.
	if ! cmp -s "$D/stamp" "$3/deps.stamp"; then
		rm -rf "$3/obj" "$3/dnsfollow" "$3/plugins" "$3/libdfcore.a"
		mkdir -p "$3" && cp "$D/stamp" "$3/deps.stamp"
	fi
	exit 0
fi

B=$1 IMAGE=$2 VERSION=$3
TOP=$(cd "$(dirname "$0")/.." && pwd)
: "${DOCKER:=docker}"
C=$B/ctx
R=$C/rootfs
CA=/etc/ssl/certs/ca-certificates.crt

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
