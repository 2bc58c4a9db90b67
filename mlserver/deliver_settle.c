/*
 * deliver_settle - what became of each transaction of a session: the
 * relay's replies, as libESMTP kept them, turned into one result per
 * recipient (deliver.h), and the one log line per transaction.
 *
 * Apart from deliver.c, which drives the session, because this is where
 * the rules live that decide between sent, deferred and bounced: a
 * status counts only when complete, a lost connection is never taken
 * for delivery, and a session that went on without AUTH has its
 * refusals taken as deferrals (deliver_auth.c says why).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ssl.h>

#include <libesmtp.h>

#include "buf.h"
#include "config.h"
#include "deliver.h"
#include "deliver_private.h"
#include "log.h"
#include "xmalloc.h"

static char	*deliver_status_text(const smtp_status_t *);
static void	 deliver_add_error(struct buf *);
static void	 deliver_settle_lost(struct deliver_ctx *,
		    struct deliver_msg *, const char *);
static char	*deliver_session_reason(struct deliver_ctx *);
static const char *deliver_auth_reason(struct deliver_ctx *);
static void	 deliver_unauthenticated(struct deliver_ctx *,
		    struct deliver_txn *);
static void	 deliver_log(struct deliver_ctx *, const struct deliver_txn *);

/*
 * The reply class (2, 4, 5...) of a status, or 0 when no complete reply
 * was read.  libESMTP stores the code as soon as it has parsed it, even
 * when the line then proves malformed or the connection drops (and in
 * BDAT mode still reports MESSAGESENT); the text is set only once the
 * whole reply was read.
 */
int
deliver_class(const smtp_status_t *st)
{
	if (st == NULL || st->code < 100 || st->code > 599 ||
	    st->text == NULL)
		return 0;
	return st->code / 100;
}

/*
 * "550 5.1.1 text" from a libESMTP status (which keeps the code, the
 * enhanced code and the text apart), on one printable line; NULL when
 * there was no reply.
 */
static char *
deliver_status_text(const smtp_status_t *st)
{
	struct buf b = BUF_INIT;
	const unsigned char *p;
	int space = 1;		/* a separator is due before the next word */

	if (deliver_class(st) == 0)
		return NULL;
	buf_printf(&b, "%d", st->code);
	if (st->enh_class != 0)
		buf_printf(&b, " %d.%d.%d", st->enh_class, st->enh_subject,
		    st->enh_detail);
	for (p = (const unsigned char *)(st->text ? st->text : ""); *p; p++) {
		if (*p == '\r' || *p == '\n' || *p == ' ' || *p == '\t') {
			space = 1;
			continue;
		}
		if (space)
			buf_addc(&b, ' ');
		space = 0;
		buf_addc(&b, *p < 0x20 || *p == 0x7f ? '?' : *p);
	}
	return buf_release(&b);
}

/* Append ": libESMTP's error" when libESMTP has one for this session. */
static void
deliver_add_error(struct buf *b)
{
	char ebuf[256];
	const char *e;
	int err = smtp_errno();

	if (err == 0 || err == SMTP_ERR_INVAL)
		return;
	if ((e = smtp_strerror(err, ebuf, sizeof(ebuf))) != NULL)
		buf_printf(b, ": %s", e);
}

void
deliver_set(struct deliver_rcpt *r, enum deliver_state state, char *reply)
{
	free(r->reply);
	r->state = state;
	r->reply = reply;
}

/* MAIL FROM was refused: the transaction ends here for everyone. */
void
deliver_settle_mail(struct deliver_ctx *ctx, struct deliver_msg *m)
{
	const smtp_status_t *st = smtp_reverse_path_status(m->msg);
	struct deliver_txn *txn = m->txn;
	enum deliver_state state;
	char *text;
	size_t i;

	state = deliver_class(st) == 5 ? DELIVER_FAILED : DELIVER_DEFERRED;
	text = deliver_status_text(st);
	for (i = 0; i < txn->nrcpts; i++)
		deliver_set(&txn->rcpts[i], state, xstrdup(text));
	free(text);
	deliver_finish(ctx, m);
}

