#!/bin/sh
# Bad-input battery (issue 8): every file dnsfollow reads, and its command
# line, fed malformed input. One table line per case (cases.txt):
#
#   NAME | KIND | EXIT | LINE | N | REGEX | GENERATOR
#
# KIND says which file is under test and how dnsfollow runs (see setup()):
#   ini    the config itself                    --check-config
#   kf     a KEY_file (service_file = value)    --check-config
#   place  the static backend's placements file --once (read at run time)
#   state  the mock provider's state file       --once (read at run time)
#   ovh    an ovh.conf credentials file         --check-config
#   tsig   a TSIG key file (rfc2136 key_file)   --check-config
#   cli    the command line (GENERATOR sets A, the arguments)
# EXIT   accepted exit statuses, "/"-separated (78, 1/75, ...)
# LINE   a number (or numbers, "/"-separated): stderr holds "LF:LINE:"
#        (LF: the file the line is in) and names the file under test;
#        "-": stderr names the file under test; ".": no file check
# N      exact number of stderr lines ("-": any)
# REGEX  extended regex stderr must match ("~" stands for "|"; "-": none)
# GENERATOR  shell code run in the case's folder: sets the template
#        variables of cfg_text() and/or writes "$F" (the file under test).
# Every case also asserts: finished within the timeout (a FIFO must never
# hang), no signal death, no sanitizer report, no "Input/output error",
# and no secret (every secret of the battery contains "Sekr1t") in stderr.
# Cases run in parallel (xargs -P); each case has its own folder.
#   BADINPUT_ONLY=REGEX  run only the cases whose line matches ^(REGEX)
#   BADINPUT_KEEP=1      keep the cases' folders (printed) for a look
. "$(dirname "$0")/../lib/tap.sh"

unset OVH_ENDPOINT OVH_APPLICATION_KEY OVH_APPLICATION_SECRET OVH_CONSUMER_KEY
SECRET=Sekr1tSekr1tSekr1tSekr1tSekr1tSekr1tSekr1tSe # 44 base64 characters
SANITIZER='ERROR: AddressSanitizer|runtime error:|LeakSanitizer|UndefinedBehaviorSanitizer'

# ---- content helpers (used by generators) -----------------------------------
big() { head -c "$1" /dev/zero | tr '\0' "${2:-x}"; } # N copies of a character
put() { printf '%b' "$1" >"$F"; }                    # write "$F", \n \0 \r escapes
# A valid DNS name of $1 characters in example.test (63-character labels).
longname() {
	_k=$(($1 - 12)) _s=''
	while [ "$_k" -gt 64 ]; do _s="$_s$(big 63 a)."; _k=$((_k - 64)); done
	printf '%s%s.example.test' "$_s" "$(big $((_k - 1)) a)"
}
zones1000() { _i=0; while [ $_i -lt 1000 ]; do printf ', z%04d.test' $_i; _i=$((_i + 1)); done; }
# The config template. Line numbers are fixed: X_CORE is line 4, L_FILE 7,
# X_BACK 8, L_ZONES 11, L_STATE 12, X_PROV 13, [record REC] 14, L_PROVIDER
# 15, L_BACKEND 16, L_SERVICE 17, L_TYPE 18, X_REC 19, TAIL from 20.
# L_* replace a line (set empty: a blank line); X_* and TAIL add text (%b).
cfg_text() {
	printf '[dnsfollow]\n%s\nretries = 1\n%b\n' "${L_PLUGIN-plugin_dir = $PLUGINS}" "${X_CORE-}"
	printf '[backend lab]\ntype = static\n%s\n%b\n' "${L_FILE-file = placements.ini}" "${X_BACK-}"
	printf '[provider m]\ntype = mock\n%s\n%s\n%b\n' "${L_ZONES-zones = example.test}" \
		"${L_STATE-state = state.json}" "${X_PROV-}"
	printf '[record %s]\n%s\n%s\n%s\n%s\n%b\n' "${REC-www.example.test}" \
		"${L_PROVIDER-provider = m}" "${L_BACKEND-backend = lab}" \
		"${L_SERVICE-service = web}" "${L_TYPE-type = A, AAAA}" "${X_REC-}"
	[ -z "${TAIL-}" ] || printf '%b\n' "$TAIL"
}
ovhconf() {
	printf '[default]\nendpoint=ovh-eu\n[ovh-eu]\napplication_key=appkeyvalue\n'
	printf 'application_secret=AppSekr1tValue\nconsumer_key=ConsSekr1tValue\n'
}
keyf() { printf 'key "upd" {\n\talgorithm hmac-sha256;\n\tsecret "%s";\n};\n' "$SECRET"; }
knotk() { printf 'key:\n  - id: upd\n    algorithm: hmac-sha256\n    secret: %s\n' "$SECRET"; }
# rr JSON: a state file whose www.example.test A RRset is JSON.
rr() { put "{\"zones\": {\"example.test\": {\"serial\": 1, \"rrsets\": {\"www.example.test\": {\"A\": $1}}}}}\n"; }

OVH_TAIL='[provider o]\ntype = ovh\nzones = other.test\ncredentials = ovh.conf'
TSIG_TAIL='[provider t]\ntype = rfc2136\nzones = other.test\nserver = 127.0.0.1:53\nkey_file = ddns.key'

