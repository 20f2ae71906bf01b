# The end-to-end scenario run against each real server (sourced by
# t_named.sh and t_knot.sh after the server is up). Needs: $PORT, $KEYFILE,
# zones example.test, example.net and fooexample.test on the server.
#   r2136_scenario           the whole run, TAP lines on stdout

# Config with the records of this scenario; extra provider lines as args.
sc_conf() {
	C=$W/df.ini
	r2136_conf "$C" "$PORT" "$KEYFILE" "example.test, example.net, fooexample.test" "$@"
	r2136_record "$C" git.example.test gogs "type = A, AAAA" "ttl = 60"
}

sc_once() { # run one pass; sets RC
	df -c "$C" --once
	RC=$?
}

# Records nobody asked dnsfollow to manage, as they are at the start.
sc_foreign() {
	for n in www.example.test/A ns1.example.test/A mail.example.test/TXT www.example.net/A www.fooexample.test/A; do
		printf '%s=%s;' "$n" "$(r2136_dig "$PORT" "${n%/*}" "${n#*/}")"
	done
}

sc_first_sync() {
	r2136_place gogs "192.0.2.10"
	sc_conf
	s0=$(r2136_serial "$PORT" example.test)
	sc_once
	check "first sync exits 0 (rc=$RC)" [ "$RC" = 0 ]
	check "first sync: git A is 192.0.2.10" [ "$(r2136_dig "$PORT" git.example.test A)" = "192.0.2.10" ]
	check "first sync: ownership TXT written" \
		[ "$(r2136_dig "$PORT" _dnsfollow.git.example.test TXT)" = '"heritage=dnsfollow,owner=test-owner"' ]
	s1=$(r2136_serial "$PORT" example.test)
	check "first sync: one UPDATE (serial $s0 -> $s1)" [ "$s1" = $((s0 + 1)) ]
	check "first sync: the log says 1 UPDATE message" grep -q "applied in 1 UPDATE message" "$DF_ERR"
}

sc_in_sync() {
	s1=$(r2136_serial "$PORT" example.test)
	sc_once
	check "in sync: exit 0 (rc=$RC)" [ "$RC" = 0 ]
	check "in sync: serial does not move" [ "$(r2136_serial "$PORT" example.test)" = "$s1" ]
	check "in sync: no UPDATE sent" sh -c "! grep -q 'UPDATE message' '$DF_ERR'"
}

sc_changes() {
	r2136_place gogs "192.0.2.11"
	sc_once
	check "placement change applied (rc=$RC)" [ "$(r2136_dig "$PORT" git.example.test A)" = "192.0.2.11" ]
	r2136_place gogs "192.0.2.11, 192.0.2.12"
	sc_once
	check "two addresses" [ "$(r2136_dig "$PORT" git.example.test A)" = "192.0.2.11 192.0.2.12" ]
	s=$(r2136_serial "$PORT" example.test)
	r2136_place gogs "192.0.2.20, 2001:db8::20"
	sc_once
	check "A and AAAA: A" [ "$(r2136_dig "$PORT" git.example.test A)" = "192.0.2.20" ]
	check "A and AAAA: AAAA" [ "$(r2136_dig "$PORT" git.example.test AAAA)" = "2001:db8::20" ]
	check "A and AAAA changed in one UPDATE" [ "$(r2136_serial "$PORT" example.test)" = $((s + 1)) ]
	# 40 addresses: the UPDATE (> 512 bytes) goes over TCP, and the answer
	# to the next read is truncated over UDP and asked again over TCP.
	many=$(awk 'BEGIN { for (i = 1; i <= 40; i++) printf "%s192.0.2.%d", (i > 1 ? ", " : ""), 100 + i }')
	r2136_place gogs "$many"
	sc_once
	check "40 addresses written (rc=$RC)" \
		[ "$(dig +tcp @127.0.0.1 -p "$PORT" git.example.test A +short | wc -l)" = 40 ]
	s=$(r2136_serial "$PORT" example.test)
	sc_once
	check "40 addresses read back through TCP: in sync (rc=$RC)" \
		[ "$RC" = 0 -a "$(r2136_serial "$PORT" example.test)" = "$s" ]
	r2136_place gogs "192.0.2.20, 2001:db8::20"
	sc_once
	check "back to one address each" [ "$(r2136_dig "$PORT" git.example.test A)" = "192.0.2.20" ]
}

sc_adopt() {
	sc_conf
	r2136_record "$C" foreign.example.test gogs "type = A"
	sc_once
	check "foreign record not adopted: permanent failure (rc=$RC)" [ "$RC" = 1 ]
	check "the error names adopt = yes" grep -q "adopt" "$DF_ERR"
	check "foreign record unchanged" [ "$(r2136_dig "$PORT" foreign.example.test A)" = "198.51.100.8" ]
	sc_conf
	r2136_record "$C" foreign.example.test gogs "type = A" "adopt = yes"
	sc_once
	check "adopt = yes takes it over (rc=$RC)" [ "$(r2136_dig "$PORT" foreign.example.test A)" = "192.0.2.20" ]
	check "adopted record gets its marker" \
		[ -n "$(r2136_dig "$PORT" _dnsfollow.foreign.example.test TXT)" ]
}

