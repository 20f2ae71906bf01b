#!/bin/sh
# Install the Debian packages dnsfollow builds and tests with, when missing.
# Used by `make deps` (and so by `make check`), `make deps-build` (and so
# by `make run`, which needs only what builds and runs dnsfollow) and by
# .ci/run.
#   deps.sh [--build]          install what is missing (needs root when
#                              anything is); --build: the build set only
#   deps.sh [--build] --list   print the package list
set -eu
BUILD_PKGS="build-essential pkg-config libcurl4-openssl-dev libjansson-dev
libssl-dev libinih-dev libmicrohttpd-dev scdoc ca-certificates"
TEST_PKGS="libcmocka-dev openssl python3 iproute2 procps psmisc
bind9 bind9-utils bind9-dnsutils knot knot-dnsutils pdns-server pdns-backend-sqlite3 sqlite3
docker.io busybox-static dpkg-dev clang libclang-rt-14-dev valgrind man-db prometheus python3-yaml systemd"
PKGS="$BUILD_PKGS $TEST_PKGS"
if [ "${1:-}" = --build ]; then
	PKGS=$BUILD_PKGS
	shift
fi
if [ "${1:-}" = --list ]; then
	echo $PKGS
	exit 0
fi
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing Debian packages:$missing (run as root, or apt-get install them)" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >/dev/null
# Debian's pdns-server starts a system PowerDNS on port 53 where it can:
# the tests run their own on loopback high ports and want none.
case " $missing " in *" pdns-server "*)
	if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet pdns 2>/dev/null; then
		systemctl disable --now pdns >/dev/null 2>&1 || true
	elif pgrep -x pdns_server >/dev/null && command -v service >/dev/null 2>&1; then
		service pdns stop >/dev/null 2>&1 || true
	fi ;;
esac
