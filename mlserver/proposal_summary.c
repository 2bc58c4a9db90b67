/*
 * proposal_summary - summaries kept as sent; see proposal_summary.h.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "log.h"
#include "proposal_mail.h"
#include "proposal_summary.h"
#include "store.h"
#include "template.h"
#include "xmalloc.h"

static int	 summary_insert(struct store *, const char *, const char *,
		    long long, int, const char *, const char *);

static int
summary_insert(struct store *st, const char *list, const char *period,
    long long now, int count, const char *subject, const char *body)
{
	sqlite3_stmt *s = store_stmt(st, "INSERT INTO proposal_summaries "
	    "(list, period, ts, count, subject, body) VALUES (?1, ?2, ?3, ?4, "
	    "?5, ?6)");

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, list, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, period ? period : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, now);
	sqlite3_bind_int(s, 4, count);
	sqlite3_bind_text(s, 5, subject, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, body, -1, SQLITE_STATIC);
	return store_step_done(st, s);
}

/*
 * Keep the summary l just sent (the "proposal-summary" template with
 * the variables of that mail), inside the forward's transaction.
 */
int
proposal_summary_keep(const struct config *cf, struct store *st,
    const struct list *l, struct proposal_vars *pv, const char *period,
    long long now, int count)
{
	struct buf out = BUF_INIT;
	const char *body, *eol;
	char *subject;
	int rc;

	if (template_render(cf, l->language, "proposal-summary", pv->v, pv->n,
	    &out) != 0) {
		buf_free(&out);
		return -1;
	}
	body = buf_cstr(&out);
	subject = xstrdup("");
	if (strncmp(body, "Subject: ", 9) == 0) {
		eol = strchr(body, '\n');
		free(subject);
		subject = xstrndup(body + 9, eol ? (size_t)(eol - body - 9) :
		    strlen(body + 9));
		body = eol ? eol + 1 : "";
	}
	rc = summary_insert(st, l->name, period, now, count, subject, body);
	free(subject);
	buf_free(&out);
	return rc;
}

/* Call fn for each summary list sent, newest first. */
int
proposal_summary_foreach(struct store *st, const char *list,
    proposal_summary_fn *fn, void *arg)
{
	sqlite3_stmt *s;
	int rc, ret = 0;

	/* Not cached: fn may use the store. */
	if (sqlite3_prepare_v2(st->db, "SELECT id, list, period, ts, count, "
	    "subject, body FROM proposal_summaries WHERE list = ?1 "
	    "ORDER BY id DESC", -1, &s, NULL) != SQLITE_OK) {
		store_log_error(st, "proposal_summary_foreach");
		return -1;
	}
	sqlite3_bind_text(s, 1, list, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct proposal_summary ps;

		ps.id = sqlite3_column_int64(s, 0);
		ps.list = (const char *)sqlite3_column_text(s, 1);
		ps.period = (const char *)sqlite3_column_text(s, 2);
		ps.ts = sqlite3_column_int64(s, 3);
		ps.count = sqlite3_column_int(s, 4);
		ps.subject = (const char *)sqlite3_column_text(s, 5);
		ps.body = (const char *)sqlite3_column_text(s, 6);
		if ((ret = fn(&ps, arg)) != 0)
			break;
	}
	if (ret == 0 && rc != SQLITE_DONE) {
		store_log_error(st, "proposal_summary_foreach");
		ret = -1;
	}
	sqlite3_finalize(s);
	return ret;
}
