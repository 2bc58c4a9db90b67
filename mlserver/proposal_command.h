/*
 * proposal_command - the proposal commands of command mail
 * (LIST-request@D) and the proposal tokens (LIST-confirm+TOKEN@D).
 *
 *	proposals / 提案一覧		anyone: the proposals of the list's scope
 *	proposal REF			anyone: the whole record
 *	support REF			a member, once, not the proposer
 *	withdraw REF			the proposer, before it is forwarded
 *	approve REF / reject REF [REASON]	moderators
 *	answer REF STATE + text		moderators: the institution's answer
 *
 * The record of a proposal never approved is shown only to its proposer
 * and its moderators; to anyone else "proposal REF" answers that there
 * is no such proposal.  (References are counted, so that one exists is
 * no secret; what it says is.)  The
 * text of "answer" is everything after its line, so the commands stop
 * there (request.stop).
 */
#ifndef MLS_PROPOSAL_COMMAND_H
#define MLS_PROPOSAL_COMMAND_H

struct command;
struct request;
struct token_rec;

int	proposal_command(struct request *, const struct command *);
int	proposal_command_confirm(struct request *, const struct command *,
	    const struct token_rec *);

#endif
