/*
 * digest_compose - one digest as MIME (RFC 2046 5.1.5).
 *
 * The digest is multipart/mixed: first a text/plain table of contents
 * (UTF-8, in the list's language: number, subject and sender of each
 * post, the Subject and the sender's name decoded from whatever charset
 * they came in), then a multipart/digest whose parts are the posts,
 * each a whole message/rfc822 exactly as the list sent it.  The header
 * gets the list's fields (List-Id, List-Unsubscribe, ...) and subject
 * prefix through post_rewrite, like any list mail.  Nothing here touches
 * the database: digest.c decides what goes in and where it goes.
 */
#ifndef MLS_DIGEST_COMPOSE_H
#define MLS_DIGEST_COMPOSE_H

#include <stddef.h>
#include <time.h>

struct buf;
struct config;
struct list;

/* One post of a digest: the bytes members got, and when it was sent. */
struct digest_post {
	const char	*data;
	size_t		 len;
	long long	 created;
};

int	digest_compose(struct buf *out, const struct config *,
	    const struct list *, const char *id, int seq, time_t now,
	    const struct digest_post *, size_t n);
void	digest_toc(struct buf *out, const struct config *,
	    const struct list *, const struct digest_post *, size_t n);

#endif
