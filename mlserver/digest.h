/*
 * digest - daily digests for members who chose "set digest".
 *
 * A member whose mode for a list is digest is left out of that list's
 * per-post fan-out (MEMBERS_MODE_SQL in members.h decides the mode per
 * address: the membership on the list itself, else the memberships
 * through which the list reaches the person).  Each post, as the list
 * sends it (prefix, footer and List-* fields applied), is kept in
 * state.db, in the transaction that queues the post, whenever the list
 * has digest readers.  Once a day at digest.time (in the config's
 * timezone), or as soon as the kept posts reach digest.max_size octets,
 * the kept posts of a list become one MIME digest (digest_compose.h),
 * queued through outq to the list's digest readers; the queueing, the
 * removal of the posts it carries and the claim of the day's time are
 * one transaction, so a crash or a restart neither loses nor repeats a
 * digest.  No posts, no digest.
 */
#ifndef MLS_DIGEST_H
#define MLS_DIGEST_H

#include <stddef.h>
#include <time.h>

#include <libconfig.h>

struct buf;
struct config;
struct digest_conf;
struct list;
struct store;
struct store_schema;

#define DIGEST_TIME_DEFAULT	(7 * 60)	/* 07:00 */
#define DIGEST_SIZE_DEFAULT	100000L		/* octets */

extern const struct store_schema digest_schema;

void	 digest_conf_init(struct digest_conf *);
int	 digest_conf_parse(const config_setting_t *, struct digest_conf *,
	    const config_setting_t **bad, const char **why);
int	 digest_record(struct store *, const struct config *,
	    const struct list *, const char *id, const char *data,
	    size_t len);
int	 digest_send_list(struct store *, const struct config *,
	    const struct list *, const char *cause, time_t now,
	    long long *nrcpts);
int	 digest_tick(struct store *, const struct config *);
int	 digest_now(struct store *, const struct config *,
	    const struct list *only, struct buf *report);
int	 digest_ctl(const struct config *, struct store *, int argc,
	    char **argv, struct buf *out);

#endif
