/*
 * route - what an envelope recipient means: which list, which action.
 *
 * Only the configuration is consulted, so the LMTP server can answer
 * RCPT TO at once and mlserver-receive can choose its exit code without
 * touching the database.  Token and reference arguments are checked for
 * shape here (they end up in file names and SQL parameters) and for
 * meaning later, by the handler.
 */
#ifndef MLS_ROUTE_H
#define MLS_ROUTE_H

struct config;
struct list;

enum route_action {
	ROUTE_POST,		/* LIST@D */
	ROUTE_REQUEST,		/* LIST-request@D */
	ROUTE_JOIN,		/* LIST-join@D */
	ROUTE_LEAVE,		/* LIST-leave@D */
	ROUTE_CONFIRM,		/* LIST-confirm+TOKEN@D */
	ROUTE_OWNER,		/* LIST-owner@D */
	ROUTE_BOUNCES,		/* LIST-bounces[+...]@D */
	ROUTE_EVENTS,		/* LIST-events@D */
	ROUTE_RSVP,		/* LIST-rsvp+EVENT@D */
	ROUTE_PROPOSE,		/* LIST-propose@D */
	ROUTE_PROPOSAL		/* LIST-proposal+REF@D */
};

#define ROUTE_ARG_MAX	128

struct route {
	const struct list	*list;
	enum route_action	 action;
	char			 arg[ROUTE_ARG_MAX];	/* after '+', or "" */
};

/* 0 and *out filled when rcpt is ours and handled; -1 otherwise. */
int		 route_lookup(const struct config *, const char *rcpt,
		    struct route *out);
const char	*route_action_name(enum route_action);

#endif
