/*
 * command - reading the commands of a command mail.
 *
 * One command per line, in the Subject and the body; case-insensitive;
 * full-width characters read as ASCII; leading '>', '#' and blanks
 * ignored (so a quoted reply to a confirmation still works).  Reading
 * stops at "end", "以上", a signature line "-- ", or the third line that
 * is not a command.  A command given twice (the Subject and the quoted
 * body of a reply) counts once.
 */
#ifndef MLS_COMMAND_H
#define MLS_COMMAND_H

#include <stddef.h>

enum cmd_verb {
	CMD_SUBSCRIBE,
	CMD_UNSUBSCRIBE,
	CMD_CONFIRM,
	CMD_SET,
	CMD_HELP,
	CMD_WHO,
	CMD_EVENTS,
	CMD_RSVP,
	CMD_STATUS,
	CMD_ROSTER,
	CMD_PROPOSALS,
	CMD_PROPOSAL,
	CMD_SUPPORT,
	CMD_WITHDRAW,
	CMD_APPROVE,
	CMD_REJECT,
	CMD_ANSWER,
	CMD_INDEX,
	CMD_GET
};

struct command {
	enum cmd_verb	 verb;
	char		*line;	/* as read, normalised, for the reply */
	char		*args;	/* after the verb, trimmed; "" if none */
	char		*word;	/* the verb as written ("rsvp", "参加") */
};

struct command_list {
	struct command	*v;
	size_t		 n;
};

#define COMMAND_MAX	20	/* commands read from one mail */

int	 command_parse(const char *subject, const char *body,
	    struct command_list *);
void	 command_list_free(struct command_list *);
int	 command_line(const char *line, struct command *);

#endif
