#!/bin/sh
# The man pages (docs/man/*.scd, written in scdoc): `make man` builds
# them, scdoc and groff (through `man -l`) accept them without a word,
# and each renders the sections a reader looks for. The lists in them are
# compared with the code both ways, so neither can drift:
#  - dnsfollow(8): the options of the getopt table in core/, the exit
#    codes (EX_*, DF_EXIT_*) and the signals the daemon handles;
#  - dnsfollow.ini(5): the core key tables of core/config.c, per section
#    (a key added there without a description fails here);
#  - dnsfollow-plugin(7): the ops of include/dnsfollow/{provider,backend}.h,
#    create/destroy (abi.h) and the host table (host.h).
# Last, `make install-man` puts them where man(1) finds them.
. "$(dirname "$0")/../lib/tap.sh"

T=$(mktemp -d /tmp/dfman.XXXXXX)
trap 'rm -rf "$T"' EXIT
trap 'exit 1' INT TERM
M="$B/man"
PAGES="dnsfollow.8 dnsfollow.ini.5 dnsfollow-plugin.7"

if ! command -v scdoc >/dev/null 2>&1 || ! command -v man >/dev/null 2>&1; then
	not_ok "scdoc and man are installed (make deps installs scdoc and man-db)"
	tap_done
	exit 1
fi

make -s -C "$TOP" B="$B" man >"$T/make.out" 2>&1; rc=$?
check "make man builds the pages into \$B/man" [ "$rc" = 0 ]
[ "$rc" = 0 ] || sed 's/^/# /' "$T/make.out"
got=$(cd "$TOP/docs/man" && ls *.scd | sed 's/\.scd$//' | sort | tr '\n' ' ')
want=$(echo $PAGES | tr ' ' '\n' | sort | tr '\n' ' ')
check "docs/man holds the three pages ($got)" [ "$got" = "$want" ]

# ---- every page: scdoc and groff say nothing, the text is sound ----------
# render PAGE: $T/PAGE.txt, plain text 80 columns wide; groff's warnings
# (all of them) in $T/PAGE.err.
render() {
	MANWIDTH=80 MANPAGER=cat PAGER=cat man --warnings=all -E UTF-8 -l "$M/$1" \
		>"$T/$1.txt" 2>"$T/$1.err"
}
version=$(sed -n 's/^VERSION *:= *//p' "$TOP/Makefile")
# title_ok PAGE: the first line names NAME(SECTION), the last the version,
# and NAME says "NAME - what it is".
title_ok() {
	head -1 "$T/$1.txt" | grep -q "^${1%.*}(${1##*.}) " &&
		tail -1 "$T/$1.txt" | grep -q "^dnsfollow $version " &&
		sed -n '/^NAME$/{n;p;}' "$T/$1.txt" | grep -q "^       ${1%.*} - [a-z]"
}
for p in $PAGES; do
	sed "s/@VERSION@/$version/g" "$TOP/docs/man/$p.scd" | scdoc >/dev/null 2>"$T/$p.scdoc"; rc=$?
	check "$p: scdoc accepts it without a message" eval '[ "$rc" = 0 ] && [ ! -s "$T/$p.scdoc" ]'
	sed 's/^/# /' "$T/$p.scdoc"
	# scdoc leaves a *bold* or _underline_ still open at the end of the
	# file without a word: every roff line must close what it opens.
	open=$(awk '{o = gsub(/\\f[BI]/, "&"); c = gsub(/\\fR/, "&"); if (o != c) print NR}' \
		"$M/$p" 2>/dev/null | tr '\n' ' ')
	check "$p: no *bold* or _underline_ left open${open:+ (roff lines $open)}" \
		eval '[ -f "$M/$p" ] && [ -z "$open" ]'
	render "$p"; rc=$?
	check "$p: man -l renders it, groff warns of nothing" \
		eval '[ "$rc" = 0 ] && [ -s "$T/$p.txt" ] && [ ! -s "$T/$p.err" ]'
	head -5 "$T/$p.err" | sed 's/^/# /'
	check "$p: the title names ${p%.*}(${p##*.}) and dnsfollow $version; NAME says '${p%.*} - ...'" \
		title_ok "$p"
done

