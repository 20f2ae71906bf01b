/*
 * Token bucket shared by an instance's threads. OVH publishes no limits
 * and advises about 60 requests a minute per consumer key, so the client
 * paces itself instead of waiting to be refused.
 *
 * Callers reserve a token and are told how long to wait for it; the token
 * count may go negative, which queues concurrent callers one interval
 * apart instead of letting them race for the next token.
 */
#include "ovh.h"


void ovh_bucket_init(struct ovh_bucket *b, double rate, double burst,
		     uint64_t now_ms)
{
	pthread_mutex_init(&b->mu, NULL);
	b->rate = rate > 0 ? rate : 0;
	b->burst = burst >= 1 ? burst : 1;
	b->tokens = b->burst;
	b->last_ms = now_ms;
}

void ovh_bucket_destroy(struct ovh_bucket *b)
{
	pthread_mutex_destroy(&b->mu);
}

unsigned ovh_bucket_take(struct ovh_bucket *b, uint64_t now_ms)
{
	if (b->rate <= 0)
		return 0;
	pthread_mutex_lock(&b->mu);
	if (now_ms > b->last_ms) {
		b->tokens += (double)(now_ms - b->last_ms) * b->rate / 1000.0;
		if (b->tokens > b->burst)
			b->tokens = b->burst;
		b->last_ms = now_ms;
	}
	b->tokens -= 1.0;
	double wait = b->tokens < 0 ? -b->tokens * 1000.0 / b->rate : 0;
	pthread_mutex_unlock(&b->mu);
	unsigned ms = (unsigned)wait;
	return (double)ms < wait ? ms + 1 : ms; /* round up */
}
