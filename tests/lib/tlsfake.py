"""The serving half of the fake REST APIs in the tests (OVH, Cloudflare):
a threaded HTTPS server on 127.0.0.1 that writes its port to a file and
never outlives the test that started it.

    from tlsfake import TLSServer, serve
    srv = TLSServer(("127.0.0.1", args.port), Handler)
    srv.st = State(args)
    serve(srv, args)   # args: cert, key, port_file, watch_pid, max_seconds
"""
import os
import socket
import ssl
import threading
import time
from http.server import ThreadingHTTPServer


class TLSServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def connected(self):
        """Called once per TLS connection accepted (a fake may count)."""

    def finish_request(self, request, client_address):
        # TLS handshake in the connection's own thread, so a client that
        # refuses our certificate does not stall the others.
        try:
            # Headers and body go out in two writes: without this, Nagle
            # and delayed ACKs add 40 ms to every answer.
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            request = self.tls.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        self.connected()
        try:
            self.RequestHandlerClass(request, client_address, self)
        except (ssl.SSLError, OSError):
            pass
        finally:
            try:
                request.close()
            except OSError:
                pass


def watchdog(srv, args):
    """Never outlive the test that started us."""
    end = time.time() + args.max_seconds
    while time.time() < end:
        time.sleep(0.5)
        if args.watch_pid:
            try:
                os.kill(args.watch_pid, 0)
            except ProcessLookupError:
                break
    srv.shutdown()


def serve(srv, args):
    """Load the certificate, publish the port (atomically), serve."""
    srv.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    srv.tls.load_cert_chain(args.cert, args.key)
    with open(args.port_file + ".tmp", "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(args.port_file + ".tmp", args.port_file)
    threading.Thread(target=watchdog, args=(srv, args), daemon=True).start()
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
