/* The rfc2136 provider: what its files share. */
#ifndef R2136_H
#define R2136_H

#include <dnsfollow/plugin.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "tsig.h"
#include "wire.h"

#define R2136_MAX_SERVERS 8
#define R2136_UDP_MAX 512 /* no EDNS: larger messages go over TCP */

struct r2136_server {
	struct sockaddr_storage addr;
	socklen_t alen;
	char text[96]; /* as configured, for messages */
};

/** Counters for the benchmark and debug logs. */
struct r2136_zcache;

struct r2136_stats {
	uint64_t queries, transfers, updates, messages, bytes_out, bytes_in;
};

/** `read`: the index of its value in plugin.c's read_modes. */
enum { R2136_READ_QUERY, R2136_READ_AXFR, R2136_READ_AUTO };

/** What full reads learnt about a zone's transfers (xfrread.c), kept
 *  for the life of the instance. */
struct r2136_zx {
	char *zone;
	int refused;    /* a transfer failed where queries worked: queries */
	size_t records; /* records the zone held at its last transfer (at
			   least: a transfer cut short counts those seen) */
};

struct r2136 {
	const struct dnsfollow_host *host;
	struct r2136_server servers[R2136_MAX_SERVERS];
	size_t nservers;
	struct r2136_key key;
	int have_key;   /* 0: unsigned requests (warned about at create) */
	int tcp_only;   /* transport = tcp */
	int timeout_ms; /* for one answer */
	int read_mode;  /* R2136_READ_*; 0 (query) in a zeroed struct */
	struct r2136_stats stats;
	uint64_t full_read_ms; /* full_read_interval; 0: no zone cache */
	const struct r2136_server *read_server; /* answered the last full read */
	const struct r2136_server *update_server; /* took every message of the
						     last apply(), or NULL */
	struct r2136_zcache *zc; /* per zone (zcache.c) */
	size_t nzc;
	struct r2136_zx *zx; /* per zone (xfrread.c) */
	size_t nzx;
};

/** A response as received, decoded and checked against its request. */
struct r2136_reply {
	uint8_t *raw;
	size_t len;
	struct r2136_msg msg;
	int tsig_error;        /* TSIG error the server reported, or 0 */
	int unsigned_answer;   /* taken without a verified TSIG (an error
				  answer to a signed request) */
	uint64_t server_time;  /* from BADTIME */
	const struct r2136_server *server;
};

void r2136_reply_free(struct r2136_reply *r);

/* config.c / keyfile.c */
int r2136_parse_server(const char *text, struct r2136_server *s, char *err,
		       size_t errlen);
/** Read a key file (tsig-keygen or `keymgr -t` format) with
 *  host->read_file into `k`, picking `want` (may be NULL: the file must
 *  then hold exactly one key). On failure the error text is set
 *  (PATH:LINE: ... where a line is known). */
int r2136_keyfile_load(const struct dnsfollow_host *h, const char *path,
		       const char *want, struct r2136_key *k);
/** The parser of r2136_keyfile_load, on NUL-terminated `text`; `path`
 *  is for messages only. */
int r2136_keyfile_parse(const char *text, const char *path, const char *want,
			struct r2136_key *k, char *err, size_t errlen);
/** Fill `k` from its parts; the secret is base64. */
int r2136_key_set(struct r2136_key *k, const char *name, const char *alg,
		  const char *b64, char *err, size_t errlen);
/** Strict base64 decoding; returns the byte count or -1. */
int r2136_base64_decode(const char *in, uint8_t *out, size_t cap);

/* net.c: sockets with deadlines (monotonic ms of host->now_ms). */
int r2136_udp_open(const struct r2136_server *s);
int r2136_tcp_open(const struct r2136 *p, const struct r2136_server *s,
		   uint64_t deadline);
int r2136_tcp_write(const struct r2136 *p, int fd, const uint8_t *m,
		    size_t len, uint64_t deadline);
/** Write `n` bytes as they are (messages framed by the caller). */
int r2136_write_all(const struct r2136 *p, int fd, const uint8_t *b,
		    size_t n, uint64_t deadline);
/** Read one length-prefixed message into `buf` (65535 bytes). */
int r2136_tcp_read(const struct r2136 *p, int fd, uint8_t *buf, size_t *len,
		   uint64_t deadline);
