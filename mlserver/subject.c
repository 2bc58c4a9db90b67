/*
 * subject - the list prefix in the Subject; see subject.h.
 *
 * Reply markers, as the world's clients write them: "Re:", "RE:", "re:",
 * "Re[2]:", "Re(2):", "Re^2:" (counting clients), "AW:" and "Antw:"
 * (German, Dutch), "SV:" and "VS:" (Nordic), "返信:" and "Ｒｅ：" (Japanese
 * clients), each with an ASCII or a full-width colon.  Forward markers:
 * "Fwd:", "FW:", "Fw:", "転送:".
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "encword.h"
#include "encword_cs.h"
#include "subject.h"

enum subject_mark {
	MARK_NONE,
	MARK_REPLY,
	MARK_FORWARD
};

static size_t	subject_marker(const char *, enum subject_mark *);
static size_t	subject_colon(const char *);
static size_t	subject_blanks(const char *);

static const struct {
	const char		*word;
	enum subject_mark	 mark;
} subject_words[] = {
	{ "re",		MARK_REPLY },
	{ "aw",		MARK_REPLY },
	{ "antw",	MARK_REPLY },
	{ "sv",		MARK_REPLY },
	{ "vs",		MARK_REPLY },
	{ "返信",	MARK_REPLY },
	{ "Ｒｅ",	MARK_REPLY },
	{ "ＲＥ",	MARK_REPLY },
	{ "fwd",	MARK_FORWARD },
	{ "fw",		MARK_FORWARD },
	{ "転送",	MARK_FORWARD },
};

/* Length of ":" or "：" at s, or 0. */
static size_t
subject_colon(const char *s)
{
	if (*s == ':')
		return 1;
	if (strncmp(s, "：", strlen("：")) == 0)
		return strlen("：");
	return 0;
}

/* Length of the blanks (ASCII or the ideographic space) at s. */
static size_t
subject_blanks(const char *s)
{
	size_t n = 0;

	for (;;) {
		if (s[n] == ' ' || s[n] == '\t')
			n++;
		else if (strncmp(s + n, "　", strlen("　")) == 0)
			n += strlen("　");
		else
			return n;
	}
}

/* Length of a leading marker ("RE[2]:", "転送："), its kind in *mark. */
static size_t
subject_marker(const char *s, enum subject_mark *mark)
{
	size_t i, n, k, c;

	for (i = 0; i < sizeof(subject_words) / sizeof(subject_words[0]);
	    i++) {
		n = strlen(subject_words[i].word);
		if (strncasecmp(s, subject_words[i].word, n) != 0)
			continue;
		if (s[n] == '[' || s[n] == '(') {
			char close = s[n] == '[' ? ']' : ')';

			for (k = n + 1; isdigit((unsigned char)s[k]); k++)
				;
			if (k == n + 1 || s[k] != close)
				continue;
			n = k + 1;
		} else if (s[n] == '^') {
			for (k = n + 1; isdigit((unsigned char)s[k]); k++)
				;
			if (k == n + 1)
				continue;
			n = k;
		}
		if ((c = subject_colon(s + n)) == 0)
			continue;
		*mark = subject_words[i].mark;
		return n + c;
	}
	return 0;
}

/*
 * The subject text with the prefix once: earlier prefixes and markers
 * are dropped from the front, and "Re: " / "Fwd: " are kept once each,
 * in the order they first came.
 */
void
subject_normalize(struct buf *out, const char *s, const char *prefix)
{
	size_t plen = prefix ? strlen(prefix) : 0, n;
	enum subject_mark mark, order[2];
	int nmarks = 0, seen_re = 0, seen_fwd = 0;

	while (plen > 0 && (prefix[plen - 1] == ' ' || prefix[plen - 1] == '\t'))
		plen--;
	for (;;) {
		s += subject_blanks(s);
		if (plen && strncasecmp(s, prefix, plen) == 0) {
			s += plen;
			continue;
		}
		if ((n = subject_marker(s, &mark)) > 0) {
			if (mark == MARK_REPLY && !seen_re++)
				order[nmarks++] = MARK_REPLY;
			if (mark == MARK_FORWARD && !seen_fwd++)
				order[nmarks++] = MARK_FORWARD;
			s += n;
			continue;
		}
		break;
	}
	if (plen)
		buf_add(out, prefix, plen);
	for (int i = 0; i < nmarks; i++)
		buf_adds(out, order[i] == MARK_REPLY ?
		    (out->len ? " Re:" : "Re:") : (out->len ? " Fwd:" : "Fwd:"));
	if (*s)
		buf_printf(out, "%s%s", out->len ? " " : "", s);
	if (out->data == NULL)
		buf_add(out, "", 0);
}

/*
 * The charset for the rewritten subject: ISO-2022-JP when the sender
 * wrote it so (encoded words or raw escapes) or the list asks for it,
 * else UTF-8.
 */
const char *
subject_charset(const char *raw, const char *list_charset)
{
	if (raw && (strcasestr(raw, "=?iso-2022-jp?") != NULL ||
	    strstr(raw, "\033$") != NULL))
		return "ISO-2022-JP";
	if (!encword_cs_is_utf8(list_charset))
		return list_charset;
	return "UTF-8";
}

/*
 * Appends "Subject: ...\n" for the raw (unfolded, undecoded) value of
 * the post's Subject, or NULL when it had none.
 */
void
subject_field(struct buf *out, const char *raw, const char *prefix,
    const char *list_charset)
{
	struct buf dec = BUF_INIT, full = BUF_INIT;

	if (raw)
		encword_decode(raw, &dec);
	subject_normalize(&full, buf_cstr(&dec), prefix);
	buf_adds(out, "Subject: ");
	encword_cs_encode(out, buf_cstr(&full), 9,
	    subject_charset(raw, list_charset));
	buf_addc(out, '\n');
	buf_free(&dec);
	buf_free(&full);
}
