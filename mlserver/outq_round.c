/*
 * outq_round - delivery rounds of the outbound queue (outq.h).
 *
 * A round builds one SMTP session of at most relay.max_transactions
 * transactions of at most relay.max_recipients recipients each (or
 * relay.sessions of them), taken from the oldest unfinished messages
 * first, and hands it to deliver.  deliver calls back after each
 * transaction; the results are committed in groups of about
 * relay.max_recipients recipients (outq_txn_done()), and whatever is left
 * when the round ends.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bounce.h"
#include "buf.h"
#include "config.h"
#include "deliver.h"
#include "log.h"
#include "outq.h"
#include "outq_body.h"
#include "outq_rate.h"
#include "store.h"
#include "xmalloc.h"

struct round_msg {
	char	*id;
	char	*sender;
	char	*list;
	int	 verp;		/* a transaction per recipient, own sender */
	char	*data;
	size_t	 len;
};

struct round {
	struct store		*st;
	const struct config	*cf;
	struct round_msg	*msgs;
	size_t			 nmsgs;
	struct deliver_txn	*txns;
	size_t			 ntxns;
	size_t			 nrcpts;	/* in all txns */
	size_t			 rcpt_max;	/* bounds a round's memory */
	char			**senders;	/* VERP senders, one per txn */
	pthread_mutex_t		 lock;		/* done[], next */
	pthread_mutex_t		 st_lock;	/* st, between sessions */
	size_t			*done;		/* txns answered, unrecorded */
	size_t			 ndone;
	size_t			 done_rcpts;	/* their recipients */
	time_t			 done_since;	/* when the first answered */
	size_t			 next;		/* first txn not yet taken */
	size_t			 slice;		/* txns a sender takes */
};

/* Answered but unrecorded results wait at most this long (seconds). */
#define OUTQ_RESULTS_WAIT	1

/* One of a round's parallel SMTP senders. */
struct round_session {
	pthread_t		 thread;
	struct round		*r;
};

/*
 * With relay.sessions above 1, each sender takes the round's
 * transactions a slice at a time, an SMTP session per slice, until none
 * is left: a sender slowed by the relay takes fewer, and the round does
 * not wait for one that drew a long share.
 */
#define OUTQ_SLICES_PER_SESSION	4
/* ... but no slice is smaller than this (a connection costs a TLS setup). */
#define OUTQ_SLICE_MIN		10

static int	 outq_fill(struct round *, struct round_msg *, size_t *);
static void	 outq_deliver(struct round *);
static void	*outq_session_main(void *);
static void	 outq_txn_done_locked(struct deliver_txn *, void *);
static void	 outq_txn_done(struct deliver_txn *, void *);
static int	 outq_answered(struct round *, struct deliver_txn *);
static void	 outq_record(struct round *);
static void	 outq_record_list(struct round *, const size_t *, size_t);
static int	 outq_record_txn(struct round *, struct deliver_txn *);
static int	 outq_finish(struct store *, const struct config *,
		    const char *);
static void	 round_free(struct round *);

/*
 * Add transactions for message m to the round until the session is full
 * or the message has no more due recipients.  *last carries the keyset
 * position between batches.  Returns 1 when the session is full, 0 when
 * the message is exhausted, -1 on error.
 */
