/*
 * The one header a dnsfollow plugin includes. See docs/plugin-guide.md.
 *
 * A minimal provider:
 *
 *   #include <dnsfollow/plugin.h>
 *   static const struct dnsfollow_provider_ops ops = {
 *       .struct_size = sizeof ops, .caps = DNSFOLLOW_CAP_A | ...,
 *       .read = my_read, .apply = my_apply };
 *   DNSFOLLOW_PLUGIN_EXPORT const struct dnsfollow_plugin dnsfollow_plugin = {
 *       .abi_version = DNSFOLLOW_ABI_VERSION,
 *       .kind = DNSFOLLOW_KIND_PROVIDER, .name = "mine", .version = "1.0",
 *       .config_keys = my_keys, .create = my_create,
 *       .destroy = my_destroy, .ops = &ops };
 */
#ifndef DNSFOLLOW_PLUGIN_H
#define DNSFOLLOW_PLUGIN_H

#include "abi.h"
#include "backend.h"
#include "host.h"
#include "provider.h"

#endif /* DNSFOLLOW_PLUGIN_H */
