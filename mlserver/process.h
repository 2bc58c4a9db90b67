/*
 * process - the step between the spool and the queue: each message in
 * new/ is parsed, routed per recipient, and handed to its handler (post,
 * request, owner, bounces), all in one database transaction.
 *
 * Exactly once: the transaction that records a message's effects also
 * marks it done, and the file leaves new/ only afterwards; a message
 * found in new/ already marked done was handled before a crash and is
 * only cleared away.  A message whose processing fails is retried with a
 * pause, and quarantined at the third failure.
 */
#ifndef MLS_PROCESS_H
#define MLS_PROCESS_H

#include "addr.h"

struct config;
struct message;
struct spool_envelope;
struct store;

/* What a handler sees of the message it handles. */
struct mail_ctx {
	const struct config		*cf;
	struct store			*st;
	const char			*id;	/* spool queue id */
	const struct spool_envelope	*env;
	struct message			*msg;
	char				 who[ADDR_MAX + 1];	/* From, or "" */
	int				 held;	/* keep the file in held/ */
	struct moderate_prep		*prep;	/* filter verdicts (moderate.h) */
};

int	process_pending(const struct config *, struct store *);

#endif