static int
outq_fill(struct round *r, struct round_msg *m, size_t *ntxn_max)
{
	const struct relay_conf *rc = &r->cf->relay;
	int batch = m->verp ? 1 : rc->max_recipients;
	char *last = xstrdup("");
	int rv = 0;

	while (r->ntxns < *ntxn_max && r->nrcpts < r->rcpt_max) {
		sqlite3_stmt *s = store_stmt(r->st, "SELECT rcpt FROM outq "
		    "WHERE msg = ?1 AND state IN (0, 2) AND next_try <= ?2 "
		    "AND rcpt > ?3 ORDER BY rcpt LIMIT ?4");
		struct deliver_txn *t = &r->txns[r->ntxns];
		size_t n = 0;

		if (s == NULL) {
			rv = -1;
			break;
		}
		sqlite3_bind_text(s, 1, m->id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, (long long)time(NULL));
		sqlite3_bind_text(s, 3, last, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(s, 4, batch);
		t->rcpts = xcalloc((size_t)batch, sizeof(*t->rcpts));
		while (sqlite3_step(s) == SQLITE_ROW)
			t->rcpts[n++].addr = xstrdup((const char *)
			    sqlite3_column_text(s, 0));
		sqlite3_reset(s);
		if (n == 0) {
			free(t->rcpts);
			t->rcpts = NULL;
			break;
		}
		t->nrcpts = n;
		r->nrcpts += n;
		t->id = m->id;
		t->sender = m->sender;
		if (m->verp) {
			struct buf b = BUF_INIT;

			bounce_verp_encode(&b, m->list, r->cf->domain,
			    t->rcpts[0].addr);
			r->senders[r->ntxns] = buf_release(&b);
			t->sender = r->senders[r->ntxns];
		}
		t->data = m->data;
		t->len = m->len;
		/* An index, not a pointer: r->msgs moves as it grows. */
		t->arg = (void *)(uintptr_t)(m - r->msgs);
		free(last);
		last = xstrdup(t->rcpts[n - 1].addr);
		r->ntxns++;
		if (n < (size_t)batch && !m->verp)
			break;
	}
	if (rv == 0 && (r->ntxns >= *ntxn_max || r->nrcpts >= r->rcpt_max))
		rv = 1;
	free(last);
	return rv;
}

/*
 * Hand the round's transactions to the relay: in one SMTP session, or
 * over relay.sessions senders at once, which keeps a fast relay busy
 * while each session waits for its replies.  The results are gathered
 * and committed under the round's lock (the store is one SQLite
 * connection).  The price: a crash may resend up to one transaction per
 * session.
 */
static void
outq_deliver(struct round *r)
{
	size_t n = (size_t)r->cf->relay.sessions, i;
	struct round_session *ss;

	if (n > r->ntxns)
		n = r->ntxns;
	if (n <= 1) {
		deliver_session(&r->cf->relay, r->txns, r->ntxns,
		    outq_txn_done, r);
		return;
	}
	r->next = 0;
	r->slice = (r->ntxns + n * OUTQ_SLICES_PER_SESSION - 1) /
	    (n * OUTQ_SLICES_PER_SESSION);
	if (r->slice < OUTQ_SLICE_MIN)
		r->slice = (r->ntxns + n - 1) / n < OUTQ_SLICE_MIN ?
		    (r->ntxns + n - 1) / n : OUTQ_SLICE_MIN;
	ss = xcalloc(n, sizeof(*ss));
	for (i = 0; i < n; i++) {
		ss[i].r = r;
		if ((errno = pthread_create(&ss[i].thread, NULL,
		    outq_session_main, &ss[i])) != 0) {
			/* Go on with those started, or here alone. */
			log_warn("outq: cannot start an SMTP session thread");
			ss[i].r = NULL;
			if (i == 0)
				outq_session_main(&(struct round_session){
				    .r = r });
			break;
		}
	}
	for (i = 0; i < n; i++)
		if (ss[i].r != NULL)
			pthread_join(ss[i].thread, NULL);
	free(ss);
}

/* A sender: slice after slice of the round, a session each. */
static void *
outq_session_main(void *arg)
{
	struct round_session *s = arg;
	struct round *r = s->r;

	for (;;) {
		size_t first, n;

		pthread_mutex_lock(&r->lock);
		first = r->next;
		n = r->ntxns - first < r->slice ? r->ntxns - first : r->slice;
		r->next += n;
		pthread_mutex_unlock(&r->lock);
		if (n == 0)
			break;
		deliver_session(&r->cf->relay, r->txns + first, n,
		    outq_txn_done_locked, r);
	}
	return NULL;
}

/*
 * The same for a sender of several: the answered list under the round's
 * lock, the database under its own, so that the other senders go on
 * while one commits.
 */
static void
outq_txn_done_locked(struct deliver_txn *t, void *arg)
{
	struct round *r = arg;
	size_t *batch = NULL, n = 0;

	pthread_mutex_lock(&r->lock);
	if (outq_answered(r, t)) {
		n = r->ndone;
		batch = xcalloc(n, sizeof(*batch));
		memcpy(batch, r->done, n * sizeof(*batch));
		r->ndone = r->done_rcpts = 0;
	}
	pthread_mutex_unlock(&r->lock);
	if (batch == NULL)
		return;
	pthread_mutex_lock(&r->st_lock);
	outq_record_list(r, batch, n);
	pthread_mutex_unlock(&r->st_lock);
	free(batch);
}

/*
 * Called by deliver as soon as one transaction's outcome is known.  One
 * commit per transaction cost more than the transaction itself when each
 * has one recipient (VERP), so results are recorded in groups: once the
 * answered transactions hold relay.max_recipients recipients, or the
 * first of them waited OUTQ_RESULTS_WAIT.  A crash therefore resends
 * what was in flight plus fewer than max_recipients recipients already
 * answered: no more than one full transaction's worth.
 */
static void
outq_txn_done(struct deliver_txn *t, void *arg)
{
	struct round *r = arg;

	if (outq_answered(r, t))
		outq_record(r);
}

/* Note t as answered; 1 when the answered ones are due to be recorded. */
static int
outq_answered(struct round *r, struct deliver_txn *t)
{
	time_t now = time(NULL);

	if (r->ndone == 0)
		r->done_since = now;
	r->done[r->ndone++] = (size_t)(t - r->txns);
	r->done_rcpts += t->nrcpts;
	return r->done_rcpts >= (size_t)r->cf->relay.max_recipients ||
	    now - r->done_since >= OUTQ_RESULTS_WAIT;
}

/* Record every answered transaction (one sender, or after them all). */
static void
outq_record(struct round *r)
{
	outq_record_list(r, r->done, r->ndone);
	r->ndone = r->done_rcpts = 0;
}

/* The results of the transactions idx[0..n), in one transaction. */
static void
outq_record_list(struct round *r, const size_t *idx, size_t n)
{
	size_t i;

	if (n == 0)
		return;
	if (store_begin(r->st) != 0)
		goto fail;
	for (i = 0; i < n; i++)
		if (outq_record_txn(r, &r->txns[idx[i]]) != 0)
			goto fail;
	if (store_commit(r->st) != 0)
		goto fail;
	return;
fail:
	store_rollback(r->st);
	for (i = 0; i < n; i++) {
		struct deliver_txn *t = &r->txns[idx[i]];

		log_warnx("%s: results of %zu recipients not recorded; they "
		    "will be tried again", t->id, t->nrcpts);
	}
}

/* One transaction's results, inside outq_record_list()'s transaction. */
static int
outq_record_txn(struct round *r, struct deliver_txn *t)
{
	struct round_msg *m = &r->msgs[(uintptr_t)t->arg];
	long long now = (long long)time(NULL), created = now;
	long long sent = 0, failed = 0;
	sqlite3_stmt *s;
	size_t i;

	if ((s = store_stmt(r->st, "SELECT created FROM outmsg "
	    "WHERE id = ?1")) != NULL) {
		sqlite3_bind_text(s, 1, m->id, -1, SQLITE_STATIC);
		if (sqlite3_step(s) == SQLITE_ROW)
			created = sqlite3_column_int64(s, 0);
		sqlite3_reset(s);
	}
	for (i = 0; i < t->nrcpts; i++) {
		struct deliver_rcpt *rc = &t->rcpts[i];
		int state;

		switch (rc->state) {
		case DELIVER_SENT:
			state = OUTQ_SENT;
			sent++;
			break;
		case DELIVER_FAILED:
			state = OUTQ_FAILED;
			failed++;
			break;
		default:
			state = OUTQ_DEFERRED;
			if (now - created >= r->cf->queue.lifetime) {
				state = OUTQ_FAILED;
				failed++;
				log_info("%s: to=<%s> status=expired after "
				    "%lld s (%s)", m->id, rc->addr,
				    now - created, rc->reply ? rc->reply : "");
			}
			break;
		}
		/*
		 * A recipient sent to is done with: its row goes now (the
		 * count stays in outmsg), which costs SQLite half of
		 * updating it and deleting it when the message finishes.
		 */
		if (state == OUTQ_SENT) {
			s = store_stmt(r->st, "DELETE FROM outq "
			    "WHERE msg = ?1 AND rcpt = ?2");
			if (s == NULL)
				return -1;
			sqlite3_bind_text(s, 1, m->id, -1, SQLITE_STATIC);
			sqlite3_bind_text(s, 2, rc->addr, -1, SQLITE_STATIC);
			if (store_step_done(r->st, s) != 0)
				return -1;
			continue;
		}
		s = store_stmt(r->st, "UPDATE outq SET state = ?3, "
		    "attempts = attempts + 1, reply = ?4, next_try = CASE "
		    "WHEN ?3 = 2 THEN ?5 + min(?6, ?7 << min(attempts, 20)) "
		    "ELSE next_try END WHERE msg = ?1 AND rcpt = ?2");
		if (s == NULL)
			return -1;
		sqlite3_bind_text(s, 1, m->id, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, rc->addr, -1, SQLITE_STATIC);
		sqlite3_bind_int(s, 3, state);
		sqlite3_bind_text(s, 4, rc->reply ? rc->reply : "", -1,
		    SQLITE_STATIC);
		/*
		 * Times are whole seconds: counted from the next one, so
		 * that a retry never comes before its delay (from 10.9 s
		 * "now + 1" would be due at 11.0 s).
		 */
		sqlite3_bind_int64(s, 5, now + 1);
		sqlite3_bind_int(s, 6, r->cf->queue.retry_max);
		sqlite3_bind_int(s, 7, r->cf->queue.retry_first);
		if (store_step_done(r->st, s) != 0)
			return -1;
		/* A refusal, or a lifetime of deferrals, is a bounce. */
		if (state == OUTQ_FAILED && m->list[0] != '\0' &&
		    bounce_record(r->st, r->cf, m->list, rc->addr, 1,
		    rc->reply ? rc->reply : "expired") != 0)
			return -1;
	}
	s = store_stmt(r->st, "UPDATE outmsg SET sent = sent + ?2, "
	    "failed = failed + ?3 WHERE id = ?1");
	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, m->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, sent);
	sqlite3_bind_int64(s, 3, failed);
	if (store_step_done(r->st, s) != 0)
		return -1;
	return outq_rate_note(r->st, r->cf, t);
}

