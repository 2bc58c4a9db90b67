/*
 * request - command mail: LIST-request@D, and the one-purpose addresses
 * LIST-join@D, LIST-leave@D and LIST-confirm+TOKEN@D.
 *
 * Every command mail gets one reply, in the list's language, with a
 * result line per command, unless the mail was automatic (see reply.h);
 * automatic mail is not acted on at all, so a vacation notice answering
 * a confirmation request confirms nothing.
 */
#ifndef MLS_REQUEST_H
#define MLS_REQUEST_H

struct mail_ctx;
struct route;

int	request_handle(struct mail_ctx *, const struct route *);

#endif
