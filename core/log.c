#include "log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int log_level = DNSFOLLOW_LOG_INFO;
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static char **secrets;
static size_t nsecrets;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void df_log_set_level(int level)
{
	__atomic_store_n(&log_level, level, __ATOMIC_RELAXED);
}
int df_log_level(void) { return __atomic_load_n(&log_level, __ATOMIC_RELAXED); }

int df_log_parse_level(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(s, level_names[i]) == 0)
			return i;
	return -1;
}

int df_log_add_secret(const char *secret)
{
	if (!secret || !*secret)
		return 0;
	if (strlen(secret) < DF_MIN_SECRET)
		return -1;
	pthread_mutex_lock(&log_mu);
	for (size_t i = 0; i < nsecrets; i++)
		if (strcmp(secrets[i], secret) == 0) {
			pthread_mutex_unlock(&log_mu);
			return 0;
		}
	char **n = realloc(secrets, (nsecrets + 1) * sizeof *n);
	char *copy = strdup(secret);
	if (n && copy) {
		secrets = n;
		secrets[nsecrets++] = copy;
	} else {
		if (n)
			secrets = n;
		free(copy);
	}
	pthread_mutex_unlock(&log_mu);
	return 0;
}

void df_log_clear_secrets(void)
{
	pthread_mutex_lock(&log_mu);
	for (size_t i = 0; i < nsecrets; i++)
		free(secrets[i]);
	free(secrets);
	secrets = NULL;
	nsecrets = 0;
	pthread_mutex_unlock(&log_mu);
}

/* Caller holds log_mu. */
static void redact_locked(char *buf)
{
	static const char mask[] = "***";
	for (size_t i = 0; i < nsecrets; i++) {
		size_t sl = strlen(secrets[i]);
		char *p;
		/* sl >= DF_MIN_SECRET > 3: the text only shrinks. */
		while ((p = strstr(buf, secrets[i])) != NULL) {
			size_t tail = strlen(p + sl) + 1;
			memmove(p + 3, p + sl, tail);
			memcpy(p, mask, 3);
		}
	}
}

void df_redact(char *buf, size_t cap)
{
	pthread_mutex_lock(&log_mu);
	(void)cap;
	redact_locked(buf);
	pthread_mutex_unlock(&log_mu);
}

void df_vlog(int level, const char *who, const char *fmt, va_list ap)
{
	if (level > df_log_level())
		return;
	if (level < 0)
		level = 0;
	if (level > 3)
		level = 3;
	char msg[2048];
	vsnprintf(msg, sizeof msg, fmt, ap);
	for (char *p = msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';

	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	char stamp[32];
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);

	pthread_mutex_lock(&log_mu);
	redact_locked(msg);
	fprintf(stderr, "%s.%03ldZ %-5s %s%s%s\n", stamp, ts.tv_nsec / 1000000,
		level_names[level], who ? who : "", who ? ": " : "", msg);
	pthread_mutex_unlock(&log_mu);
}

void df_log(int level, const char *who, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	df_vlog(level, who, fmt, ap);
	va_end(ap);
}
