#!/bin/sh
# deploy/dnsfollow.service: `systemd-analyze verify` prints nothing for
# it (an unknown key, a bad value, a missing ExecStart binary or man page
# would each be a line), with ExecStart pointed at this build's binary and
# the man pages it names installed in a temporary MANPATH; two broken
# copies show the check bites. The unit carries the settings the
# deployment relies on, and its offline security rating stays "OK".
. "$(dirname "$0")/../lib/tap.sh"

T=$(mktemp -d /tmp/dfsysd.XXXXXX)
trap 'rm -rf "$T"' EXIT
trap 'exit 1' INT TERM
U=$TOP/deploy/dnsfollow.service

if ! command -v systemd-analyze >/dev/null 2>&1; then
	not_ok "systemd-analyze is installed (Debian package systemd; make deps installs it)"
	tap_done; exit 1
fi
if ! systemd-analyze --version >/dev/null 2>&1; then
	ok "# SKIP systemd-analyze is installed but cannot run here: $(systemd-analyze --version 2>&1 | head -1)"
	tap_done; exit 0
fi

# ---- the settings, as written --------------------------------------------
has() { grep -qx "$1" "$U"; }
check "Type=notify, NotifyAccess=main" eval 'has Type=notify && has NotifyAccess=main'
check "WatchdogSec= set" grep -q '^WatchdogSec=[1-9]' "$U"
check 'ExecReload= sends SIGHUP to $MAINPID' has 'ExecReload=/bin/kill -HUP $MAINPID'
prefix=$(sed -n 's/^PREFIX *?= *//p' "$TOP/Makefile")
check "ExecStart= is make install's binary ($prefix/bin/dnsfollow) with -c FILE" \
	grep -q "^ExecStart=$prefix/bin/dnsfollow -c /etc/dnsfollow/dnsfollow.ini\$" "$U"
check "a user of its own (DynamicUser=yes), in group docker" \
	eval 'has DynamicUser=yes && has SupplementaryGroups=docker'
check "ProtectSystem=strict, ProtectHome=yes, PrivateTmp=yes, NoNewPrivileges=yes" \
	eval 'has ProtectSystem=strict && has ProtectHome=yes && has PrivateTmp=yes && has NoNewPrivileges=yes'
check "no capabilities (CapabilityBoundingSet= empty)" has 'CapabilityBoundingSet='
check "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6" has 'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6'
check "SystemCallFilter=@system-service" has 'SystemCallFilter=@system-service'
check "a configuration error (78) is not restarted in a loop" grep -q '^RestartPreventExitStatus=.*\<78\>' "$U"

# ---- systemd-analyze verify ----------------------------------------------
[ -x "$B/dnsfollow" ] || make -s -C "$TOP" B="$B" all >"$T/make.out" 2>&1
make -s -C "$TOP" B="$B" install-man DESTDIR="$T/root" MANDIR=/man >"$T/man.out" 2>&1; rc=$?
check "the man pages the unit names install (make install-man)" [ "$rc" = 0 ]
[ "$rc" = 0 ] || sed 's/^/# /' "$T/man.out"
export MANPATH="$T/root/man"
# unit NAME [SED]: a copy of the unit, ExecStart on this build's binary,
# then edited by the sed expression SED.
unit() {
	mkdir -p "$T/$1" && sed -e "s|^ExecStart=$prefix/bin/dnsfollow|ExecStart=$B/dnsfollow|" \
		${2:+-e "$2"} "$U" >"$T/$1/dnsfollow.service"
}
verify() { systemd-analyze verify "$T/$1/dnsfollow.service" >"$T/$1.out" 2>&1; }
unit good
verify good; rc=$?
check "systemd-analyze verify: exit 0 and not a word (exit $rc)" \
	eval '[ "$rc" = 0 ] && [ ! -s "$T/good.out" ]'
sed 's/^/# /' "$T/good.out"
unit typo "s/^ProtectSystem=strict/ProtectSytem=strict/"
verify typo
check "a misspelt key is reported (the check bites)" grep -q "ProtectSytem" "$T/typo.out"
unit nobin "s|^ExecStart=$B/dnsfollow|ExecStart=$T/nobin/dnsfollow|"
verify nobin
check "an ExecStart binary that does not exist is reported" grep -q "$T/nobin/dnsfollow" "$T/nobin.out"

# ---- systemd-analyze security (offline): 0 best .. 10 worst ---------------
systemd-analyze security --offline=yes "$T/good/dnsfollow.service" >"$T/sec.out" 2>&1
level=$(sed -n 's/.*Overall exposure level for dnsfollow.service: \([0-9.]*\).*/\1/p' "$T/sec.out")
systemd-analyze security --offline=yes --threshold=20 "$T/good/dnsfollow.service" >/dev/null 2>&1; rc=$?
check "offline security exposure at most 2.0 (${level:-?})" eval '[ "$rc" = 0 ] && [ -n "$level" ]'
tap_done
