/*
 * outq_rate - what a hosted provider lets us send: relay
 * max_messages_per_hour, and backing off when the provider says "slow
 * down" (a 4xx that reads as a limit).
 *
 * Every transaction the relay took (at least one recipient accepted) is
 * a row in SQLite, so the sliding hour survives a restart; a round may
 * carry only as many transactions as the last hour leaves.  Towards a
 * provider (relay.user or max_messages_per_hour set), a limit reply
 * pauses the whole queue: retry_first seconds, doubled at each
 * further limit reply up to retry_max, until a transaction is taken
 * again.  The pause is in SQLite too.  Mail held back is not touched:
 * it stays queued and goes out when the hour or the pause allows.
 */
#ifndef MLS_OUTQ_RATE_H
#define MLS_OUTQ_RATE_H

#include <stddef.h>
#include <time.h>

#include "store.h"

struct config;
struct deliver_txn;

extern const struct store_schema outq_rate_schema;

/* How many of want transactions may be started now (0: none). */
size_t	 outq_rate_allowance(struct store *, const struct config *,
	    size_t want);
/* When sending may start again; 0 when nothing holds it back. */
time_t	 outq_rate_resume(struct store *, const struct config *);
/*
 * Account for a finished transaction, inside the caller's SQLite
 * transaction: count it when the relay took it, pause on a limit reply.
 */
int	 outq_rate_note(struct store *, const struct config *,
	    const struct deliver_txn *);
/* Whether a relay reply ("451 4.7.1 ...") reads as a sending limit. */
int	 outq_rate_is_limit(const char *reply);

#endif
