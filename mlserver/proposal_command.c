/*
 * proposal_command - proposal commands and tokens; see
 * proposal_command.h.
 *
 * Every command answers with one result in the command mail's reply;
 * what it changes is mailed to those concerned by proposal_mail.c in the
 * same transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "buf.h"
#include "command.h"
#include "config.h"
#include "log.h"
#include "message.h"
#include "process.h"
#include "proposal_command.h"
#include "proposal_mail.h"
#include "proposal_sched.h"
#include "proposal_text.h"
#include "proposals.h"
#include "request.h"
#include "store.h"
#include "template.h"
#include "token.h"
#include "xmalloc.h"

#define PCMD_LIST_MAX	100	/* proposals shown by "proposals" */

/* The words of "answer REF STATE", and what each records. */
static const struct {
	const char		*word;
	const char		*state;
	enum proposal_action	 action;
} answer_words[] = {
	{ "answered",		"answered",	PROPOSAL_ANSWER },
	{ "回答済み",		"answered",	PROPOSAL_ANSWER },
	{ "回答",		"answered",	PROPOSAL_ANSWER },
	{ "rejected",		"rejected",	PROPOSAL_DECLINE },
	{ "不採用",		"rejected",	PROPOSAL_DECLINE },
	{ "in_progress",	"in_progress",	PROPOSAL_NOTE },
	{ "in-progress",	"in_progress",	PROPOSAL_NOTE },
	{ "対応中",		"in_progress",	PROPOSAL_NOTE },
	{ "検討中",		"in_progress",	PROPOSAL_NOTE },
};

struct pcmd {
	struct request		*s;
	const struct command	*c;
	struct proposal_vars	 pv;
	struct proposal		 p;
	int			 loaded;
	unsigned		 roles;
};

static int	 pcmd_result(struct pcmd *, const char *);
static int	 pcmd_load(struct pcmd *, const char *, const char *);
static int	 pcmd_visible(const struct pcmd *);
static void	 pcmd_done(struct pcmd *);
static int	 pcmd_refusal(struct pcmd *, enum proposal_refusal);
static int	 pcmd_list(struct request *, const struct command *);
static int	 pcmd_show(struct request *, const struct command *);
static int	 pcmd_history_line(const struct proposal_event *, void *);
static int	 pcmd_comment_line(const struct proposal_comment *, void *);
static int	 pcmd_act(struct request *, const struct command *,
		    enum proposal_action);
static int	 pcmd_transition(struct pcmd *, enum proposal_action,
		    const char *);
static int	 pcmd_answer(struct request *, const struct command *);
static int	 pcmd_comment_token(struct request *, const struct command *,
		    const struct token_rec *);
static const char *pcmd_word(const char *, struct buf *);

struct pcmd_lines {
	const struct config	*cf;
	const char		*lang;
	struct buf		 out;
	int			 n;
};

/* Append one result, rendered with the proposal's variables. */
static int
pcmd_result(struct pcmd *pc, const char *tmpl)
{
	struct request *s = pc->s;
	struct buf out = BUF_INIT;

	if (template_render(s->ctx->cf, s->list->language, tmpl, pc->pv.v,
	    pc->pv.n, &out) != 0) {
		buf_free(&out);
		return -1;
	}
	if (s->results.len)
		buf_addc(&s->results, '\n');
	if (pc->c)
		buf_printf(&s->results, "> %s\n", pc->c->line);
	buf_add(&s->results, out.data, out.len);
	buf_free(&out);
	return 0;
}