/* The relay gave its final answer for the message. */
void
deliver_settle_message(struct deliver_ctx *ctx, struct deliver_msg *m)
{
	const smtp_status_t *ms = smtp_message_transfer_status(m->msg);
	const smtp_status_t *rs;
	struct deliver_txn *txn = m->txn;
	struct buf b = BUF_INIT;
	char *mtext, *rtext;
	int mclass = deliver_class(ms);
	size_t i;

	mtext = deliver_status_text(ms);
	for (i = 0; i < txn->nrcpts; i++) {
		rs = smtp_recipient_status(m->rcpts[i]);
		switch (deliver_class(rs)) {
		case 5:
			deliver_set(&txn->rcpts[i], DELIVER_FAILED,
			    deliver_status_text(rs));
			continue;
		case 4:
			deliver_set(&txn->rcpts[i], DELIVER_DEFERRED,
			    deliver_status_text(rs));
			continue;
		case 2:
			break;
		default:
			rtext = deliver_status_text(rs);
			buf_reset(&b);
			buf_printf(&b, "%s reply from %s to RCPT TO%s%s",
			    rtext ? "unexpected" : "no", ctx->relay,
			    rtext ? ": " : "", rtext ? rtext : "");
			free(rtext);
			deliver_set(&txn->rcpts[i], DELIVER_DEFERRED,
			    xstrdup(buf_cstr(&b)));
			continue;
		}
		if (mclass == 2 && m->data_started)
			deliver_set(&txn->rcpts[i], DELIVER_SENT,
			    xstrdup(mtext));
		else if (mclass == 5)
			deliver_set(&txn->rcpts[i], DELIVER_FAILED,
			    xstrdup(mtext));
		else if (mclass == 4)
			deliver_set(&txn->rcpts[i], DELIVER_DEFERRED,
			    xstrdup(mtext));
		else if (mtext != NULL) {
			buf_reset(&b);
			buf_printf(&b, "unexpected reply from %s to the "
			    "message: %s", ctx->relay, mtext);
			deliver_set(&txn->rcpts[i], DELIVER_DEFERRED,
			    xstrdup(buf_cstr(&b)));
		} else {
			/* BDAT mode reports a lost connection this way. */
			buf_reset(&b);
			buf_printf(&b, "lost connection with %s while "
			    "sending the message", ctx->relay);
			deliver_add_error(&b);
			deliver_set(&txn->rcpts[i], DELIVER_DEFERRED,
			    xstrdup(buf_cstr(&b)));
		}
	}
	free(mtext);
	buf_free(&b);
	deliver_finish(ctx, m);
}

/*
 * The session ended with this transaction unsettled.  Recipients the
 * relay refused (5xx) or put off (4xx) keep that answer; for the rest we
 * cannot know whether the relay took the message: DEFERRED.
 */
static void
deliver_settle_lost(struct deliver_ctx *ctx, struct deliver_msg *m,
    const char *reason)
{
	const smtp_status_t *rs;
	struct deliver_txn *txn = m->txn;
	size_t i;

	for (i = 0; i < txn->nrcpts; i++) {
		rs = smtp_recipient_status(m->rcpts[i]);
		if (deliver_class(rs) == 5)
			deliver_set(&txn->rcpts[i], DELIVER_FAILED,
			    deliver_status_text(rs));
		else if (deliver_class(rs) == 4)
			deliver_set(&txn->rcpts[i], DELIVER_DEFERRED,
			    deliver_status_text(rs));
		else
			deliver_set(&txn->rcpts[i], DELIVER_DEFERRED,
			    xstrdup(reason));
	}
	deliver_finish(ctx, m);
}

/* After smtp_start_session(): settle what the session did not. */
void
deliver_settle_left(struct deliver_ctx *ctx)
{
	struct deliver_msg *m;
	struct buf b = BUF_INIT;
	char *session_reason = NULL;
	size_t i;

	for (i = 0; i < ctx->nmsgs; i++) {
		m = &ctx->msgs[i];
		if (m->finished || m->msg == NULL)
			continue;
		buf_reset(&b);
		if (m->data_started)
			buf_printf(&b, "lost connection with %s while "
			    "sending the message", ctx->relay);
		else if (deliver_class(smtp_reverse_path_status(m->msg)) == 2)
			buf_printf(&b, "lost connection with %s after MAIL "
			    "FROM", ctx->relay);
		else if (ctx->reached)
			buf_printf(&b, "session with %s ended before this "
			    "transaction", ctx->relay);
		else {
			if (session_reason == NULL)
				session_reason = deliver_session_reason(ctx);
			deliver_settle_lost(ctx, m, session_reason);
			continue;
		}
		deliver_add_error(&b);
		deliver_settle_lost(ctx, m, buf_cstr(&b));
	}
	free(session_reason);
	buf_free(&b);
}