sc_on_empty() {
	r2136_place idle "192.0.2.40"
	sc_conf
	r2136_record "$C" idle.example.test idle "type = A"
	sc_once
	check "on_empty: record created" [ "$(r2136_dig "$PORT" idle.example.test A)" = "192.0.2.40" ]
	r2136_place idle ""
	sc_once
	check "on_empty = keep (default) keeps the value" [ "$(r2136_dig "$PORT" idle.example.test A)" = "192.0.2.40" ]
	sc_conf
	r2136_record "$C" idle.example.test idle "type = A" "on_empty = delete"
	sc_once
	check "on_empty = delete removes the record (rc=$RC)" [ -z "$(r2136_dig "$PORT" idle.example.test A)" ]
}

sc_multi_zone() {
	r2136_place web "192.0.2.50"
	sc_conf
	r2136_record "$C" api.fooexample.test web "type = A"
	r2136_record "$C" example.net web "type = A"
	a=$(r2136_serial "$PORT" example.test)
	b=$(r2136_serial "$PORT" fooexample.test)
	c=$(r2136_serial "$PORT" example.net)
	sc_once
	check "multi-zone pass exits 0 (rc=$RC)" [ "$RC" = 0 ]
	check "api.fooexample.test lands in fooexample.test" \
		[ "$(r2136_dig "$PORT" api.fooexample.test A)" = "192.0.2.50" ]
	check "zone apex example.net set" [ "$(r2136_dig "$PORT" example.net A)" = "192.0.2.50" ]
	check "fooexample.test: one UPDATE" [ "$(r2136_serial "$PORT" fooexample.test)" = $((b + 1)) ]
	check "example.net: one UPDATE" [ "$(r2136_serial "$PORT" example.net)" = $((c + 1)) ]
	check "example.test untouched by them" [ "$(r2136_serial "$PORT" example.test)" = "$a" ]
}

sc_axfr_tcp() {
	sc_conf "read = axfr"
	s=$(r2136_serial "$PORT" example.test)
	sc_once
	check "read = axfr: in sync, exit 0 (rc=$RC)" [ "$RC" = 0 ]
	check "read = axfr: no UPDATE when in sync" [ "$(r2136_serial "$PORT" example.test)" = "$s" ]
	r2136_place gogs "192.0.2.21"
	sc_once
	check "read = axfr: change applied" [ "$(r2136_dig "$PORT" git.example.test A)" = "192.0.2.21" ]
	n=$(sed -n 's/.*zone example.test: transfer of \([0-9]*\) records in \([0-9]*\) message.*/\2/p' "$DF_ERR")
	check "read = axfr: a multi-message transfer, TSIG verified on each (${n:-no} messages)" \
		[ "${n:-0}" -gt 1 ]
	sc_conf "transport = tcp"
	r2136_place gogs "192.0.2.22"
	sc_once
	check "transport = tcp: change applied (rc=$RC)" [ "$(r2136_dig "$PORT" git.example.test A)" = "192.0.2.22" ]
}

# type = CNAME end to end (ABI 2): the static backend's `hostname` is the
# target; the record and its marker go in one UPDATE, the next pass is in
# sync (read back as a name), a moved node changes the target, and a
# switch from A to CNAME at the same name replaces the A.
sc_cname() {
	r2136_place_host www2 "192.0.2.60" node-1.hosts.example.net
	sc_conf
	r2136_record "$C" alias.example.test www2 "type = CNAME"
	s=$(r2136_serial "$PORT" example.test)
	sc_once
	check "CNAME: pass exits 0 (rc=$RC)" [ "$RC" = 0 ]
	[ "$RC" = 0 ] || sed 's/^/# /' "$DF_ERR" | grep -i -e error -e cname | tail -5
	check "CNAME: alias.example.test points at the node's name" \
		[ "$(r2136_dig "$PORT" alias.example.test CNAME)" = node-1.hosts.example.net. ]
	check "CNAME: its marker is written" \
		[ -n "$(r2136_dig "$PORT" _dnsfollow.alias.example.test TXT)" ]
	check "CNAME: one UPDATE" [ "$(r2136_serial "$PORT" example.test)" = $((s + 1)) ]
	s=$(r2136_serial "$PORT" example.test)
	sc_once
	check "CNAME: read back in sync, no UPDATE (rc=$RC)" \
		[ "$RC" = 0 -a "$(r2136_serial "$PORT" example.test)" = "$s" ]
	r2136_place_host www2 "192.0.2.60" node-2.hosts.example.net
	sc_once
	check "CNAME: the node moved (rc=$RC)" \
		[ "$(r2136_dig "$PORT" alias.example.test CNAME)" = node-2.hosts.example.net. ]
	# git.example.test holds A and AAAA from the scenario: now a CNAME.
	# The core counts an A its record no longer lists as not ours (even
	# under our marker) and wants adopt = yes to replace it.
	sc_conf
	sed -i '/^\[record git.example.test\]/,/^$/ s/^type = .*/type = CNAME\nadopt = yes/' "$C"
	r2136_place_host gogs "192.0.2.20" node-3.hosts.example.net
	sc_once
	check "A+AAAA → CNAME at one name (rc=$RC)" \
		[ "$(r2136_dig "$PORT" git.example.test CNAME)" = node-3.hosts.example.net. ]
	[ "$RC" = 0 ] || grep -e ' error ' -e ' warn' "$DF_ERR" | tail -3 | sed 's/^/# /'
	check "... the A and AAAA are gone" sh -c "! dig +short +norec @127.0.0.1 -p $PORT \
		git.example.test A git.example.test AAAA | grep -qv '\\.\$'"
	# and back (adopt = yes again), as the rest of the scenario expects
	r2136_place gogs "192.0.2.20, 2001:db8::20"
	sc_conf
	sed -i '/^\[record git.example.test\]/,/^$/ s/^ttl = .*/&\nadopt = yes/' "$C"
	sc_once
	check "CNAME → A+AAAA (rc=$RC)" [ "$(r2136_dig "$PORT" git.example.test A)" = 192.0.2.20 -a \
		-z "$(r2136_dig "$PORT" git.example.test CNAME)" ]
	[ "$RC" = 0 ] || grep -e ' error ' "$DF_ERR" | tail -3 | sed 's/^/# /'
}