# sections PAGE: the section headings of a rendered page, one per line.
sections() { grep '^[A-Z[]' "$T/$1.txt"; }
# has_sections PAGE HEADING...: every HEADING is a section of PAGE.
has_sections() {
	_p=$1; shift
	_miss=""
	for _s in "$@"; do
		sections "$_p" | grep -qxF "$_s" || _miss="$_miss '$_s'"
	done
	[ -z "$_miss" ] || { diag "$_p: missing sections:$_miss"; return 1; }
}
# entries PAGE HEADING REGEX: the entry terms under section HEADING, that
# is the first match of REGEX (sed -E, one group) on a line indented by 7
# (man's left margin), sorted and unique.
entries() {
	awk -v h="$2" '/^[A-Z[]/ { on = ($0 == h) ; next } on' "$T/$1.txt" |
		sed -nE "s/^       $3.*/\\1/p" | sort -u
}
# same WHAT WANT GOT: ok when the two lists are equal; else says which
# terms are missing from the page and which the code does not know.
same() {
	_miss=$(printf '%s\n' "$2" | grep -vxF -e "$3" | tr '\n' ' ')
	_extra=$(printf '%s\n' "$3" | grep -vxF -e "$2" | tr '\n' ' ')
	[ -z "$3" ] && _miss=$(printf '%s\n' "$2" | tr '\n' ' ')
	[ -z "$2" ] && _extra=$(printf '%s\n' "$3" | tr '\n' ' ')
	[ -z "$_miss$_extra" ] && return 0
	[ -n "$_miss" ] && diag "$1: undocumented: $_miss"
	[ -n "$_extra" ] && diag "$1: documented, but not in the code: $_extra"
	return 1
}
# block FILE START: the lines from the one matching START to the next
# line that ends the C initialiser or struct ("};" or "*_END,").
block() {
	awk -v s="$2" 'index($0, s) == 1 { on = 1; next } on && /^[ \t]*};|_END,/ { exit } on' "$1"
}

# ---- dnsfollow(8) ---------------------------------------------------------
check "dnsfollow(8) has NAME, SYNOPSIS, DESCRIPTION, OPTIONS, SIGNALS, EXIT STATUS, FILES, SEE ALSO" \
	has_sections dnsfollow.8 NAME SYNOPSIS DESCRIPTION OPTIONS SIGNALS "EXIT STATUS" \
	FILES "SEE ALSO"
# The getopt_long table (wherever in core/ it lives): its long options,
# and the short ones of its option string.
CLI=$(grep -l 'getopt_long(' "$TOP"/core/*.c | head -1)
long=$(block "$CLI" "	static const struct option longs[] = {" |
	sed -nE 's/^[[:space:]]*\{"([a-z-]+)",.*/--\1/p' | sort -u)
short=$(sed -nE 's/.*getopt_long\(argc, argv, "([^"]*)".*/\1/p' "$CLI" | tr -d ':' |
	sed 's/./-&\n/g' | sed '/^$/d' | sort -u)
check "${CLI#$TOP/}: found its long options ($(echo $long)) and short ones ($(echo $short))" \
	eval '[ "$(echo "$long" | wc -l)" -ge 6 ] && [ -n "$short" ]'
got=$( (entries dnsfollow.8 OPTIONS '(--?[a-z-]+).*'
	entries dnsfollow.8 OPTIONS '-[a-z], (--[a-z-]+).*') | sort -u)
check "dnsfollow(8) OPTIONS describes exactly the options of ${CLI#$TOP/}" \
	same "dnsfollow(8) OPTIONS" "$(printf '%s\n%s\n' "$long" "$short" | sort -u)" "$got"
# Exit codes: EX_* and DF_EXIT_* of core/.
codes=$(cat "$TOP"/core/*.[ch] | sed -nE 's/^#define (EX|DF_EXIT)_[A-Z_]+ ([0-9]+)( .*)?$/\2/p' | sort -un)
check "the exit codes of core/ found ($(echo $codes))" \
	eval '[ "$(echo "$codes" | wc -l)" -ge 5 ]'
check "dnsfollow(8) EXIT STATUS lists exactly those codes" \
	same "dnsfollow(8) EXIT STATUS" "$codes" "$(entries dnsfollow.8 "EXIT STATUS" '([0-9]+)$' | sort -n)"
check "dnsfollow(8) SIGNALS: the signals the daemon handles (sigaddset in core/)" \
	same "dnsfollow(8) SIGNALS" \
	"$(cat "$TOP"/core/*.c | sed -nE 's/.*sigaddset\([a-z]+, (SIG[A-Z0-9]+)\);.*/\1/p' | sort -u)" \
	"$( (entries dnsfollow.8 SIGNALS '(SIG[A-Z0-9]+).*'
	entries dnsfollow.8 SIGNALS 'SIG[A-Z0-9]+, (SIG[A-Z0-9]+).*') | sort -u)"

