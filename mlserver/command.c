/*
 * command - reading the commands of a command mail; see command.h.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "command.h"
#include "text.h"
#include "xmalloc.h"

static const struct {
	const char	*word;
	enum cmd_verb	 verb;
	const char	*implied;	/* argument the word itself carries */
} verbs[] = {
	{ "subscribe",	CMD_SUBSCRIBE,	NULL },
	{ "join",	CMD_SUBSCRIBE,	NULL },
	{ "登録",	CMD_SUBSCRIBE,	NULL },
	{ "入会",	CMD_SUBSCRIBE,	NULL },
	{ "unsubscribe", CMD_UNSUBSCRIBE, NULL },
	{ "leave",	CMD_UNSUBSCRIBE, NULL },
	{ "退会",	CMD_UNSUBSCRIBE, NULL },
	{ "解除",	CMD_UNSUBSCRIBE, NULL },
	{ "confirm",	CMD_CONFIRM,	NULL },
	{ "確認",	CMD_CONFIRM,	NULL },
	{ "set",	CMD_SET,	NULL },
	{ "help",	CMD_HELP,	NULL },
	{ "ヘルプ",	CMD_HELP,	NULL },
	{ "who",	CMD_WHO,	NULL },
	{ "名簿",	CMD_WHO,	NULL },	/* with an EVENT: roster */
	{ "events",	CMD_EVENTS,	NULL },
	{ "イベント",	CMD_EVENTS,	NULL },
	{ "rsvp",	CMD_RSVP,	NULL },
	{ "参加",	CMD_RSVP,	"yes" },
	{ "出席",	CMD_RSVP,	"yes" },
	{ "不参加",	CMD_RSVP,	"no" },
	{ "欠席",	CMD_RSVP,	"no" },
	{ "未定",	CMD_RSVP,	"maybe" },
	{ "status",	CMD_STATUS,	NULL },
	{ "roster",	CMD_ROSTER,	NULL },
	{ "proposals",	CMD_PROPOSALS,	NULL },
	{ "提案一覧",	CMD_PROPOSALS,	NULL },
	{ "proposal",	CMD_PROPOSAL,	NULL },
	{ "support",	CMD_SUPPORT,	NULL },
	{ "withdraw",	CMD_WITHDRAW,	NULL },
	{ "approve",	CMD_APPROVE,	NULL },
	{ "reject",	CMD_REJECT,	NULL },
	{ "answer",	CMD_ANSWER,	NULL },
	{ "index",	CMD_INDEX,	NULL },
	{ "目次",	CMD_INDEX,	NULL },
	{ "get",	CMD_GET,	NULL },
	{ "取得",	CMD_GET,	NULL },
};

static char	*command_normalise(const char *, size_t);
static int	 command_stop(const char *);
static const char *command_strip_reply(const char *);
static int	 command_add(struct command_list *, struct command *);

/*
 * Fold full-width forms to ASCII, drop the quoting and comment marks and
 * surrounding blanks a line may carry.  Allocated.
 */
static char *
command_normalise(const char *s, size_t n)
{
	struct buf raw = BUF_INIT, folded = BUF_INIT;
	const char *p;
	size_t len;

	buf_add(&raw, s, n);
	text_fold_width(&folded, buf_cstr(&raw));
	buf_free(&raw);
	p = buf_cstr(&folded);
	while (*p == '>' || *p == '#' || *p == ' ' || *p == '\t' ||
	    *p == '|')
		p++;
	len = strlen(p);
	while (len && strchr(" \t\r", p[len - 1]))
		len--;
	{
		char *r = xstrndup(p, len);

		buf_free(&folded);
		return r;
	}
}

static int
command_stop(const char *line)
{
	return strcasecmp(line, "end") == 0 || strcmp(line, "以上") == 0;
}

/* Skip reply and forward markers on a Subject: "Re: Fwd: confirm x". */
static const char *
command_strip_reply(const char *s)
{
	static const char *const marks[] = {
		"re:", "fwd:", "fw:", "aw:", "返信:", "転送:", NULL
	};

	for (;;) {
		const char *const *m;

		while (*s == ' ')
			s++;
		for (m = marks; *m; m++)
			if (strncasecmp(s, *m, strlen(*m)) == 0)
				break;
		if (*m == NULL)
			return s;
		s += strlen(*m);
	}
}