/** poll() one fd until `deadline`: 0 ready, -ETIMEDOUT, or -ECANCELED
 *  within R2136_STOP_SLICE_MS of host->stopping() turning true. */
int r2136_wait(const struct r2136 *p, int fd, short events,
	       uint64_t deadline);
#define R2136_STOP_SLICE_MS 200
/** 1 once the daemon is stopping: no new request goes out. */
int r2136_stopping(const struct r2136 *p);
/** The temporary error (-EAGAIN, text set) for a wait cut short or a
 *  request not sent because the daemon is stopping. */
int r2136_stop_error(const struct r2136 *p, const struct r2136_server *s,
		     const char *what);

/* exchange.c */
/** Make a query or UPDATE header + body in `b` ready for signing. */
uint16_t r2136_new_id(void);
/**
 * Sign `req` (unsigned message) and send it to each server in turn until
 * one gives a definite answer. On success `out` holds the verified reply
 * (rcode still to be judged by the caller). Temporary failures move on to
 * the next server; the last one's error is returned with its text set.
 */
int r2136_send(struct r2136 *p, const struct r2136_buf *req,
	       const char *what, struct r2136_reply *out);
/** Sign a copy of `req` into `out`; `mac`/`maclen` receive the MAC. */
int r2136_sign(struct r2136 *p, const struct r2136_buf *req,
	       struct r2136_buf *out, uint8_t *mac, size_t *maclen);
/** Decode `raw` and verify it answers request `id` signed with `mac`.
 *  Takes ownership of `raw`. Sets the error text on failure. */
int r2136_accept(struct r2136 *p, const struct r2136_server *s,
		 uint8_t *raw, size_t len, uint16_t id, const uint8_t *mac,
		 size_t maclen, struct r2136_reply *out);

/* rcode.c */
/** 1 if a reply's outcome means "ask the next server". */
int r2136_try_next(const struct r2136_reply *r);
/**
 * 1 if a request that failed with `rc` goes to the next server: timeouts
 * and other temporary failures, SERVFAIL (-EAGAIN) and NOTIMP
 * (-EOPNOTSUPP) as RFC 2136 §4.5 says, and a malformed or mismatched
 * answer (-EPROTO), which tells nothing about the other servers.
 */
int r2136_fail_over(int rc);
/**
 * Judge a verified reply: 0 for NOERROR (and NXDOMAIN when `nx_ok`),
 * else the error code with a one-line text naming the server, the zone
 * and what to check.
 */
int r2136_judge(struct r2136 *p, const struct r2136_reply *r,
		const char *what, const char *zone, int nx_ok);
const char *r2136_rcode_name(unsigned rcode);

/* names */
/** 1 if `name` is `zone` or below it on a label boundary. */
int r2136_in_zone(const char *name, const char *zone);

/* compress.c: owner names of an UPDATE, compressed. */
#define R2136_CZ_RECENT 8
struct r2136_cz_name {
	uint8_t w[R2136_WIRE_NAME_MAX + 1];
	size_t len;
	uint16_t off;
};
struct r2136_cz {
	size_t base; /* where the buffer written to starts in the message */
	uint8_t zone[R2136_WIRE_NAME_MAX + 1];
	size_t zlen;
	struct r2136_cz_name recent[R2136_CZ_RECENT];
	unsigned next;
};
void r2136_cz_init(struct r2136_cz *cz, const char *zone, size_t base);
void r2136_put_name_cz(struct r2136_buf *b, struct r2136_cz *cz,
		       const char *name);

/* read.c / axfr.c / update.c: the provider ops. */
/** read(): through the zone cache (zcache.c) when it is on. */
int r2136_read(void *self, const char *zone, const struct dnsfollow_rrkey *keys,
	       size_t nkeys, dnsfollow_rrset_cb emit, void *ctx);
/** Ask the server(s) for `keys`: by queries or by one zone transfer, as
 *  `read` and the rule of xfrread.c decide; sets p->read_server to the
 *  server that answered. */
int r2136_read_full(struct r2136 *p, const char *zone,
		    const struct dnsfollow_rrkey *keys, size_t nkeys,
		    dnsfollow_rrset_cb emit, void *ctx);
/** What a full read tells the zone cache. In: the zone's serial asked
 *  just before, if any. Out: `valid` when what was read is the zone at
 *  `serial` on `server` (a whole transfer carries its serial; a read by
 *  queries needs the same serial just before and just after it). */
