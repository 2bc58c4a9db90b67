/*
 * bounce - dead addresses: VERP, delivery reports, scores.
 *
 * Evidence that an address does not work comes three ways: a 5xx from
 * the relay at delivery (outq), a delivery report (RFC 3464) at
 * LIST-bounces@D, or any mail at a VERP address LIST-bounces+ADDR@D.
 * Each adds to the member's score on that list as Mailman does: +1 for a
 * hard failure, +0.5 for a soft one, at most once a day, and the score
 * starts again when the last bounce is older than stale_days.  At the
 * threshold delivery is disabled (mode "bouncing") and the member gets a
 * notice with a re-enable token; after `warnings` further notices,
 * `warning_days` apart, the member is removed.  Bounces are never
 * answered.
 */
#ifndef MLS_BOUNCE_H
#define MLS_BOUNCE_H

#include <stddef.h>

#include "store.h"

struct buf;
struct config;
struct list;
struct mail_ctx;
struct route;

struct bounce_report {
	char	addr[256];	/* Final-Recipient, canonical */
	int	hard;		/* Action failed / Status 5.x.x */
};

extern const struct store_schema bounce_schema;

void	 bounce_verp_encode(struct buf *, const char *list,
	    const char *domain, const char *addr);
int	 bounce_verp_decode(const char *arg, char *addr, size_t size);
int	 bounce_dsn_parse(const char *text, size_t len,
	    struct bounce_report *, size_t max);
int	 bounce_handle(struct mail_ctx *, const struct route *);
int	 bounce_record(struct store *, const struct config *,
	    const char *list, const char *addr, int hard, const char *why);
int	 bounce_maintain(struct store *, const struct config *);
int	 bounce_forget(struct store *, const char *list, const char *addr);
int	 bounce_verp_wanted(struct store *, const struct config *,
	    const char *list);

#endif
