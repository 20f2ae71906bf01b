/*
 * systemd's notification protocol (Type=notify): READY, RELOADING,
 * STOPPING, STATUS and WATCHDOG datagrams to $NOTIFY_SOCKET. Written
 * here (a dozen lines of protocol) rather than linking libsystemd, whose
 * dependencies would more than double a scratch image.
 */
#ifndef DF_NOTIFY_H
#define DF_NOTIFY_H

#include <stdint.h>

/** Send `state` ("READY=1", "STOPPING=1", ...); no-op without
 *  $NOTIFY_SOCKET. 0, or -1 when the socket cannot be reached. */
int df_notify(const char *state);

/** The watchdog period asked by systemd ($WATCHDOG_USEC for this pid),
 *  in ms, or 0 when none. */
uint64_t df_notify_watchdog_ms(void);

#endif
