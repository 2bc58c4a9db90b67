/*
 * event_parse - reading what people write about events: the header-style
 * lines of an announcement ("Date: ...", "日時：..."), and an answer
 * ("参加 +1", "no", "rsvp E12 maybe").
 *
 * Both are read after full-width folding, so "日時：１２月５日" and
 * "ＹＥＳ" read as typed on any keyboard.  An answer must be exactly an
 * answer: "参加できません" is not read as "参加", because guessing wrong
 * books a seat for someone who is not coming.
 */
#ifndef MLS_EVENT_PARSE_H
#define MLS_EVENT_PARSE_H

#include <stddef.h>

#include "events.h"

enum evf_key {
	EVF_DATE,
	EVF_END,
	EVF_PLACE,
	EVF_CAPACITY,
	EVF_DEADLINE,
	EVF_EVENT,
	EVF_CANCEL,
	EVF_TITLE,
	EVF_N
};

struct event_fields {
	char	*value[EVF_N];	/* trimmed, or NULL when not given */
	char	*line[EVF_N];	/* the line as written, for replies */
	char	*rest;		/* the free text after the fields */
	int	 n;		/* fields read */
};

#define EVENT_GUESTS_MAX	20

int	 event_fields_parse(const char *text, struct event_fields *);
void	 event_fields_free(struct event_fields *);
int	 event_is_yes(const char *);
int	 event_answer_parse(const char *line, enum rsvp_answer *,
	    int *guests, char *ref, size_t refsz);
int	 event_answer_from_mail(const char *text, const char *subject,
	    enum rsvp_answer *, int *guests, char *ref, size_t refsz);

#endif