# ---- dnsfollow.ini(5): the key tables of core/config.c --------------------
# table_keys FILE TABLE: the key names of `[static] const struct
# dnsfollow_key TABLE[]` (the first string of each entry).
table_keys() {
	{ block "$1" "static const struct dnsfollow_key $2[] = {"
	  block "$1" "const struct dnsfollow_key $2[] = {"; } |
		sed -nE 's/^[^"]*"([a-z_]+)".*/\1/p' | sort -u
}
# check_keys CONFIG_C: compares each table with its section of the page.
check_keys() {
	_rc=0
	for _t in "core_keys:THE [dnsfollow] SECTION" \
		"backend_keys:[backend INSTANCE] SECTIONS" \
		"provider_keys:[provider INSTANCE] SECTIONS" \
		"df_cfg_record_keys:[record FQDN] SECTIONS"; do
		_keys=$(table_keys "$1" "${_t%%:*}")
		if [ "$(echo "$_keys" | wc -w)" -lt 3 ]; then
			diag "${_t%%:*}: no table found in $1"
			_rc=1
			continue
		fi
		same "dnsfollow.ini(5) ${_t#*:} vs ${_t%%:*}" "$_keys" \
			"$(entries dnsfollow.ini.5 "${_t#*:}" '([a-z_]+) = .*')" || _rc=1
	done
	return $_rc
}
check "dnsfollow.ini(5) has a section per kind of INI section, ORPHANS, OWNERSHIP, EXAMPLES" \
	has_sections dnsfollow.ini.5 NAME SYNOPSIS DESCRIPTION "THE [dnsfollow] SECTION" \
	"[backend INSTANCE] SECTIONS" "[provider INSTANCE] SECTIONS" "[record FQDN] SECTIONS" \
	ORPHANS OWNERSHIP EXAMPLES "SEE ALSO"
n=$(for t in core_keys backend_keys provider_keys record_keys; do
	table_keys "$TOP/core/config.c" $t; done | wc -l)
check "dnsfollow.ini(5) describes exactly the $n core keys of core/config.c, each in its section" \
	check_keys "$TOP/core/config.c"
# The comparison itself must catch a key added to a table without a word
# in the page: one more key in a copy of config.c.
sed '/^static const struct dnsfollow_key backend_keys\[\] = {$/a\
	DNSFOLLOW_KEY_BOOL("zz_new_key", "no", NULL),' "$TOP/core/config.c" >"$T/config.c"
check_keys "$T/config.c" >"$T/new.out" 2>&1; rc=$?
check "a key added to core/config.c without documentation fails the comparison" \
	eval '[ "$rc" != 0 ] && grep -q "backend_keys: undocumented: zz_new_key" "$T/new.out"'
# has_keys KEY...: each KEY has an entry in dnsfollow.ini(5).
has_keys() {
	for _k in "$@"; do
		grep -q "^       $_k = " "$T/dnsfollow.ini.5.txt" || { diag "no entry for $_k"; return 1; }
	done
}
check "the lifecycle keys are there: discover, discover_provider, discover_names, policy, orphan_grace" \
	has_keys discover discover_provider discover_names policy orphan_grace

# ---- dnsfollow-plugin(7): the ABI's ops and the host table -----------------
# members FILE STRUCT: the function-pointer members of `struct STRUCT {`.
members() {
	block "$1" "struct $2 {" | grep '^	[a-z]' | grep -o '(\*[a-z_]*)' | tr -d '(*)' | sort -u
}
check "dnsfollow-plugin(7) has LOADING, THE DESCRIPTOR, PROVIDER OPS, BACKEND OPS, THE HOST TABLE, ERRORS" \
	has_sections dnsfollow-plugin.7 NAME SYNOPSIS DESCRIPTION LOADING "THE DESCRIPTOR" \
	"CONFIGURATION KEYS" "PROVIDER OPS" "BACKEND OPS" "THE HOST TABLE" ERRORS "SEE ALSO"
H="$TOP/include/dnsfollow"
# ops_same HEADER STRUCT HEADING: the functions of the struct are the
# entries "NAME(...)" under HEADING, both ways.
ops_same() {
	_ops=$(members "$H/$1" "$2")
	[ "$(echo "$_ops" | wc -w)" -ge 2 ] || { diag "struct $2 not found in $1"; return 1; }
	same "dnsfollow-plugin(7) $3" "$_ops" "$(entries dnsfollow-plugin.7 "$3" '([a-z_]+)\(.*')"
}
for t in "abi.h:dnsfollow_plugin:THE DESCRIPTOR" \
	"provider.h:dnsfollow_provider_ops:PROVIDER OPS" \
	"backend.h:dnsfollow_backend_ops:BACKEND OPS" \
	"host.h:dnsfollow_host:THE HOST TABLE"; do
	f=${t%%:*}; rest=${t#*:}; st=${rest%%:*}; sec=${rest#*:}
	check "dnsfollow-plugin(7) $sec describes exactly the $(members "$H/$f" "$st" | wc -l) functions of struct $st ($f)" \
		ops_same "$f" "$st" "$sec"
done

# ---- make install-man -----------------------------------------------------
D="$T/stage"
make -s -C "$TOP" B="$B" DESTDIR="$D" PREFIX=/opt/df install-man >"$T/inst.out" 2>&1; rc=$?
check "make install-man DESTDIR=... PREFIX=/opt/df succeeds" [ "$rc" = 0 ]
[ "$rc" = 0 ] || sed 's/^/# /' "$T/inst.out"
for p in $PAGES; do
	f="$D/opt/df/share/man/man${p##*.}/$p"
	check "$p installed as share/man/man${p##*.}/$p, where man finds it" \
		eval 'cmp -s "$f" "$M/$p" &&
		[ "$(man -M "$D/opt/df/share/man" -w "${p##*.}" "${p%.*}" 2>/dev/null)" = "$f" ]'
done
tap_done
