/*
 * The SDK helpers of the host table (ABI 2, see dnsfollow/host.h): one
 * implementation, used by the core itself and handed to every plugin, so
 * record-type names, TXT quoting, names and HTTP error classes mean the
 * same thing on both sides of the ABI.
 */
#ifndef DF_SDK_H
#define DF_SDK_H

#include <stddef.h>
#include <stdint.h>

#include <dnsfollow/host.h>

/** Longest Retry-After honoured: a peer asking for more (a week, a bogus
 *  year) gets one day, so a zone is never frozen by one answer. */
#define DF_RETRY_AFTER_MAX_S 86400u

/** TXT raw text → presentation: "..." strings of at most 255 bytes of
 *  text each, space-separated; '"' and '\\' escaped, bytes outside
 *  printable ASCII as \DDD; "" for an empty text. malloc'd, NULL on OOM. */
char *df_txt_encode(const char *text);
/** Presentation → raw text: quoted strings (separated by white space or
 *  adjacent), or one unquoted word; escapes \X and \DDD. NULL when
 *  malformed: an open quote, a bad escape (a lone '\\', \DDD over 255,
 *  \000, which a C string cannot hold), a string over 255 bytes, an
 *  unquoted word beside another word or a quote. */
char *df_txt_decode(const char *presentation);

/** "A", "AAAA", ... or "TYPE<n>" in a thread-local buffer (RFC 3597). */
const char *df_type_name(uint16_t type);
/** Code of a mnemonic (case-insensitive) or "TYPE<n>" (1..65535); 0 when
 *  unknown. */
uint16_t df_type_code(const char *name);

/** host->name_normalise: lower-case, trailing dot removed, the root
 *  ("" or ".") is "". -EINVAL for an empty label, a label over 63 bytes,
 *  a name over 253, or a byte that is white space, a control byte, non-
 *  ASCII (use the A-label), '"' or '\\' (escaped presentation is not
 *  taken); -ENAMETOOLONG when out[cap] cannot hold it. */
int df_name_normalise_buf(const char *in, char *out, size_t cap);

/** host->http_header: value of the last header `name` (case-insensitive)
 *  of the last response, surrounding white space removed, in buf[cap].
 *  0, -ENOENT, or -ENOSPC (buf = "") when it does not fit. */
int df_http_header(const struct dnsfollow_http_response *resp,
		   const char *name, char *buf, size_t cap);

/** Retry-After in ms from `now` (epoch seconds): delta-seconds, or an
 *  HTTP date (IMF-fixdate; the obsolete RFC 850 and asctime forms too, as
 *  RFC 9110 asks of recipients). 0 when malformed or past; capped at
 *  DF_RETRY_AFTER_MAX_S. */
unsigned df_parse_retry_after_at(const char *value, int64_t now);
/** The same relative to the core's wall clock (df_wall_time()). */
unsigned df_parse_retry_after(const char *value);

/** host->http_error: see dnsfollow/host.h. The text goes through
 *  h->error() (masked and cleaned there), the delay through
 *  h->retry_after(). */
int df_http_error(const struct dnsfollow_host *h,
		  const struct dnsfollow_http_response *resp, const char *what);

/** Percent-encode all but RFC 3986 unreserved bytes (upper-case hex).
 *  malloc'd; NULL on OOM. NULL gives "". */
char *df_url_escape(const char *s);

/** Set the ABI 2 helper members of a host table. */
void df_sdk_fill(struct dnsfollow_host *pub);

#endif