struct r2136_rdinfo {
	int have_s0;
	uint32_t s0;
	const struct r2136_server *sv0;
	int valid;
	uint32_t serial;
	const struct r2136_server *server;
};
/** r2136_read_full, telling the cache what it read (`rd` may be NULL). */
int r2136_read_zone(struct r2136 *p, const char *zone,
		    const struct dnsfollow_rrkey *keys, size_t nkeys,
		    dnsfollow_rrset_cb emit, void *ctx, struct r2136_rdinfo *rd);
/** read.c: the RRsets of `keys` by signed queries, whatever `read` says. */
int r2136_read_queries(struct r2136 *p, const char *zone,
		       const struct dnsfollow_rrkey *keys, size_t nkeys,
		       dnsfollow_rrset_cb emit, void *ctx);
/** A zone transfer beats two queries per record when the zone holds at
 *  most this many records per RRset asked (xfrread.c, README "Reading"). */
#define R2136_AUTO_RECORDS_PER_KEY 8
void r2136_zx_free(struct r2136 *p);

/* zcache.c: what a zone held at a serial (see the file's comment). */
/** The zone's SOA serial and the server that gave it (signed query). */
int r2136_zone_serial(struct r2136 *p, const char *zone, uint32_t *serial,
		      const struct r2136_server **server);
int r2136_read_cached(struct r2136 *p, const char *zone,
		      const struct dnsfollow_rrkey *keys, size_t nkeys,
		      dnsfollow_rrset_cb emit, void *ctx);
/** After apply(): keep the cache in step with `nmsg` UPDATE messages that
 *  all succeeded (`ok`) on p->update_server, or drop it. */
void r2136_zcache_updated(struct r2136 *p, const char *zone,
			  const struct dnsfollow_change *changes, size_t n,
			  size_t nmsg, int ok);
void r2136_zcache_free(struct r2136 *p);

/* axfr_parse.c: the messages of one zone transfer (RFC 5936), checked
 * and TSIG-verified one by one, without the network (unit tests and the
 * fuzzer feed it bytes). */
typedef int (*r2136_rr_cb)(void *ctx, const struct r2136_rr *rr);
#define R2136_XFR_MAX_BYTES (256u << 20)
#define R2136_XFR_MAX_RECORDS 4000000u
/** r2136_xfr_feed(): an error answer (rcode, TSIG error): judge it. */
#define R2136_XFR_ANSWER 2
struct r2136_xfr {
	/* set by r2136_xfr_init; the limits may be lowered after it */
	const char *zone;
	uint16_t id;
	const struct r2136_key *key; /* NULL: answers are not verified */
	r2136_rr_cb on_rr;
	void *ctx;
	uint64_t max_bytes;
	size_t max_records;
	/* progress */
	struct r2136_tsig_verifier v;
	int soas;      /* apex SOA records seen: the transfer ends at the 2nd */
	char *soa;     /* the opening SOA's rdata, the closing one must match */
	unsigned msgs;
	size_t nrec;   /* records of the zone, both SOA records counted */
	size_t skipped; /* out-of-zone records: ignored, as clients do */
	uint64_t bytes;
	/* an error answer (R2136_XFR_ANSWER) */
	unsigned rcode;
	int tsig_error, unsigned_answer;
	uint64_t server_time;
	char why[200]; /* what is wrong, on a negative return */
};
/** Ready for the answer to request `id` (signed with `reqmac` when `key`
 *  is set). `on_rr` gets every record of the zone once (the closing SOA
 *  not), as it arrives: everything is provisional until the transfer is
 *  complete (a later message may fail), so a consumer keeps the records
 *  aside and uses them only once r2136_xfr_feed has returned 1. */
void r2136_xfr_init(struct r2136_xfr *x, const char *zone, uint16_t id,
		    const struct r2136_key *key, const uint8_t *reqmac,
		    size_t reqmaclen, r2136_rr_cb on_rr, void *ctx);
/**
 * One message (as read from the TCP stream, without its length). Returns
 * 0 when more is to come, 1 when the transfer is complete (closing SOA
 * seen, last message signed), R2136_XFR_ANSWER for an error answer, a
 * negative code with x->why set: -EPROTO malformed or not an answer to
 * the request, -EACCES signature missing or wrong, -EMSGSIZE over a
 * limit; or on_rr's own negative code.
 */
int r2136_xfr_feed(struct r2136_xfr *x, const uint8_t *raw, size_t len,
		   int64_t now);