/*
 * Read one normalised line as a command.  Returns 1 and fills *c (owned
 * by the caller: command_list_free) when it is one, 0 otherwise.
 */
int
command_line(const char *line, struct command *c)
{
	size_t i, n;

	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		const char *rest;
		int ascii = isascii((unsigned char)verbs[i].word[0]);

		n = strlen(verbs[i].word);
		if ((ascii ? strncasecmp(line, verbs[i].word, n) :
		    strncmp(line, verbs[i].word, n)) != 0)
			continue;
		rest = line + n;
		/*
		 * An English verb must end at a blank; a Japanese one may run
		 * straight into its argument ("登録山田太郎").
		 */
		if (*rest != '\0' && *rest != ' ' && *rest != '\t' && ascii)
			continue;
		while (*rest == ' ' || *rest == '\t')
			rest++;
		c->verb = verbs[i].verb;
		c->word = xstrndup(line, n);
		c->line = xstrdup(line);
		if (verbs[i].implied) {
			/* "参加 E12 +2" means "rsvp E12 yes +2". */
			struct buf b = BUF_INIT;
			const char *sp = strpbrk(rest, " \t");

			if (sp) {
				buf_add(&b, rest, (size_t)(sp - rest));
				buf_printf(&b, " %s%s", verbs[i].implied, sp);
			} else
				buf_printf(&b, "%s %s", rest,
				    verbs[i].implied);
			c->args = buf_release(&b);
		} else
			c->args = xstrdup(rest);
		if (c->verb == CMD_WHO && *c->args != '\0' &&
		    strcmp(c->word, "名簿") == 0)
			c->verb = CMD_ROSTER;
		return 1;
	}
	return 0;
}

static int
command_add(struct command_list *cl, struct command *c)
{
	for (size_t i = 0; i < cl->n; i++)
		if (cl->v[i].verb == c->verb &&
		    strcmp(cl->v[i].args, c->args) == 0) {
			free(c->line);
			free(c->args);
			free(c->word);
			return 0;
		}
	cl->v = xrealloc(cl->v, (cl->n + 1) * sizeof(*cl->v));
	cl->v[cl->n++] = *c;
	return 1;
}

/*
 * Read the commands of a mail from its decoded Subject and text (either
 * may be NULL).  Returns the number of commands found.
 */
int
command_parse(const char *subject, const char *body, struct command_list *cl)
{
	struct command c;
	int misses = 0;

	cl->v = NULL;
	cl->n = 0;
	if (subject && *subject) {
		char *line = command_normalise(subject, strlen(subject));

		if (command_line(command_strip_reply(line), &c))
			command_add(cl, &c);
		free(line);
	}
	while (body && *body && cl->n < COMMAND_MAX) {
		const char *eol = strchr(body, '\n');
		size_t n = eol ? (size_t)(eol - body) : strlen(body);
		char *line;

		/* A signature starts with "-- "; clients often drop the blank. */
		if ((n >= 2 && strncmp(body, "--", 2) == 0 && (n == 2 ||
		    body[2] == ' ' || body[2] == '\r') &&
		    strspn(body + 2, " \r") >= n - 2))
			break;
		line = command_normalise(body, n);
		body = eol ? eol + 1 : body + n;
		if (*line == '\0') {
			free(line);
			continue;
		}
		if (command_stop(line)) {
			free(line);
			break;
		}
		if (command_line(line, &c))
			command_add(cl, &c);
		else if (++misses >= 3) {
			free(line);
			break;
		}
		free(line);
	}
	return (int)cl->n;
}

void
command_list_free(struct command_list *cl)
{
	for (size_t i = 0; i < cl->n; i++) {
		free(cl->v[i].line);
		free(cl->v[i].args);
		free(cl->v[i].word);
	}
	free(cl->v);
	cl->v = NULL;
	cl->n = 0;
}