/* The first blank-separated word of s into b; returns the rest. */
static const char *
pcmd_word(const char *s, struct buf *b)
{
	size_t n;

	buf_reset(b);
	while (*s == ' ' || *s == '\t')
		s++;
	n = strcspn(s, " \t");
	buf_add(b, s, n);
	s += n;
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/*
 * Load the proposal named by ref for the person asking.  0 when loaded;
 * 1 when a result already says why not (usage, unknown); -1 on error.
 */
static int
pcmd_load(struct pcmd *pc, const char *ref, const char *usage)
{
	struct mail_ctx *ctx = pc->s->ctx;
	char canon[PROPOSAL_REF_MAX];
	int rc;

	proposal_vars_init(&pc->pv, ctx->cf, pc->s->list);
	proposal_vars_set(&pc->pv, "address", ctx->who);
	proposal_vars_set(&pc->pv, "ref", ref);
	proposal_vars_set(&pc->pv, "usage", usage);
	if (proposal_ref_parse(ref, canon) != 0)
		return pcmd_result(pc, "proposal-usage") == 0 ? 1 : -1;
	if ((rc = proposal_get(ctx->st, canon, &pc->p)) < 0)
		return -1;
	if (rc == 0)
		return pcmd_result(pc, "proposal-unknown") == 0 ? 1 : -1;
	pc->loaded = 1;
	if (proposal_roles(ctx->cf, ctx->st, &pc->p, ctx->who,
	    &pc->roles) != 0)
		return -1;
	proposal_vars_proposal(&pc->pv, ctx->cf, pc->s->list, &pc->p);
	return 0;
}

/*
 * Whether the loaded proposal's text may be shown to the person asking:
 * one never approved only to its proposer and its moderators.
 */
static int
pcmd_visible(const struct pcmd *pc)
{
	return pc->p.opened != 0 || (pc->roles & (PROPOSAL_ROLE_PROPOSER |
	    PROPOSAL_ROLE_MODERATOR));
}

static void
pcmd_done(struct pcmd *pc)
{
	if (pc->loaded)
		proposal_clear(&pc->p);
	proposal_vars_free(&pc->pv);
}

static int
pcmd_refusal(struct pcmd *pc, enum proposal_refusal why)
{
	static const char *const tmpl[] = {
		[PROPOSAL_NO_STATE] = "proposal-refused-state",
		[PROPOSAL_NO_MODERATOR] = "moderators-only",
		[PROPOSAL_NO_MEMBER] = "members-only",
		[PROPOSAL_NO_PROPOSER] = "proposal-refused-proposer",
		[PROPOSAL_NO_OWN] = "proposal-refused-own",
	};

	log_info("%s: %s: %s by <%s> refused (%s)", pc->s->ctx->id,
	    pc->p.ref, pc->c ? pc->c->word : "token", pc->s->ctx->who,
	    tmpl[why]);
	return pcmd_result(pc, tmpl[why]);
}

/* ------------------------------------------------------------ reading */

/* "proposals": the approved proposals of the list's scope, newest first. */
static int
pcmd_list(struct request *s, const struct command *c)
{
	struct pcmd pc;
	struct pcmd_lines ln;
	struct proposal_vars item;
	sqlite3_stmt *st;
	char n[32];
	int rc;

	memset(&pc, 0, sizeof(pc));
	pc.s = s;
	pc.c = c;
	proposal_vars_init(&pc.pv, s->ctx->cf, s->list);
	memset(&ln, 0, sizeof(ln));
	if (sqlite3_prepare_v2(s->ctx->st->db, "SELECT p.ref, p.state, "
	    "p.title, (SELECT count(*) FROM proposal_supporters x WHERE "
	    "x.ref = p.ref), p.list FROM proposals p JOIN lists l ON "
	    "l.name = p.list JOIN lists w ON w.name = ?1 WHERE p.opened > 0 "
	    "AND " PROPOSALS_SCOPE_SQL " ORDER BY p.year DESC, p.seq DESC",
	    -1, &st, NULL) != SQLITE_OK) {
		store_log_error(s->ctx->st, "proposals");
		pcmd_done(&pc);
		return -1;
	}
	sqlite3_bind_text(st, 1, s->list->name, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && ln.n < PCMD_LIST_MAX) {
		const struct list *pl = config_list(s->ctx->cf,
		    (const char *)sqlite3_column_text(st, 4));
		struct buf label = BUF_INIT;

		proposal_vars_init(&item, s->ctx->cf, s->list);
		proposal_vars_set(&item, "ref",
		    (const char *)sqlite3_column_text(st, 0));
		proposal_label(&label, s->ctx->cf, s->list->language,
		    (const char *)sqlite3_column_text(st, 1));
		proposal_vars_set(&item, "state", buf_cstr(&label));
		proposal_vars_set(&item, "title",
		    (const char *)sqlite3_column_text(st, 2));
		proposal_vars_set(&item, "supporters",
		    (const char *)sqlite3_column_text(st, 3));
		proposal_vars_set(&item, "chapter", pl ? pl->description :
		    (const char *)sqlite3_column_text(st, 4));
		template_render(s->ctx->cf, s->list->language,
		    "proposal-list-item", item.v, item.n, &ln.out);
		proposal_vars_free(&item);
		buf_free(&label);
		ln.n++;
	}
	sqlite3_finalize(st);
	snprintf(n, sizeof(n), "%d", ln.n);
	proposal_vars_set(&pc.pv, "count", n);
	proposal_vars_set(&pc.pv, "items", buf_cstr(&ln.out));
	rc = pcmd_result(&pc, ln.n ? "proposal-list" : "proposal-list-none");
	buf_free(&ln.out);
	pcmd_done(&pc);
	return rc;
}

static int
pcmd_history_line(const struct proposal_event *e, void *arg)
{
	struct pcmd_lines *ln = arg;
	struct buf key = BUF_INIT;
	const char *note = e->note ? e->note : "";
	const struct list *by;
	size_t n;

	/* "forwarded" notes the list that did it: show its name. */
	if (strcmp(e->event, "forwarded") == 0 &&
	    (by = config_list(ln->cf, note)) != NULL)
		note = by->description;
	n = strcspn(note, "\n");

	buf_adds(&ln->out, "  ");
	proposal_sched_local(&ln->out, ln->cf->timezone, (time_t)e->ts, 1);
	buf_addc(&ln->out, ' ');
	buf_printf(&key, "event-%s", e->event);
	proposal_label(&ln->out, ln->cf, ln->lang, buf_cstr(&key));
	if (n > 0) {
		/* The first line of a note; the answer is shown in full. */
		buf_adds(&ln->out, ": ");
		buf_add(&ln->out, note, n > 120 ? 120 : n);
		if (n > 120 || note[n] == '\n')
			buf_adds(&ln->out, " ...");
	}
	buf_addc(&ln->out, '\n');
	buf_free(&key);
	return 0;
}

static int
pcmd_comment_line(const struct proposal_comment *cm, void *arg)
{
	struct pcmd_lines *ln = arg;
	struct proposal_vars v;
	struct buf b = BUF_INIT;
	char n[32];

	memset(&v, 0, sizeof(v));
	snprintf(n, sizeof(n), "%d", ++ln->n);
	proposal_vars_set(&v, "n", n);
	proposal_sched_local(&b, ln->cf->timezone, (time_t)cm->ts, 1);
	proposal_vars_set(&v, "date", buf_cstr(&b));
	proposal_vars_set(&v, "author", proposal_display_name(ln->cf,
	    ln->lang, cm->name, &b));
	proposal_vars_set(&v, "comment_text", cm->body);
	template_render(ln->cf, ln->lang, "proposal-summary-comment", v.v, v.n,
	    &ln->out);
	proposal_vars_free(&v);
	buf_free(&b);
	return 0;
}

/* "proposal REF": the whole record. */
static int
pcmd_show(struct request *s, const struct command *c)
{
	struct mail_ctx *ctx = s->ctx;
	struct pcmd pc;
	struct pcmd_lines hist, com;
	struct buf ref = BUF_INIT, ans = BUF_INIT;
	int rc;

	memset(&pc, 0, sizeof(pc));
	pc.s = s;
	pc.c = c;
	pcmd_word(c->args, &ref);
	if ((rc = pcmd_load(&pc, buf_cstr(&ref), "proposal P-2026-0001")) != 0)
		goto done;
	if (!pcmd_visible(&pc)) {
		rc = pcmd_result(&pc, "proposal-unknown");
		goto done;
	}
	memset(&hist, 0, sizeof(hist));
	hist.cf = ctx->cf;
	hist.lang = s->list->language;
	com = hist;
	if (proposal_history_foreach(ctx->st, pc.p.ref, pcmd_history_line,
	    &hist) != 0 || proposal_comments_foreach(ctx->st, pc.p.ref,
	    pcmd_comment_line, &com) != 0) {
		buf_free(&hist.out);
		buf_free(&com.out);
		rc = -1;
		goto done;
	}
	if (*pc.p.answer) {
		int ja = strcmp(s->list->language, "ja") == 0;

		proposal_label(&ans, ctx->cf, s->list->language,
		    pc.p.answer_state);
		buf_adds(&ans, ja ? "（" : " (");
		proposal_sched_local(&ans, ctx->cf->timezone,
		    (time_t)pc.p.answered, 0);
		buf_printf(&ans, "%s\n%s\n", ja ? "）" : ")", pc.p.answer);
	} else {
		proposal_label(&ans, ctx->cf, s->list->language, "none");
		buf_addc(&ans, '\n');
	}
	if (com.n == 0) {
		proposal_label(&com.out, ctx->cf, s->list->language, "none");
		buf_addc(&com.out, '\n');
	}
	proposal_vars_set(&pc.pv, "history", buf_cstr(&hist.out));
	proposal_vars_set(&pc.pv, "comment_list", buf_cstr(&com.out));
	proposal_vars_set(&pc.pv, "answer_block", buf_cstr(&ans));
	rc = pcmd_result(&pc, "proposal-record");
	buf_free(&hist.out);
	buf_free(&com.out);
done:
	pcmd_done(&pc);
	buf_free(&ref);
	buf_free(&ans);
	return rc < 0 ? -1 : 0;
}

/* ------------------------------------------------------------ changes */

/*
 * Do action on the loaded proposal for the person asking (pc->roles),
 * with its mail; note is a rejection's reason.  Adds the result.
 */
static int
pcmd_transition(struct pcmd *pc, enum proposal_action action,
    const char *note)
{
	struct mail_ctx *ctx = pc->s->ctx;
	enum proposal_state next;
	enum proposal_refusal why;
	long long now = (long long)time(NULL);
	char n[32];
	int rc;

	if ((why = proposal_may(pc->p.state, action, pc->roles, &next)) !=
	    PROPOSAL_OK)
		return pcmd_refusal(pc, why);
	switch (action) {
	case PROPOSAL_SUPPORT:
		if ((rc = proposal_support(ctx->st, pc->p.ref, ctx->who,
		    now)) < 0)
			return -1;
		if (rc == 0)
			return pcmd_result(pc, "proposal-already-supported");
		snprintf(n, sizeof(n), "%lld", pc->p.supporters + 1);
		proposal_vars_set(&pc->pv, "supporters", n);
		log_info("%s: %s: supported by <%s>", ctx->id, pc->p.ref,
		    ctx->who);
		return pcmd_result(pc, "proposal-supported");
	case PROPOSAL_WITHDRAW:
		if (proposal_set_state(ctx->st, &pc->p, next, now, "") != 0)
			return -1;
		log_info("%s: %s: withdrawn by <%s>", ctx->id, pc->p.ref,
		    ctx->who);
		return pcmd_result(pc, "proposal-withdrawn");
	case PROPOSAL_APPROVE:
		if (proposal_set_state(ctx->st, &pc->p, next, now, "") != 0 ||
		    proposal_mail_opened(ctx->cf, ctx->st, &pc->p) != 0)
			return -1;
		log_info("%s: %s: approved by <%s>", ctx->id, pc->p.ref,
		    ctx->who);
		return pcmd_result(pc, "proposal-approved");
	case PROPOSAL_REJECT:
		if (proposal_set_state(ctx->st, &pc->p, next, now, note) != 0 ||
		    proposal_mail_not_approved(ctx->cf, ctx->st, &pc->p,
		    note) != 0)
			return -1;
		log_info("%s: %s: not approved by <%s>", ctx->id, pc->p.ref,
		    ctx->who);
		return pcmd_result(pc, "proposal-rejected");
	default:
		return -1;
	}
}

/* support, withdraw, approve, reject [REASON]. */
static int
pcmd_act(struct request *s, const struct command *c,
    enum proposal_action action)
{
	struct pcmd pc;
	struct buf ref = BUF_INIT, usage = BUF_INIT;
	const char *rest;
	int rc;

	memset(&pc, 0, sizeof(pc));
	pc.s = s;
	pc.c = c;
	rest = pcmd_word(c->args, &ref);
	buf_printf(&usage, "%s P-2026-0001%s", c->word,
	    action == PROPOSAL_REJECT ? " ..." : "");
	if ((rc = pcmd_load(&pc, buf_cstr(&ref), buf_cstr(&usage))) == 0)
		rc = pcmd_transition(&pc, action, rest);
	pcmd_done(&pc);
	buf_free(&ref);
	buf_free(&usage);
	return rc < 0 ? -1 : 0;
}

/*
 * answer REF STATE, the institution's answer on the lines that follow.
 * It takes the rest of the mail, so no command is read after it.
 */
static int
pcmd_answer(struct request *s, const struct command *c)
{
	struct mail_ctx *ctx = s->ctx;
	struct pcmd pc;
	struct buf ref = BUF_INIT, word = BUF_INIT, b = BUF_INIT;
	enum proposal_refusal why;
	size_t i, nw = sizeof(answer_words) / sizeof(answer_words[0]);
	char *text = NULL, n[32];
	int rc, told;

	s->stop = 1;
	memset(&pc, 0, sizeof(pc));
	pc.s = s;
	pc.c = c;
	pcmd_word(pcmd_word(c->args, &ref), &word);
	if ((rc = pcmd_load(&pc, buf_cstr(&ref),
	    "answer P-2026-0001 answered")) != 0)
		goto done;
	for (i = 0; i < nw; i++)
		if (strcasecmp(buf_cstr(&word), answer_words[i].word) == 0)
			break;
	text = proposal_text_after(ctx->msg->text ? ctx->msg->text : "",
	    c->line);
	if (!(pc.roles & PROPOSAL_ROLE_MODERATOR)) {
		rc = pcmd_refusal(&pc, PROPOSAL_NO_MODERATOR);
		goto done;
	}
	if (i == nw || *text == '\0') {
		rc = pcmd_result(&pc, "proposal-answer-usage");
		goto done;
	}
	if ((why = proposal_may(pc.p.state, answer_words[i].action, pc.roles,
	    NULL)) != PROPOSAL_OK) {
		rc = pcmd_refusal(&pc, why);
		goto done;
	}
	if (proposal_record_answer(ctx->st, &pc.p, answer_words[i].state,
	    text, (long long)time(NULL)) != 0 ||
	    proposal_mail_answered(ctx->cf, ctx->st, &pc.p, &told) != 0) {
		rc = -1;
		goto done;
	}
	log_info("%s: %s: answer \"%s\" recorded by <%s>; %d supporters told",
	    ctx->id, pc.p.ref, answer_words[i].state, ctx->who, told);
	proposal_label(&b, ctx->cf, s->list->language, answer_words[i].state);
	proposal_vars_set(&pc.pv, "answer_state", buf_cstr(&b));
	snprintf(n, sizeof(n), "%d", told);
	proposal_vars_set(&pc.pv, "supporters", n);
	rc = pcmd_result(&pc, "proposal-answer-recorded");
done:
	pcmd_done(&pc);
	free(text);
	buf_free(&ref);
	buf_free(&word);
	buf_free(&b);
	return rc < 0 ? -1 : 0;
}

/* The proposal commands, from request_run(). */
int
proposal_command(struct request *s, const struct command *c)
{
	switch (c->verb) {
	case CMD_PROPOSALS:
		return pcmd_list(s, c);
	case CMD_PROPOSAL:
		return pcmd_show(s, c);
	case CMD_SUPPORT:
		return pcmd_act(s, c, PROPOSAL_SUPPORT);
	case CMD_WITHDRAW:
		return pcmd_act(s, c, PROPOSAL_WITHDRAW);
	case CMD_APPROVE:
		return pcmd_act(s, c, PROPOSAL_APPROVE);
	case CMD_REJECT:
		return pcmd_act(s, c, PROPOSAL_REJECT);
	case CMD_ANSWER:
		return pcmd_answer(s, c);
	default:
		return request_result(s, "unavailable", c);
	}
}

/* ------------------------------------------------------------ tokens */

/* A moderator's reply to a held comment's notice. */
static int
pcmd_comment_token(struct request *s, const struct command *c,
    const struct token_rec *rec)
{
	struct mail_ctx *ctx = s->ctx;
	struct proposal_comment cm;
	struct pcmd pc;
	int approve = strcmp(rec->action, "proposal-comment-approve") == 0;
	int rc, found;

	memset(&pc, 0, sizeof(pc));
	pc.s = s;
	pc.c = c;
	memset(&cm, 0, sizeof(cm));
	if ((found = proposal_comment_get(ctx->st, atoll(rec->arg), &cm)) < 0)
		return -1;
	if (found == 0) {
		rc = request_result(s, "token-invalid", c);
		goto done;
	}
	if ((rc = pcmd_load(&pc, cm.ref, "")) != 0)
		goto done;
	if (cm.held != 1) {
		/* Another moderator has decided already. */
		rc = pcmd_result(&pc, "proposal-comment-decided");
		goto done;
	}
	if (proposal_comment_set(ctx->st, cm.id, approve ? 0 : 2) != 0 ||
	    (approve && proposal_mail_comment_out(ctx->cf, ctx->st, &pc.p,
	    &cm) != 0)) {
		rc = -1;
		goto done;
	}
	log_info("%s: %s: comment %lld %s by <%s>", ctx->id, pc.p.ref, cm.id,
	    approve ? "approved" : "refused", ctx->who);
	rc = pcmd_result(&pc, approve ? "proposal-comment-approved" :
	    "proposal-comment-rejected");
done:
	proposal_comment_clear(&cm);
	pcmd_done(&pc);
	return rc < 0 ? -1 : 0;
}

/*
 * A proposal token used (from request_confirm): the moderator the
 * approval request went to approves or rejects by replying to it.  A
 * rejection's reason is the first line of the reply.
 */
int
proposal_command_confirm(struct request *s, const struct command *c,
    const struct token_rec *rec)
{
	struct mail_ctx *ctx = s->ctx;
	struct pcmd pc;
	enum proposal_action action;
	char *reason = NULL;
	int rc;

	if (strncmp(rec->action, "proposal-comment-", 17) == 0)
		return pcmd_comment_token(s, c, rec);
	if (strcmp(rec->action, "proposal-approve") == 0)
		action = PROPOSAL_APPROVE;
	else if (strcmp(rec->action, "proposal-reject") == 0)
		action = PROPOSAL_REJECT;
	else
		return request_result(s, "token-invalid", c);
	memset(&pc, 0, sizeof(pc));
	pc.s = s;
	pc.c = c;
	if ((rc = pcmd_load(&pc, rec->arg, "")) == 0) {
		/* The token's moderator, who may have left the post since. */
		pc.roles &= ~PROPOSAL_ROLE_MODERATOR;
		if (proposal_is_moderator(ctx->cf, pc.p.list, rec->addr))
			pc.roles |= PROPOSAL_ROLE_MODERATOR;
		if (action == PROPOSAL_REJECT)
			reason = proposal_first_line(ctx->msg->text);
		rc = pcmd_transition(&pc, action, reason ? reason : "");
	}
	free(reason);
	pcmd_done(&pc);
	return rc < 0 ? -1 : 0;
}
