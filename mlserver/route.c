/*
 * route - what an envelope recipient means; see route.h.
 *
 * LIST@D is a post; LIST-SUFFIX@D and LIST-SUFFIX+ARG@D are the list's
 * service addresses.  The list name itself may contain '-', so the suffix
 * is recognised only when what stands before it is a configured list.
 * The '+' argument is restricted to [A-Za-z0-9._=-]: it becomes a token,
 * an event id or a proposal reference, and must never carry a path or a
 * quote into anything.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "config.h"
#include "route.h"

static int	route_arg_ok(const char *);
static int	route_suffix(const char *, size_t, enum route_action *);

static const struct {
	const char		*suffix;
	enum route_action	 action;
	int			 arg;	/* 1 required, 0 forbidden, 2 optional */
	int			 served;	/* a handler exists */
} suffixes[] = {
	{ "request",	ROUTE_REQUEST,	0, 1 },
	{ "join",	ROUTE_JOIN,	0, 1 },
	{ "leave",	ROUTE_LEAVE,	0, 1 },
	{ "confirm",	ROUTE_CONFIRM,	1, 1 },
	{ "owner",	ROUTE_OWNER,	0, 1 },
	{ "bounces",	ROUTE_BOUNCES,	2, 1 },
	{ "events",	ROUTE_EVENTS,	0, 1 },
	{ "rsvp",	ROUTE_RSVP,	1, 1 },
	{ "propose",	ROUTE_PROPOSE,	0, 1 },
	{ "proposal",	ROUTE_PROPOSAL,	1, 1 },
};

static int
route_arg_ok(const char *s)
{
	if (*s == '\0' || strlen(s) >= ROUTE_ARG_MAX)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._=-", *s))
			return 0;
	return 1;
}

static int
route_suffix(const char *s, size_t n, enum route_action *action)
{
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++)
		if (strlen(suffixes[i].suffix) == n &&
		    strncasecmp(s, suffixes[i].suffix, n) == 0) {
			*action = suffixes[i].action;
			return (int)i;
		}
	return -1;
}

int
route_lookup(const struct config *cf, const char *rcpt, struct route *out)
{
	char addr[ADDR_MAX + 1], local[ADDR_MAX + 1];
	const char *plus, *arg = "";
	char *at, *dash;
	int which;

	if (addr_canon(rcpt, addr, sizeof(addr)) != 0)
		return -1;
	at = strrchr(addr, '@');
	if (strcmp(at + 1, cf->domain) != 0)
		return -1;
	*at = '\0';
	strcpy(local, addr);

	/* A post: the whole local part names a list. */
	if ((out->list = config_list(cf, local)) != NULL) {
		out->action = ROUTE_POST;
		out->arg[0] = '\0';
		return 0;
	}

	/* LIST-SUFFIX or LIST-SUFFIX+ARG: split at the first '+'. */
	if ((plus = strchr(local, '+')) != NULL) {
		arg = plus + 1;
		local[plus - local] = '\0';
	}
	if ((dash = strrchr(local, '-')) == NULL)
		return -1;
	which = route_suffix(dash + 1, strlen(dash + 1), &out->action);
	if (which < 0 || !suffixes[which].served)
		return -1;
	*dash = '\0';
	if ((out->list = config_list(cf, local)) == NULL)
		return -1;
	if (plus == NULL ? suffixes[which].arg == 1 :
	    suffixes[which].arg == 0 || !route_arg_ok(arg))
		return -1;
	strcpy(out->arg, arg);
	return 0;
}

const char *
route_action_name(enum route_action a)
{
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++)
		if (suffixes[i].action == a)
			return suffixes[i].suffix;
	return "post";
}
