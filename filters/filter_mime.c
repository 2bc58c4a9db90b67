/*
 * filter_mime - which kinds of attachment a list carries:
 *
 *	{ type = "mime";
 *	  strip = [ "application/x-msdownload", "video" ];
 *	  refuse = [ "application/x-dosexec" ];
 *	  pass = [ "image", "application/pdf" ];     # optional
 *	  action = "reject"; }                        # for refuse
 *
 * A pattern is a type ("image/png"), a major type alone ("video",
 * also written with a slash and a star) or "*".
 * A part whose type matches "strip" (or, when "pass" is given, matches
 * none of it) is removed from its multipart, delimiter and all, and
 * every other octet of the message stays as it was.  A part matching
 * "refuse" makes the filter answer its action (reject by default).
 * text/plain is always kept: the text is what the list is for.  Parts
 * inside multipart/signed or multipart/encrypted are never removed, as
 * that would break the signature; a post needing it is held instead.  A
 * message with nothing left is rejected.  Attached messages
 * (message/rfc822) are judged as one part and not opened.
 */
#include <stdlib.h>
#include <string.h>

#include "filter.h"
#include "mime.h"
#include "xmalloc.h"

struct mimef_conf {
	char	**strip, **refuse, **pass;
	size_t	  nstrip, nrefuse, npass;
};

/* What the walk found. */
struct mimef_walk {
	const struct mimef_conf	*c;
	struct buf		 stripped;	/* types, for the log */
	char			 refused[MIME_TYPE_MAX];
	char			 locked[MIME_TYPE_MAX];	/* in a signature */
	int			 changed;
};

static int	 mimef_conf(struct filter *, const config_setting_t *,
		    struct buf *, const char *);
static enum filter_verdict mimef_run(const struct filter *,
		    struct filter_msg *, struct buf *);
static void	 mimef_free(struct filter *);
static int	 mimef_any(char *const *, size_t, const char *);
static int	 mimef_part(struct mimef_walk *, const char *, size_t, int,
		    struct buf *);
static int	 mimef_multi(struct mimef_walk *, const char *, size_t,
		    const char *, int, struct buf *);

const struct filter_type filter_mime_type = {
	"mime", 1, FILTER_REJECT, mimef_conf, mimef_run, mimef_free
};

static int
mimef_conf(struct filter *f, const config_setting_t *s, struct buf *errors,
    const char *path)
{
	static const char *const keys[] = {
		"type", "action", "strip", "refuse", "pass", NULL
	};
	struct mimef_conf *c = xcalloc(1, sizeof(*c));
	int bad;

	f->priv = c;
	bad = filter_conf_check_keys(s, keys, errors, path);
	bad += filter_conf_strings(s, "strip", &c->strip, &c->nstrip, errors,
	    path);
	bad += filter_conf_strings(s, "refuse", &c->refuse, &c->nrefuse,
	    errors, path);
	bad += filter_conf_strings(s, "pass", &c->pass, &c->npass, errors,
	    path);
	return bad;
}

static int
mimef_any(char *const *pats, size_t n, const char *type)
{
	for (size_t i = 0; i < n; i++)
		if (mime_type_match(type, pats[i]))
			return 1;
	return 0;
}

/*
 * The parts of a multipart body (of the part whose header ends at
 * hend), each walked in turn; the ones removed leave with their
 * delimiter line.  Returns 0 when no part is left.
 */
static int
mimef_multi(struct mimef_walk *w, const char *p, size_t len,
    const char *boundary, int locked, struct buf *out)
{
	size_t hend = mime_header_end(p, len), k, next;
	const char *body = p + hend;
	size_t blen = len - hend;
	struct mime_multi mm;
	struct buf sub = BUF_INIT;
	int kept = 0;

	if (mime_split(body, blen, boundary, &mm) != 0 || mm.n == 0) {
		mime_multi_free(&mm);
		buf_add(out, p, len);
		return 1;
	}
	buf_add(out, p, hend + mm.delim[0]);
	for (k = 0; k < mm.n; k++) {
		next = k + 1 < mm.n ? mm.delim[k + 1] : mm.close;
		buf_reset(&sub);
		if (!mimef_part(w, body + mm.start[k], mm.end[k] - mm.start[k],
		    locked, &sub))
			continue;
		kept++;
		buf_add(out, body + mm.delim[k], mm.start[k] - mm.delim[k]);
		buf_add(out, sub.data ? sub.data : "", sub.len);
		buf_add(out, body + mm.end[k], next - mm.end[k]);
	}
	buf_add(out, body + mm.close, blen - mm.close);
	buf_free(&sub);
	mime_multi_free(&mm);
	return kept > 0;
}

