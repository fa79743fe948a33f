/*
 * series.h - time series: named series of (int64 ms timestamp, double)
 * samples, kept in chunks under the engine's own keys (db.h) with an
 * in-memory index per series. Upstream's temporal shards, wired into the
 * engine. The API and its manual are in warp.h ("Time series"); the design
 * at the top of series.c; the records in docs/FORMATS.md.
 */
#ifndef WARP_SERIES_H
#define WARP_SERIES_H

#include "warp.h"

typedef struct series_set series_set;

/* The store's series map, empty; warp_open() calls it once the store is
 * up. Returns WARP_OK or WARP_ENOMEM (db->series stays NULL). */
int series_open(warp_db *db);

/* Free the series map and every index in it. NULL db->series is
 * accepted. Called by warp_close(), with no other call running. */
void series_close(warp_db *db);

#endif