/*
 * When no recipient of id is left to try, the message is finished: its
 * rows go (the counts stay in outmsg) and so does its text.
 */
static int
outq_finish(struct store *st, const struct config *cf, const char *id)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT 1 FROM outq WHERE msg = ?1 "
	    "AND state IN (0, 2) LIMIT 1");
	int rc;

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	if ((rc = store_exists(st, s)) != 0)
		return rc > 0 ? 0 : -1;
	if (store_begin(st) != 0)
		return -1;
	s = store_stmt(st, "UPDATE outmsg SET done = 1 WHERE id = ?1");
	if (s == NULL)
		goto fail;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	if (store_step_done(st, s) != 0)
		goto fail;
	s = store_stmt(st, "DELETE FROM outq WHERE msg = ?1");
	if (s == NULL)
		goto fail;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	if (store_step_done(st, s) != 0 || outq_body_drop(st, id) != 0 ||
	    store_commit(st) != 0)
		goto fail;
	outq_body_unlink(cf, id);
	log_info("%s: removed", id);
	return 1;
fail:
	store_rollback(st);
	return -1;
}

static void
round_free(struct round *r)
{
	size_t i;

	for (i = 0; i < r->ntxns; i++) {
		deliver_txn_clear(&r->txns[i]);
		for (size_t j = 0; j < r->txns[i].nrcpts; j++)
			free((char *)r->txns[i].rcpts[j].addr);
		free(r->txns[i].rcpts);
	}
	free(r->txns);
	for (i = 0; i < r->ntxns; i++)
		free(r->senders[i]);
	free(r->senders);
	free(r->done);
	for (i = 0; i < r->nmsgs; i++) {
		free(r->msgs[i].id);
		free(r->msgs[i].sender);
		free(r->msgs[i].list);
		free(r->msgs[i].data);
	}
	free(r->msgs);
}