/*
 * Walks one part (its header and body), appending what is kept to out.
 * Returns 1 if the part stays, 0 if it is removed.
 */
static int
mimef_part(struct mimef_walk *w, const char *p, size_t len, int locked,
    struct buf *out)
{
	const struct mimef_conf *c = w->c;
	struct mime_ctype ct;
	int strip, rc = 1;

	mime_ctype_of(p, len, &ct);
	if (strcmp(ct.type, "text/plain") != 0 &&
	    mimef_any(c->refuse, c->nrefuse, ct.type) && !w->refused[0])
		snprintf(w->refused, sizeof(w->refused), "%s", ct.type);
	if (strncmp(ct.type, "multipart/", 10) == 0 && ct.boundary) {
		int lock = locked || strcmp(ct.type, "multipart/signed") == 0 ||
		    strcmp(ct.type, "multipart/encrypted") == 0;

		rc = mimef_multi(w, p, len, ct.boundary, lock, out);
		if (!rc)
			w->changed = 1;
		mime_ctype_free(&ct);
		return rc;
	}
	strip = strcmp(ct.type, "text/plain") != 0 &&
	    (mimef_any(c->strip, c->nstrip, ct.type) ||
	    (c->npass > 0 && !mimef_any(c->pass, c->npass, ct.type)));
	if (strip && locked) {
		if (!w->locked[0])
			snprintf(w->locked, sizeof(w->locked), "%s", ct.type);
		strip = 0;
	}
	if (strip) {
		buf_printf(&w->stripped, "%s%s", w->stripped.len ? ", " : "",
		    ct.type);
		w->changed = 1;
		rc = 0;
	} else
		buf_add(out, p, len);
	mime_ctype_free(&ct);
	return rc;
}

static enum filter_verdict
mimef_run(const struct filter *f, struct filter_msg *m, struct buf *reason)
{
	struct mimef_walk w;
	struct buf out = BUF_INIT;
	enum filter_verdict v = FILTER_ACCEPT;
	int kept;

	memset(&w, 0, sizeof(w));
	w.c = f->priv;
	kept = mimef_part(&w, m->raw.data, m->raw.len, 0, &out);
	if (w.refused[0]) {
		if (m->ja)
			buf_printf(reason, "このリストでは %s 形式の添付ファイル"
			    "は受け付けていません", w.refused);
		else
			buf_printf(reason, "attachments of type %s are not "
			    "accepted on this list", w.refused);
		v = f->action;
	} else if (w.locked[0]) {
		if (m->ja)
			buf_printf(reason, "署名付きメールの %s 形式の部分は、"
			    "署名を壊さずに取り除けません", w.locked);
		else
			buf_printf(reason, "a part of type %s cannot be removed "
			    "without breaking the message's signature",
			    w.locked);
		v = FILTER_HOLD;
	} else if (!kept) {
		buf_adds(reason, m->ja ? "許可されていない形式の部分を取り除く"
		    "と、何も残りません" : "nothing is left once the parts of "
		    "types the list does not carry are removed");
		v = FILTER_REJECT;
	}
	if (kept && w.changed) {
		buf_free(&m->raw);
		m->raw = out;
		buf_init(&out);
		filter_msg_changed(m);
	}
	buf_free(&out);
	buf_free(&w.stripped);
	return v;
}

static void
mimef_free(struct filter *f)
{
	struct mimef_conf *c = f->priv;

	if (c == NULL)
		return;
	filter_strings_free(c->strip, c->nstrip);
	filter_strings_free(c->refuse, c->nrefuse);
	filter_strings_free(c->pass, c->npass);
	free(c);
}
