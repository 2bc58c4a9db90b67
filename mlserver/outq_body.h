/*
 * outq_body - where the text of a message we send is kept until it is
 * sent: in SQLite beside its queue rows when it is small, as
 * STATE_DIR/spool/out/ID when it is large.
 *
 * Replies, notices and most posts are a few kilobytes.  Kept in the
 * database, such a message is written by the same transaction that
 * queues it and becomes durable with it: no file, and none of the two
 * fsyncs a file costs (the file, then out/), which were most of the
 * time a subscribe mail took.  A large message (attachments) stays a
 * file, written and fsynced before that transaction commits, so the
 * database does not carry megabytes through its write-ahead log.
 */
#ifndef MLS_OUTQ_BODY_H
#define MLS_OUTQ_BODY_H

#include <stddef.h>

struct config;
struct store;

/* Larger messages are files in out/. */
#define OUTQ_BODY_INLINE_MAX	(256 * 1024)

int	outq_body_put(struct store *, const struct config *, const char *id,
	    const char *crlf, size_t len);
int	outq_body_get(struct store *, const struct config *, const char *id,
	    char **data, size_t *len);
int	outq_body_drop(struct store *, const char *id);
void	outq_body_unlink(const struct config *, const char *id);

#endif
