#!/bin/sh
# The installed test host's own test (tests/conform/test_testhost.c with
# memprov.c), built by `make sdk-tests` from the public headers and
# libdnsfollow-testhost.a only: typed keys, plugin calls, captured logs
# and errors, fake HTTP, stopping. (tests/e2e/t_install.sh builds the same
# program against the installed tree.)
. "$(dirname "$0")/../lib/tap.sh"
if [ ! -x "$B/conform/test_testhost" ]; then
	not_ok "test_testhost is built (make B=$B sdk-tests)"
	tap_done; exit 1
fi
exec $DF_WRAP "$B/conform/test_testhost"
