/*
 * reply - answering a person: whether we may, and the answer itself.
 *
 * No answer goes to a null sender, to mail that is Auto-Submitted (other
 * than "no"), Precedence bulk/junk/list, a delivery report, or one of our
 * own addresses, and no address gets more than reply_limit answers an
 * hour: a list server must never be the other half of a mail loop.
 */
#ifndef MLS_REPLY_H
#define MLS_REPLY_H

#include <stddef.h>

#include "addr.h"
#include "template.h"

struct compose_parts;
struct list;
struct mail_ctx;

#define REPLY_VARS_MAX	24

/* The variables every template may use, plus a few of the caller's. */
struct reply_vars {
	char		list[ADDR_MAX + 1];	/* LIST@D */
	char		request[ADDR_MAX + 1];
	char		join[ADDR_MAX + 1];
	char		leave[ADDR_MAX + 1];
	char		owner[ADDR_MAX + 1];
	struct tvar	v[REPLY_VARS_MAX];
	size_t		n;
};

int	 reply_is_automatic(const struct mail_ctx *);
int	 reply_allowed(struct mail_ctx *, const char *to);
void	 reply_vars_init(struct reply_vars *, const struct mail_ctx *,
	    const struct list *);
void	 reply_var(struct reply_vars *, const char *name, const char *value);
int	 reply_send(struct mail_ctx *, const struct list *, const char *to,
	    const char *tmpl, struct reply_vars *, const char *reply_to,
	    int attach);
int	 reply_send_parts(struct mail_ctx *, const struct list *,
	    const char *to, const char *tmpl, struct reply_vars *,
	    const char *reply_to, const struct compose_parts *);

#endif
