/*
 * The metrics and health endpoint (libmicrohttpd), on when `listen =
 * ADDR:PORT` is set: /metrics (Prometheus text format), /healthz (the
 * main loop is alive), /readyz (config loaded, first pass done).
 */
#ifndef DF_HTTPD_H
#define DF_HTTPD_H

#include <stddef.h>
#include <sys/socket.h>

/** Parse "ADDR:PORT", "[V6]:PORT" or ":PORT" (every address). 0, or -1
 *  with one line in err. */
int df_listen_parse(const char *text, struct sockaddr_storage *sa, socklen_t *len,
		    char *err, size_t errlen);

/** Start serving on `listen`: 0, or -1 with one line in err. */
int df_httpd_start(const char *listen, char *err, size_t errlen);
void df_httpd_stop(void);

/** The main loop is alive (called every loop, at least every few s). */
void df_health_beat(void);
/** Ready (first pass done) or not (a reload in progress does not
 *  unready). */
void df_health_ready(int ready);

/** --healthcheck: ask a running daemon's /healthz at `listen` (the
 *  unspecified address means this host). 0 when healthy, else 1 after
 *  one line on stderr. */
int df_healthcheck(const char *listen);

/** How stale the heartbeat may be before /healthz fails, in ms. */
#define DF_HEALTH_STALE_MS 30000u

#endif