# 3000 more records per zone: an AXFR then spans several messages.
r2136_bigzone() {
	awk 'BEGIN { for (i = 0; i < 3000; i++)
		printf "h%d IN A 10.%d.%d.1\n", i, int(i / 256), i % 256 }' >"$W/extra"
	R2136_ZONE_EXTRA=$W/extra
}

# The zone cache, in a daemon (a --once process starts with none): an
# unchanged serial answers from the cache with one SOA query; our own
# UPDATE keeps it (the serial moved by exactly one); someone else's
# change moves the serial, so the next pass reads in full and repairs.
# The key as nsupdate -y takes it (ALG:NAME:SECRET), from either format.
sc_nsupdate_key() {
	awk '/^key / { gsub(/[";{]/, "", $2); n = $2 }
	     /algorithm/ { gsub(/[";]/, ""); a = $NF }
	     /secret/ { gsub(/[";]/, ""); s = $NF }
	     /^ *- id:/ { n = $NF } /^ *algorithm:/ { a = $NF } /^ *secret:/ { s = $NF }
	     END { print a ":" n ":" s }' "$KEYFILE"
}

sc_cache() {
	r2136_place gogs "192.0.2.30"
	sc_conf
	sed -i 's/^interval = 1$/interval = 3600/' "$C"
	$DF_WRAP "$DNSFOLLOW" -c "$C" 2>"$W/cache.err" &
	cpid=$!
	git_is() { [ "$(r2136_dig "$PORT" git.example.test A)" = "$1" ]; }
	check "cache: daemon's first pass writes" wait_for 20 git_is 192.0.2.30
	hits() { grep -c "unchanged: .* from the cache" "$W/cache.err"; }
	h0=$(hits)
	kill -USR1 $cpid
	check "cache: a resync of an unchanged zone answers from the cache" \
		wait_for 10 sh -c "[ \$(grep -c 'unchanged: .* from the cache' '$W/cache.err') -gt $h0 ]"
	# Someone else changes our record: the serial moves, a full read
	# follows, and the record is put back.
	printf 'server 127.0.0.1 %s\nzone example.test\nupdate delete git.example.test A\nupdate add git.example.test 60 A 203.0.113.66\nsend\n' \
		"$PORT" | nsupdate -y "$(sc_nsupdate_key)"
	check "cache: the foreign change is in the zone" \
		[ "$(r2136_dig "$PORT" git.example.test A)" = 203.0.113.66 ]
	h1=$(hits)
	kill -USR1 $cpid
	check "cache: a changed serial means a full read, which repairs the record" \
		wait_for 10 git_is 192.0.2.30
	check "... without answering from the cache" [ "$(hits)" = "$h1" ]
	# After our own UPDATE (serial + 1) the next pass uses the cache again.
	kill -USR1 $cpid
	check "cache: after our own UPDATE the cache holds" \
		wait_for 10 sh -c "[ \$(grep -c 'unchanged: .* from the cache' '$W/cache.err') -gt $h1 ]"
	kill $cpid; wait $cpid
	check "cache: daemon stops cleanly ($?)" [ $? = 0 ]
	# full_read_interval = 0: every pass reads in full.
	sc_conf "full_read_interval = 0"
	sc_once
	sc_once
	check "full_read_interval = 0: no cache (rc=$RC)" eval '[ "$RC" = 0 ] &&
		! grep -q "from the cache" "$DF_ERR"'
}

r2136_scenario() {
	before=$(sc_foreign)
	sc_first_sync
	sc_in_sync
	sc_changes
	sc_in_sync
	sc_adopt
	sc_on_empty
	sc_multi_zone
	sc_axfr_tcp
	sc_cname
	sc_cache
	after=$(sc_foreign)
	check "foreign records untouched" [ "$after" = "$before" ]
	[ "$after" = "$before" ] || diag "before: $before / after: $after"
}
