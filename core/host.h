/* Host tables handed to plugin instances (see dnsfollow/host.h). */
#ifndef DF_HOST_H
#define DF_HOST_H

#include <pthread.h>

#include <dnsfollow/host.h>

/** One instance's host table plus the state the core reads back. */
struct df_host {
	struct dnsfollow_host pub; /* first: plugins get &pub */
	char *who;                 /* "provider ovh", shown in logs */
	pthread_mutex_t mu;
	char err[1024];            /* text of the last host->error() */
	int err_rc;
	unsigned retry_after_ms;
};

struct df_host *df_host_new(const char *kind, const char *instance);
void df_host_free(struct df_host *h);

/** Forget the error state before an op. */
void df_host_reset(struct df_host *h);
/** Copy out the error text set during the last op ("" if none). */
void df_host_error_text(struct df_host *h, char *buf, size_t len);
unsigned df_host_take_retry_after(struct df_host *h);

/** Wall clock used by the core and handed to plugins; tests may shift it
 *  with DNSFOLLOW_TIME_OFFSET (seconds). */
int64_t df_wall_time(void);

/** The daemon is stopping (SIGTERM): no new write starts, waits end. Any
 *  thread may ask. */
void df_stop_request(void);
int df_stopping(void);
/** A dry run: plugins are told through host->dry_run(). */
void df_set_dry_run(int on);
uint64_t df_now_ms(void);

#endif