void r2136_xfr_free(struct r2136_xfr *x);

/* axfr.c: one transfer over TCP from the servers in turn. */
struct r2136_xfr_sink {
	/** Called before each server is asked (may be NULL): drop what an
	 *  earlier, failed attempt delivered. */
	int (*begin)(void *ctx);
	r2136_rr_cb on_rr;
	void *ctx;
};
/** Transfer `zone` into `sink`; 0 once a server sent it whole and
 *  verified, else the error with its text set. */
int r2136_axfr(struct r2136 *p, const char *zone,
	       const struct r2136_xfr_sink *sink);
/** ops.markers: the `_dnsfollow.` TXT RRsets of `zone`, from a transfer. */
int r2136_markers(void *self, const char *zone, dnsfollow_rrset_cb emit,
		  void *ctx);
int r2136_apply(void *self, const struct dnsfollow_changeset *cs);
/** The RR types the provider manages (ops.types), 0-terminated. */
extern const uint16_t r2136_types[];
/** How r2136_build_updates builds. apply() sets a limit and the groups;
 *  the unit tests pin the ID and switch compression and the CNAME guards
 *  off to compare with known bytes. */
struct r2136_build {
	size_t limit;    /* bytes per message, before the TSIG */
	int plain_names; /* 1: owner names written in full */
	uint16_t id;     /* 0: a random ID per message */
	const uint32_t *groups; /* per change (cs->groups), or NULL: the
				   changeset is one group */
	int unguarded;   /* 1: no CNAME prerequisites (changes.c) */
};
/** UPDATE messages (unsigned) for a changeset. Message k holds the
 *  changes order[first..upto[k]) with first = k ? upto[k-1] : 0, whole
 *  groups in the order their first change came. */
struct r2136_updates {
	struct r2136_buf *msg;
	size_t nmsg;
	size_t *order; /* change indices, grouped */
	size_t *upto;  /* per message */
	size_t failed; /* on error: the change at fault, or SIZE_MAX */
};
/** Build the messages into `out` (release with r2136_updates_free). On
 *  error `out` holds nothing but `failed`. Exposed for the unit tests. */
int r2136_build_updates(struct r2136 *p, const char *zone,
			const struct dnsfollow_change *changes, size_t n,
			const struct r2136_build *how, struct r2136_updates *out);
void r2136_updates_free(struct r2136_updates *u);

/* changes.c: the changeset's groups in order, and the CNAME guards. */
struct r2136_shape {
	size_t *order;      /* change indices, whole groups in order */
	size_t *gstart;     /* per position: the index its group starts at */
	size_t *name_first; /* per change: first change at its owner name */
	unsigned *guard;    /* at name_first: bit k set = r2136_types[k]
			       must not exist at the name (prerequisite) */
};
/** Fill `s` (release with r2136_shape_free). -EEXIST with its text and
 *  *failed set when the changeset puts a CNAME beside other data. */
int r2136_shape(struct r2136 *p, const struct dnsfollow_change *c, size_t n,
		const uint32_t *groups, int guarded, struct r2136_shape *s,
		size_t *failed);
void r2136_shape_free(struct r2136_shape *s);
unsigned r2136_type_bit(uint16_t t);
/** "TYPE99" or the host's name of a type (thread-local storage). */
const char *r2136_type_text(const struct dnsfollow_host *h, uint16_t t);
/** 1 if the provider manages RR type `t`. */
int r2136_type_ok(uint16_t t);

/** Emit the RRs of `rr[0..n)` (already sorted by name, type) as RRsets. */
struct r2136_rec {
	char *name;
	uint16_t type;
	uint32_t ttl;
	char *text;
};
int r2136_emit_sorted(struct r2136_rec *rr, size_t n, dnsfollow_rrset_cb emit,
		      void *ctx);
void r2136_recs_sort(struct r2136_rec *rr, size_t n);
/** Append a copy of `rr` (name and text duplicated) to recs[0..*n),
 *  growing *recs (capacity *cap): 0, or -ENOMEM with nothing added. */
int r2136_recs_add(struct r2136_rec **recs, size_t *n, size_t *cap,
		   const struct r2136_rr *rr);
/** Free the copies r2136_recs_add made; *n becomes 0 (the array stays). */
void r2136_recs_clear(struct r2136_rec *recs, size_t *n);

#endif