/*
 * One delivery round: relay.sessions SMTP sessions with as many due
 * transactions as they may carry.  Returns the number of transactions
 * tried (0: nothing was due), or -1 on error.
 */
int
outq_round(struct store *st, const struct config *cf)
{
	/*
	 * relay.max_transactions is per SMTP session; the recipients of a
	 * round are held in memory (libESMTP's share is most of it), so
	 * all sessions together carry no more than one session's full
	 * load: many one-recipient transactions, or fewer larger ones.
	 */
	struct round r = { st, cf, NULL, 0, NULL, 0, 0,
	    (size_t)cf->relay.max_transactions *
	    (size_t)cf->relay.max_recipients, NULL,
	    PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, NULL, 0, 0,
	    0, 0, 0 };
	size_t max = (size_t)cf->relay.max_transactions *
	    (size_t)cf->relay.sessions, cap = 0, i;
	sqlite3_stmt *s;
	int rc = 0;

	/* The provider's limits (outq_rate.h) may allow fewer, or none. */
	if ((max = outq_rate_allowance(st, cf, max)) == 0)
		return 0;
	r.txns = xcalloc(max, sizeof(*r.txns));
	r.senders = xcalloc(max, sizeof(*r.senders));
	r.done = xcalloc(max, sizeof(*r.done));
	/* Unfinished messages, oldest first; the ids of each round's. */
	if (sqlite3_prepare_v2(st->db, "SELECT id, sender, list, verp "
	    "FROM outmsg WHERE done = 0 ORDER BY created, id", -1, &s,
	    NULL) != SQLITE_OK) {
		store_log_error(st, "outq_round");
		free(r.txns);
		free(r.senders);
		free(r.done);
		return -1;
	}
	while (r.ntxns < max && sqlite3_step(s) == SQLITE_ROW) {
		struct round_msg *m;
		size_t before = r.ntxns;

		if (r.nmsgs == cap) {
			cap = cap ? cap * 2 : 8;
			r.msgs = xrealloc(r.msgs, cap * sizeof(*r.msgs));
		}
		m = &r.msgs[r.nmsgs++];
		memset(m, 0, sizeof(*m));
		m->id = xstrdup((const char *)sqlite3_column_text(s, 0));
		m->sender = xstrdup((const char *)sqlite3_column_text(s, 1));
		m->list = xstrdup((const char *)sqlite3_column_text(s, 2));
		m->verp = sqlite3_column_int(s, 3);
		if ((rc = outq_fill(&r, m, &max)) < 0)
			break;
		if (r.ntxns == before) {
			/* Nothing due now; maybe nothing left at all. */
			continue;
		}
		if (outq_body_get(st, cf, m->id, &m->data, &m->len) != 0) {
			/*
			 * The text is gone or unreadable: retrying cannot
			 * help.  Leave the rows deferred for the
			 * administrator to see in mlserverctl queue.
			 */
			for (i = before; i < r.ntxns; i++) {
				for (size_t j = 0; j < r.txns[i].nrcpts; j++)
					r.txns[i].rcpts[j].state =
					    DELIVER_DEFERRED;
				outq_txn_done(&r.txns[i], &r);
			}
			outq_record(&r);
			for (i = before; i < r.ntxns; i++) {
				for (size_t j = 0; j < r.txns[i].nrcpts; j++)
					free((char *)r.txns[i].rcpts[j].addr);
				free(r.txns[i].rcpts);
				free(r.senders[i]);
				r.senders[i] = NULL;
				r.nrcpts -= r.txns[i].nrcpts;
				memset(&r.txns[i], 0, sizeof(r.txns[i]));
			}
			r.ntxns = before;
			continue;
		}
		for (i = before; i < r.ntxns; i++) {
			r.txns[i].data = m->data;
			r.txns[i].len = m->len;
		}
	}
	sqlite3_finalize(s);
	if (rc >= 0 && r.ntxns > 0) {
		outq_deliver(&r);
		outq_record(&r);
	}
	rc = rc < 0 ? -1 : (int)r.ntxns;
	for (i = 0; i < r.nmsgs; i++)
		if (outq_finish(st, cf, r.msgs[i].id) < 0)
			rc = -1;
	round_free(&r);
	return rc;
}

