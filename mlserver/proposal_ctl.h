/*
 * proposal_ctl - the proposal verbs of mlserverctl:
 *
 *	proposals [LIST] [--state S] [--json]	the proposals of LIST's scope
 *						(all without LIST)
 *	forward [LIST]				compile and send the summaries now
 *
 * Each returns a sysexits.h code and writes what it has to say to out
 * (or, for mistakes, to standard error).
 */
#ifndef MLS_PROPOSAL_CTL_H
#define MLS_PROPOSAL_CTL_H

struct buf;
struct config;
struct store;

int	proposal_ctl_list(const struct config *, struct store *, int argc,
	    char **argv, int json, struct buf *out);
int	proposal_ctl_forward(const struct config *, struct store *, int argc,
	    char **argv, struct buf *out);

#endif
