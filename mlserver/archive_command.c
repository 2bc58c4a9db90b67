/*
 * archive_command - the archive by mail: "index [YYYY-MM]" (目次) lists
 * a month's numbers, dates and subjects; "get N" (取得 N) attaches post
 * N as message/rfc822 to the command mail's one reply (fml sent it in a
 * mail of its own; one answer per command mail is easier to follow and
 * to count against the reply limit).  On a list
 * whose archive is not public only its audience and moderators may ask.
 * Also "mlserverctl archive rebuild [LIST]".
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "archive.h"
#include "buf.h"
#include "command.h"
#include "config.h"
#include "log.h"
#include "members.h"
#include "message.h"
#include "process.h"
#include "reply.h"
#include "request.h"
#include "xmalloc.h"

static int	 archive_allowed(struct request *);
static int	 archive_index(struct request *, const struct command *);
static int	 archive_index_line(const struct archive_entry *, void *);
static int	 archive_get_cmd(struct request *, const struct command *);
static int	 archive_month_arg(const char *, char[8]);

struct index_ctx {
	struct buf	lines;
	long long	count;
};

/* 1 when the sender may read the list's archive, 0 not, -1 error. */
static int
archive_allowed(struct request *s)
{
	if (s->list->archive->public ||
	    config_is_moderator(s->list, s->ctx->who))
		return 1;
	return members_in_audience(s->ctx->st, s->list->name, s->ctx->who);
}

/* "2026-12" (full-width digits were folded by command.c): 0, else -1. */
static int
archive_month_arg(const char *a, char month[8])
{
	int y, m;
	char extra;

	if (sscanf(a, "%4d-%2d%c", &y, &m, &extra) != 2 || y < 1970 ||
	    y > 9999 || m < 1 || m > 12 || strlen(a) != 7)
		return -1;
	snprintf(month, 8, "%04d-%02d", y, m);
	return 0;
}

static int
archive_index_line(const struct archive_entry *e, void *arg)
{
	struct index_ctx *x = arg;

	buf_printf(&x->lines, "  %lld  %s  %s\n", e->n, e->date,
	    *e->subject ? e->subject : "-");
	x->count++;
	return 0;
}

static int
archive_index(struct request *s, const struct command *c)
{
	struct index_ctx x = { BUF_INIT, 0 };
	char month[8], count[32];
	int rc;

	if (*c->args) {
		if (archive_month_arg(c->args, month) != 0)
			return request_result(s, "archive-usage", c);
	} else if ((rc = archive_last_month(s->ctx->st, s->list->name,
	    month)) <= 0) {
		if (rc < 0)
			return -1;
		return request_result(s, "archive-empty", c);
	}
	if (archive_foreach_month(s->ctx->st, s->list->name, month,
	    archive_index_line, &x) != 0) {
		buf_free(&x.lines);
		return -1;
	}
	snprintf(count, sizeof(count), "%lld", x.count);
	reply_var(&s->rv, "month", month);
	reply_var(&s->rv, "count", count);
	reply_var(&s->rv, "items", buf_cstr(&x.lines));
	rc = request_result(s, x.count ? "archive-index" :
	    "archive-month-empty", c);
	/* The values live on this stack: leave none behind in rv. */
	reply_var(&s->rv, "items", "");
	reply_var(&s->rv, "month", "");
	reply_var(&s->rv, "count", "");
	buf_free(&x.lines);
	return rc;
}

static int
archive_get_cmd(struct request *s, const struct command *c)
{
	struct buf raw = BUF_INIT;
	char *end;
	long long n;
	int rc;

	n = strtoll(c->args, &end, 10);
	if (*c->args == '\0' || !isdigit((unsigned char)*c->args) ||
	    *end != '\0' || n <= 0)
		return request_result(s, "archive-get-usage", c);
	reply_var(&s->rv, "number", c->args);
	if ((rc = archive_get(s->ctx->st, s->list->name, n, &raw)) <= 0) {
		buf_free(&raw);
		return rc < 0 ? -1 : request_result(s, "archive-get-unknown",
		    c);
	}
	request_attach(s, "message/rfc822", NULL, raw.data, raw.len);
	buf_free(&raw);
	log_info("%s: %s: archived post %lld attached for <%s>", s->ctx->id,
	    s->list->name, n, s->ctx->who);
	return request_result(s, "archive-get-attached", c);
}

int
archive_command(struct request *s, const struct command *c)
{
	int ok;

	if (s->list->archive == NULL)
		return request_result(s, "archive-none", c);
	if ((ok = archive_allowed(s)) < 0)
		return -1;
	if (ok == 0)
		return request_result(s, "members-only", c);
	if (c->verb == CMD_INDEX)
		return archive_index(s, c);
	return archive_get_cmd(s, c);
}

int
archive_ctl(const struct config *cf, struct store *st, int argc, char **argv,
    struct buf *out)
{
	const char *list = argc > 1 ? argv[1] : NULL;
	const struct list *l;

	if (strcmp(argv[0], "rebuild") != 0) {
		fprintf(stderr, "usage: mlserverctl archive rebuild [LIST]\n");
		return EX_USAGE;
	}
	if (list != NULL) {
		if ((l = config_list(cf, list)) == NULL) {
			fprintf(stderr, "mlserverctl: no list %s\n", list);
			return EX_DATAERR;
		}
		if (l->archive == NULL) {
			fprintf(stderr, "mlserverctl: list %s keeps no "
			    "archive\n", list);
			return EX_DATAERR;
		}
	}
	if (archive_rebuild(st, cf, list, out) != 0) {
		fprintf(stderr, "mlserverctl: the archive could not be "
		    "written; see the log\n");
		return EX_TEMPFAIL;
	}
	return 0;
}
