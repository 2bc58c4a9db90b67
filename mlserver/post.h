/*
 * post - a post to LIST@D: the list's policy decides, and an accepted
 * post is rewritten (subject prefix, list header fields) and fanned out
 * to the list's audience.  Also LIST-owner@D, forwarded to moderators.
 */
#ifndef MLS_POST_H
#define MLS_POST_H

#include <stddef.h>

struct buf;
struct config;
struct list;
struct mail_ctx;
struct message;
struct route;

int	post_handle(struct mail_ctx *, const struct route *);
int	post_owner(struct mail_ctx *, const struct route *);
int	post_send(struct mail_ctx *, const struct list *, const char *raw,
	    size_t len);
void	post_output(struct buf *, const struct config *, const struct list *,
	    const struct message *, const char *raw, size_t len,
	    const char *tag);
void	post_rewrite(struct buf *, const struct config *, const struct list *,
	    const char *raw, size_t len);

#endif
