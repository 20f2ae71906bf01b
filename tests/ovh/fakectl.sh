#!/bin/sh
# Start and stop the fake OVH API for tests (and the benchmark).
#   fakectl.sh start DIR [fake_ovh.py options]  -> prints the port
#   fakectl.sh stop DIR
# DIR receives ca.pem (the test CA), srv.pem/srv.key (its server
# certificate for 127.0.0.1), rogue-ca.pem (an unrelated CA), port, pid and
# fake.log. Credentials of the fake account: AK/AS/CK below.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
OVH_AK=fakeAppKey0000001
OVH_AS=fakeAppSecret00000000000000000001
OVH_CK=fakeConsumerKey0000000000000001

certs() { # DIR
	d=$1
	[ -s "$d/srv.pem" ] && return 0
	(
		cd "$d"
		for ca in ca rogue-ca; do
			openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
				-nodes -keyout "$ca.key" -out "$ca.pem" -days 2 \
				-subj "/CN=dnsfollow test $ca" >/dev/null 2>&1
		done
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
			-keyout srv.key -out srv.csr -subj /CN=127.0.0.1 >/dev/null 2>&1
		printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n' >srv.ext
		openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
			-out srv.pem -days 2 -extfile srv.ext >/dev/null 2>&1
		# The same server name, signed by the rogue CA.
		openssl x509 -req -in srv.csr -CA rogue-ca.pem -CAkey rogue-ca.key \
			-CAcreateserial -out rogue-srv.pem -days 2 -extfile srv.ext >/dev/null 2>&1
	)
}

case "${1:-}" in
start)
	d=$2; shift 2
	mkdir -p "$d"
	certs "$d"
	rm -f "$d/port"
	cert=srv.pem
	if [ "${1:-}" = --rogue ]; then cert=rogue-srv.pem; shift; fi
	python3 "$HERE/fake_ovh.py" --cert "$d/$cert" --key "$d/srv.key" \
		--port-file "$d/port" --app-key "$OVH_AK" --app-secret "$OVH_AS" \
		--consumer-key "$OVH_CK" --watch-pid "${FAKE_WATCH_PID:-$PPID}" \
		"$@" >"$d/fake.log" 2>&1 &
	echo $! >"$d/pid"
	i=0
	while [ ! -s "$d/port" ]; do
		i=$((i + 1))
		if [ $i -gt 100 ] || ! kill -0 "$(cat "$d/pid")" 2>/dev/null; then
			echo "fake OVH server did not start:" >&2
			cat "$d/fake.log" >&2
			exit 1
		fi
		sleep 0.1
	done
	cat "$d/port"
	;;
stop)
	d=$2
	if [ -s "$d/pid" ]; then
		pid=$(cat "$d/pid")
		kill "$pid" 2>/dev/null || true
		i=0
		while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do
			sleep 0.1; i=$((i + 1))
		done
		kill -9 "$pid" 2>/dev/null || true
		rm -f "$d/pid"
	fi
	;;
creds)
	echo "$OVH_AK $OVH_AS $OVH_CK"
	;;
*)
	echo "usage: fakectl.sh start DIR [options] | stop DIR | creds" >&2
	exit 64
	;;
esac