# ---- one case ------------------------------------------------------------------
trim() { _t=${1#"${1%%[! ]*}"}; printf '%s' "${_t%"${_t##*[! ]}"}"; }

# Defaults of a kind: F (file under test), LF (file LINE refers to), A.
setup() {
	C=$D/df.ini F=$C LF=$C A="-c $C --check-config"
	printf '[web]\naddresses = 192.0.2.10, 2001:db8::10\n' >"$D/placements.ini"
	case $1 in
	ini | cli) ;;
	kf) F=$D/value X_REC='service_file = value' L_SERVICE=''; echo web >"$F" ;;
	place) F=$D/placements.ini LF=$F A="-c $C --once" ;;
	state) F=$D/state.json LF=$F A="-c $C --once" ;;
	ovh) F=$D/ovh.conf LF=$F TAIL=$OVH_TAIL; ovhconf >"$F" ;;
	tsig) F=$D/ddns.key LF=$F TAIL=$TSIG_TAIL; keyf >"$F" ;;
	*) return 1 ;;
	esac
}

# judge: what is wrong with the run (exit $rc, stderr $E), one line each.
judge() {
	case $rc in
	124 | 137) echo "hung: killed after ${TMO}s" ;;
	*) [ "$rc" -lt 128 ] || echo "died of signal $((rc - 128))" ;;
	esac
	case "/$want/" in */"$rc"/*) ;; *) echo "exit $rc, want $want" ;; esac
	! grep -Eq "$SANITIZER" "$E" || echo "sanitizer report"
	! grep -q 'Input/output error' "$E" || echo "says 'Input/output error'"
	! grep -q 'Sekr1t' "$E" || echo "a secret reached stderr"
	[ "$re" = - ] || grep -Eq -- "$(printf '%s' "$re" | tr '~' '|')" "$E" ||
		echo "no line matches /$re/"
	case $wline in
	.) ;;
	-) grep -qF -- "$F" "$E" || echo "$F not named" ;;
	*) for _l in $(echo "$wline" | tr / ' '); do
		grep -qF -- "$LF:$_l:" "$E" && _l=ok && break
	   done
	   [ "$_l" = ok ] || echo "no '$LF:$wline:'"
	   [ "$F" = "$LF" ] || grep -qF -- "$F" "$E" || echo "$F not named" ;;
	esac
	[ "$nl" = - ] || [ "$(wc -l <"$E")" = "$nl" ] ||
		echo "$(wc -l <"$E") stderr lines, want $nl"
}

# run_case N: runs case N of $T/cases.txt, writes its verdict to $T/res/N.
run_case() {
	line=$(sed -n "$1p" "$T/cases.txt")
	IFS='|' read -r name kind want wline nl re gen <<EOF
$line
EOF
	name=$(trim "$name") kind=$(trim "$kind") want=$(trim "$want")
	wline=$(trim "$wline") nl=$(trim "$nl") re=$(trim "$re")
	D=$T/c$1 R=$T/res/$1 E=$T/c$1/err
	mkdir "$D" && cd "$D" || return 1
	if ! setup "$kind" || ! eval "$gen" || ! { [ -e "$C" ] || cfg_text >"$C"; }; then
		printf 'not ok %s\n# generator failed\n' "$name" >"$R"
		return 0
	fi
	# An old file: settled for any "changed very recently" rule (issue 8 #2).
	[ ! -f "$F" ] || [ -L "$F" ] || touch -d '1 minute ago' "$F"
	t0=$(date +%s%N)
	eval "set -- $A"
	# shellcheck disable=SC2086 # DF_WRAP is a command with its arguments
	timeout -k 2 "$TMO" $DF_WRAP "$DNSFOLLOW" "$@" >"$D/out" 2>"$E" </dev/null
	rc=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
	why=$(judge | paste -sd ';' | sed 's/;/; /g')
	if [ -z "$why" ]; then
		printf 'ok %s (%d ms)\n' "$name" "$ms" >"$R"
	else
		printf 'not ok %s (%d ms)\n# %s\n' "$name" "$ms" "$why" >"$R"
		head -c 2000 "$E" | tr -d '\000-\010\013-\037\177' | cut -c1-300 | head -4 |
			sed 's/^/#   stderr: /' >>"$R"
	fi
	echo "$ms $name" >"$R.ms"
}

if [ "${1:-}" = --one ]; then
	umask 077 # files are made private: no permission warnings unless asked
	run_case "$2"
	exit 0
fi

# ---- driver ----------------------------------------------------------------------
T=$(mktemp -d /tmp/dfbad.XXXXXX)
if [ -n "${BADINPUT_KEEP:-}" ]; then diag "cases kept in $T"; else trap 'rm -rf "$T"' EXIT INT TERM; fi
mkdir "$T/res" "$T/home"
HOME=$T/home
TMO=10
[ -z "$DF_WRAP" ] || TMO=60
: "${BADINPUT_JOBS:=$(($(nproc) * 2))}"
export T TOP B DF_WRAP TMO HOME
sed -e '/^#/d' -e '/^[[:space:]]*$/d' "$TOP/tests/badinput/cases.txt" |
	grep -E "^(${BADINPUT_ONLY:-.})" >"$T/cases.txt"
N=$(wc -l <"$T/cases.txt")
start=$(date +%s)
seq 1 "$N" | xargs -r -P "$BADINPUT_JOBS" -n 1 sh "$0" --one
i=1
while [ "$i" -le "$N" ]; do
	if [ ! -s "$T/res/$i" ]; then
		not_ok "case $i: no verdict"
	else
		read -r v <"$T/res/$i"
		case $v in
		"ok "*) ok "${v#ok }" ;;
		*) not_ok "${v#not ok }"; sed 1d "$T/res/$i" ;;
		esac
	fi
	i=$((i + 1))
done
diag "$N cases in $(($(date +%s) - start)) s; slowest:"
cat "$T"/res/*.ms 2>/dev/null | sort -rn | head -3 | sed 's/ / ms /; s/^/#   /'
tap_done