/* Why no transaction got anywhere. */
static char *
deliver_session_reason(struct deliver_ctx *ctx)
{
	struct buf b = BUF_INIT;
	char c = ctx->last_reply[0];

	if (ctx->reason[0] != '\0')
		buf_adds(&b, ctx->reason);
	else if (ctx->auth.state == DELIVER_AUTH_FAILED)
		buf_adds(&b, deliver_auth_reason(ctx));
	else if (c == '4' || c == '5')
		buf_printf(&b, "%s said: %s", ctx->relay, ctx->last_reply);
	else {
		if (!ctx->connected)
			buf_printf(&b, "connect to %s", ctx->relay);
		else if (ctx->starttls && !ctx->tls_ok)
			buf_printf(&b, "TLS with %s failed", ctx->relay);
		else
			buf_printf(&b, "lost connection with %s before any "
			    "transaction", ctx->relay);
		deliver_add_error(&b);
		if (!ctx->connected && b.len == strlen("connect to ") +
		    strlen(ctx->relay))
			buf_adds(&b, " failed");
	}
	return buf_release(&b);
}

/* A transaction is settled: log it and tell the caller, once. */
void
deliver_finish(struct deliver_ctx *ctx, struct deliver_msg *m)
{
	if (m->finished)
		return;
	m->finished = 1;
	if (ctx->reached && deliver_auth_failure(&ctx->auth) != NULL)
		deliver_unauthenticated(ctx, m->txn);
	deliver_log(ctx, m->txn);
	if (ctx->done != NULL)
		ctx->done(m->txn, ctx->arg);
}

/*
 * QUEUEID: to=<N recipients> relay=HOST:PORT status=sent (reply), with
 * the other outcomes counted behind: the first status word is the best
 * one any recipient had.
 */
static void
deliver_log(struct deliver_ctx *ctx, const struct deliver_txn *txn)
{
	static const char *const words[] = {
		[DELIVER_SENT] = "sent",
		[DELIVER_DEFERRED] = "deferred",
		[DELIVER_FAILED] = "bounced",
	};
	static const enum deliver_state order[] = {
		DELIVER_SENT, DELIVER_DEFERRED, DELIVER_FAILED
	};
	size_t count[DELIVER_FAILED + 1] = { 0 };
	const char *first[DELIVER_FAILED + 1] = { NULL };
	struct buf b = BUF_INIT;
	enum deliver_state s;
	size_t i;
	int lead = 1;

	if (txn->nrcpts == 0)
		return;
	for (i = 0; i < txn->nrcpts; i++) {
		s = txn->rcpts[i].state;
		if (s == DELIVER_PENDING)
			s = DELIVER_DEFERRED;	/* cannot happen */
		if (count[s]++ == 0)
			first[s] = txn->rcpts[i].reply;
	}
	if (txn->nrcpts == 1)
		buf_printf(&b, "to=<%s>", txn->rcpts[0].addr);
	else
		buf_printf(&b, "to=<%zu recipients>", txn->nrcpts);
	buf_printf(&b, " relay=%s", ctx->relay);
	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		s = order[i];
		if (count[s] == 0)
			continue;
		if (lead)
			buf_printf(&b, " status=%s (%s)", words[s],
			    first[s] ? first[s] : "");
		else
			buf_printf(&b, ", %zu %s (%s)", count[s], words[s],
			    first[s] ? first[s] : "");
		lead = 0;
	}
	log_info("%s: %s", txn->id ? txn->id : "-", buf_cstr(&b));
	buf_free(&b);
}

/*
 * "relay HOST:PORT: authentication failed: 535 ...", logged once per
 * session, the first time it explains an outcome.
 */
static const char *
deliver_auth_reason(struct deliver_ctx *ctx)
{
	static const char fmt[] = "relay %s: authentication as %s failed: %s";
	const char *why = deliver_auth_failure(&ctx->auth);

	if (why == NULL)
		return "";
	if (!ctx->auth_logged) {
		ctx->auth_logged = 1;
		snprintf(ctx->auth_text, sizeof(ctx->auth_text), fmt,
		    ctx->relay, ctx->auth.user, why);
		log_warnx("%s", ctx->auth_text);
	}
	return ctx->auth_text;
}

/*
 * The session went on without AUTH (see deliver_auth.c): whatever the
 * relay refused, it refused an unauthenticated client, so every
 * recipient it did not take waits for a session that authenticates.
 */
static void
deliver_unauthenticated(struct deliver_ctx *ctx, struct deliver_txn *txn)
{
	const char *why = deliver_auth_reason(ctx);
	size_t i;

	for (i = 0; i < txn->nrcpts; i++)
		if (txn->rcpts[i].state != DELIVER_SENT)
			deliver_set(&txn->rcpts[i], DELIVER_DEFERRED,
			    xstrdup(why));
}
