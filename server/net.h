/*
 * net.h - the event loops: listening sockets, connections, reading,
 * running commands, writing replies.
 */
#ifndef WARPD_NET_H
#define WARPD_NET_H

#include "server.h"

/* Bind every loop's listening socket (SO_REUSEPORT, the same port; with
 * port 0 the first bind picks it). Returns 0 or -1 (logged). */
int net_listen(void);

/* Start the loop threads. Returns 0 or -1. */
int net_start(void);

/* Ask every loop to stop: close its listener, flush each client's
 * pending replies (at most ~2 s), close, and exit. Then join them. */
void net_stop(void);

/* The client registry (CLIENT LIST, INFO clients). */
void net_client_info(wd_client *c, wd_buf *out); /* one CLIENT LIST line */
void net_client_list(wd_buf *out);

/* Sum the loops' counters minus the RESETSTAT baseline. */
void net_stats_sum(wd_stats *out);
void net_stats_reset(void);

#endif /* WARPD_NET_H */
