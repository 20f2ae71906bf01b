#!/bin/sh
# Start and stop the fake Cloudflare API (fake_cf.py) for tests and the
# benchmark.
#   fakectl.sh start DIR PORT [fake_cf.py options]  -> prints the port
#   fakectl.sh stop DIR
#   fakectl.sh token                                -> the fake account's token
# DIR receives ca.pem (a throwaway CA made here), srv.pem/srv.key (its
# certificate for 127.0.0.1), port, pid and fake.log. PORT is one of the
# loopback ports given to the Cloudflare tests (15421-15429).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
CF_TOKEN=fakeCloudflareToken000000000000000000001

certs() { # DIR
	d=$1
	[ -s "$d/srv.pem" ] && return 0
	(
		cd "$d"
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
			-nodes -keyout ca.key -out ca.pem -days 2 \
			-subj "/CN=dnsfollow cloudflare test CA" >/dev/null 2>&1
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
			-keyout srv.key -out srv.csr -subj /CN=127.0.0.1 >/dev/null 2>&1
		printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n' >srv.ext
		openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
			-out srv.pem -days 2 -extfile srv.ext >/dev/null 2>&1
	)
}

case "${1:-}" in
start)
	d=$2 port=$3; shift 3
	mkdir -p "$d"
	certs "$d"
	rm -f "$d/port"
	python3 "$HERE/fake_cf.py" --cert "$d/srv.pem" --key "$d/srv.key" --port "$port" \
		--port-file "$d/port" --token "$CF_TOKEN" \
		--watch-pid "${FAKE_WATCH_PID:-$PPID}" "$@" >"$d/fake.log" 2>&1 &
	echo $! >"$d/pid"
	i=0
	while [ ! -s "$d/port" ]; do
		i=$((i + 1))
		if [ $i -gt 100 ] || ! kill -0 "$(cat "$d/pid")" 2>/dev/null; then
			echo "fake Cloudflare API did not start:" >&2
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
token)
	echo "$CF_TOKEN"
	;;
*)
	echo "usage: fakectl.sh start DIR PORT [options] | stop DIR | token" >&2
	exit 64
	;;
esac
