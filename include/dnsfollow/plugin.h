/*
 * The one header a dnsfollow plugin includes. See the plugin guide
 * (docs/plugin-guide.md, installed under share/doc/dnsfollow) and the
 * examples beside it. JSON: jansson is part of the SDK (pkg-config
 * `dnsfollow` requires it).
 *
 * A minimal provider:
 *
 *   #include <dnsfollow/plugin.h>
 *   static const uint16_t types[] = {DNSFOLLOW_TYPE_A, DNSFOLLOW_TYPE_TXT, 0};
 *   static const struct dnsfollow_key keys[] = {
 *       DNSFOLLOW_KEY_STRING("url", DNSFOLLOW_KEY_REQUIRED, "API base URL"),
 *       DNSFOLLOW_KEY_DURATION("timeout", "10s", 100, 60000, "per request"),
 *       DNSFOLLOW_KEY_END};
 *   static const struct dnsfollow_provider_ops ops = {
 *       .struct_size = sizeof ops, .caps = DNSFOLLOW_CAP_ATOMIC,
 *       .types = types, .read = my_read, .apply = my_apply};
 *   DNSFOLLOW_PROVIDER("mine", "1.0", keys, NULL, my_create, my_destroy, &ops);
 */
#ifndef DNSFOLLOW_PLUGIN_H
#define DNSFOLLOW_PLUGIN_H

#include "abi.h"
#include "backend.h"
#include "host.h"
#include "provider.h"

#endif /* DNSFOLLOW_PLUGIN_H */
