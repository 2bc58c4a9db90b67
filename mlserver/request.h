/*
 * request - command mail: LIST-request@D, and the one-purpose addresses
 * LIST-join@D, LIST-leave@D and LIST-confirm+TOKEN@D.
 *
 * Every command mail gets one reply, in the list's language, with a
 * result line per command, unless the mail was automatic (see reply.h);
 * automatic mail is not acted on at all, so a vacation notice answering
 * a confirmation request confirms nothing.  What a command hands over
 * (a roster, an archived post) is attached to that same reply, never
 * sent in a mail of its own: one answer per question, easy to file.
 */
#ifndef MLS_REQUEST_H
#define MLS_REQUEST_H

#include "addr.h"
#include "buf.h"
#include "compose.h"
#include "reply.h"
#include "token.h"

struct command;
struct list;
struct mail_ctx;
struct route;

/*
 * One command mail being answered.  Modules that serve commands of their
 * own (events, proposals, the archive) are called from request_run()
 * with it, and add their results with request_result().
 */
struct request {
	struct mail_ctx		*ctx;
	const struct list	*list;
	struct reply_vars	 rv;		/* template variables */
	struct buf		 results;	/* the reply's body so far */
	struct compose_parts	 parts;		/* what the reply attaches */
	char			 token[TOKEN_LEN + 1];	/* last one issued */
	char			 confirm[ADDR_MAX + 1];	/* its address */
	char			 days[16];
	int			 ntokens;
	int			 stop;	/* a command took the rest of the mail */
};

int	request_handle(struct mail_ctx *, const struct route *);
int	request_result(struct request *, const char *tmpl,
	    const struct command *);
void	request_attach(struct request *, const char *type,
	    const char *filename, const void *data, size_t len);

#endif
