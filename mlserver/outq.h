/*
 * outq - the outbound queue: mail we send, one row per recipient.
 *
 * The message itself is kept in its final form with CRLF line ends
 * (outq_body.h: in SQLite, or out/ID when large); outmsg has a row per
 * message with its counts and outq a row per recipient not yet sent,
 * with its state.  A delivery round takes due recipients in address
 * order straight from SQLite, batch by batch, so a list of any size is
 * never held in memory, and writes the results as soon as the relay has
 * answered about relay.max_recipients of them: after a crash, what was
 * in flight and less than one full transaction's worth of answered
 * recipients are sent again.
 */
#ifndef MLS_OUTQ_H
#define MLS_OUTQ_H

#include <time.h>

struct config;
struct store;

enum outq_state {
	OUTQ_PENDING = 0,
	OUTQ_SENT = 1,		/* a result only: the row is deleted */
	OUTQ_DEFERRED = 2,
	OUTQ_FAILED = 3
};

struct outq_summary {
	const char	*id;
	const char	*list;
	const char	*kind;
	long long	 created;
	long long	 total, sent, deferred, failed, pending;
};

typedef int outq_fn(const struct outq_summary *, void *);

int	 outq_message_add(struct store *, const char *id, const char *list,
	    const char *kind, const char *sender);
int	 outq_add_rcpt(struct store *, const char *id, const char *rcpt);
/* Also archives the message (archive_record) when the list has an archive. */
long long outq_fanout(struct store *, const struct config *, const char *id,
	    const char *list);
long long outq_fanout_mode(struct store *, const char *id, const char *list,
	    const char *mode);
int	 outq_message_ready(struct store *, const char *id);
int	 outq_message_verp(struct store *, const char *id);
int	 outq_round(struct store *, const struct config *);
time_t	 outq_next_due(struct store *);
int	 outq_flush(struct store *);
int	 outq_foreach(struct store *, outq_fn *, void *);
int	 outq_cleanup_orphans(struct store *, const struct config *);

#endif
