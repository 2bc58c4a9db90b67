/*
 * event_parse - announcement fields and answers; see event_parse.h.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "event_parse.h"
#include "text.h"
#include "xmalloc.h"

/* The names a field goes by; matched without case after folding. */
static const struct {
	const char	*name;
	enum evf_key	 key;
} evf_names[] = {
	{ "date", EVF_DATE }, { "when", EVF_DATE }, { "日時", EVF_DATE },
	{ "日程", EVF_DATE }, { "開催日時", EVF_DATE }, { "日付", EVF_DATE },
	{ "end", EVF_END }, { "ends", EVF_END }, { "終了", EVF_END },
	{ "終了日時", EVF_END }, { "終了時刻", EVF_END },
	{ "place", EVF_PLACE }, { "location", EVF_PLACE },
	{ "venue", EVF_PLACE }, { "where", EVF_PLACE }, { "場所", EVF_PLACE },
	{ "会場", EVF_PLACE },
	{ "capacity", EVF_CAPACITY }, { "seats", EVF_CAPACITY },
	{ "定員", EVF_CAPACITY },
	{ "deadline", EVF_DEADLINE }, { "rsvp by", EVF_DEADLINE },
	{ "締切", EVF_DEADLINE }, { "締め切り", EVF_DEADLINE },
	{ "〆切", EVF_DEADLINE }, { "申込締切", EVF_DEADLINE },
	{ "回答締切", EVF_DEADLINE },
	{ "event", EVF_EVENT }, { "イベント", EVF_EVENT },
	{ "イベント番号", EVF_EVENT },
	{ "cancel", EVF_CANCEL }, { "中止", EVF_CANCEL },
	{ "キャンセル", EVF_CANCEL },
	{ "title", EVF_TITLE }, { "名称", EVF_TITLE },
	{ "イベント名", EVF_TITLE }, { "タイトル", EVF_TITLE },
};

/* Answers: the words, folded and compared without ASCII case. */
static const struct {
	const char		*word;
	enum rsvp_answer	 answer;
} answer_words[] = {
	{ "yes", RSVP_YES }, { "y", RSVP_YES }, { "attend", RSVP_YES },
	{ "accept", RSVP_YES }, { "going", RSVP_YES },
	{ "参加", RSVP_YES }, { "出席", RSVP_YES }, { "参加します", RSVP_YES },
	{ "出席します", RSVP_YES }, { "参加希望", RSVP_YES },
	{ "はい", RSVP_YES },
	{ "no", RSVP_NO }, { "n", RSVP_NO }, { "decline", RSVP_NO },
	{ "不参加", RSVP_NO }, { "欠席", RSVP_NO }, { "欠席します", RSVP_NO },
	{ "参加しません", RSVP_NO }, { "出席しません", RSVP_NO },
	{ "不参加です", RSVP_NO }, { "いいえ", RSVP_NO },
	{ "maybe", RSVP_MAYBE }, { "tentative", RSVP_MAYBE },
	{ "未定", RSVP_MAYBE }, { "未定です", RSVP_MAYBE },
	{ "検討中", RSVP_MAYBE },
};

static char	*evp_fold(const char *, size_t);
static int	 evp_field(const char *, enum evf_key *, const char **);
static int	 evp_guests(const char *, int *);
static int	 evp_word(const char *, size_t, enum rsvp_answer *);

/* Folded to ASCII widths, trimmed of blanks.  Allocated. */
static char *
evp_fold(const char *s, size_t n)
{
	struct buf raw = BUF_INIT, f = BUF_INIT;
	const char *p;
	size_t len;
	char *r;

	buf_add(&raw, s, n);
	text_fold_width(&f, buf_cstr(&raw));
	buf_free(&raw);
	p = buf_cstr(&f);
	while (*p == ' ' || *p == '\t')
		p++;
	len = strlen(p);
	while (len && strchr(" \t\r", p[len - 1]))
		len--;
	r = xstrndup(p, len);
	buf_free(&f);
	return r;
}

/* Whether line (folded) is "KEY: value"; *value points into line. */
static int
evp_field(const char *line, enum evf_key *key, const char **value)
{
	const char *colon = strchr(line, ':');
	size_t n, i;

	if (colon == NULL)
		return 0;
	n = (size_t)(colon - line);
	while (n && (line[n - 1] == ' ' || line[n - 1] == '\t'))
		n--;
	for (i = 0; i < sizeof(evf_names) / sizeof(evf_names[0]); i++)
		if (strlen(evf_names[i].name) == n &&
		    strncasecmp(line, evf_names[i].name, n) == 0) {
			*key = evf_names[i].key;
			*value = colon + 1;
			while (**value == ' ' || **value == '\t')
				(*value)++;
			return 1;
		}
	return 0;
}

/*
 * Read the fields at the start of text (blank lines before them are
 * skipped), and keep the rest, up to a signature, as the free text.
 * Returns the number of fields read.
 */
int
event_fields_parse(const char *text, struct event_fields *f)
{
	struct buf rest = BUF_INIT;
	const char *p = text ? text : "";
	int in_fields = 1;

	memset(f, 0, sizeof(*f));
	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t n = eol ? (size_t)(eol - p) : strlen(p);
		char *line = evp_fold(p, n);
		enum evf_key key;
		const char *value;

		if (strncmp(p, "-- ", 3) == 0 && strspn(p + 3, " \r") ==
		    n - 3) {
			free(line);
			break;
		}
		if (in_fields && *line == '\0' && f->n == 0) {
			/* Blank lines before the fields. */
		} else if (in_fields && evp_field(line, &key, &value)) {
			if (f->value[key] == NULL) {
				f->value[key] = xstrdup(value);
				f->line[key] = xstrndup(p, n && p[n - 1] ==
				    '\r' ? n - 1 : n);
				f->n++;
			}
		} else {
			in_fields = 0;
			if (rest.len || *line) {
				buf_add(&rest, p, n && p[n - 1] == '\r' ?
				    n - 1 : n);
				buf_addc(&rest, '\n');
			}
		}
		free(line);
		p = eol ? eol + 1 : p + n;
	}
	while (rest.len && strchr(" \t\r\n", rest.data[rest.len - 1]))
		rest.len--;
	buf_cstr(&rest);
	f->rest = buf_release(&rest);
	return f->n;
}

void
event_fields_free(struct event_fields *f)
{
	for (int i = 0; i < EVF_N; i++) {
		free(f->value[i]);
		free(f->line[i]);
	}
	free(f->rest);
	memset(f, 0, sizeof(*f));
}

/* "yes", "はい", "中止", "true", "1": the Cancel line's yes. */
int
event_is_yes(const char *v)
{
	static const char *const yes[] = {
		"yes", "y", "true", "1", "はい", "する", "中止", "中止します",
		"キャンセル", NULL
	};
	char *f = evp_fold(v, strlen(v));
	int i, r = 0;

	for (i = 0; yes[i]; i++)
		if (strcasecmp(f, yes[i]) == 0)
			r = 1;
	free(f);
	return r;
}

/* "+2", "+2名", "+2人": guests.  0 or -1. */
static int
evp_guests(const char *s, int *guests)
{
	int n = 0, k = 0;

	if (*s++ != '+')
		return -1;
	for (; isdigit((unsigned char)*s); s++) {
		if (++k > 2)
			return -1;
		n = n * 10 + (*s - '0');
	}
	if (k == 0 || (*s && strcmp(s, "名") != 0 && strcmp(s, "人") != 0))
		return -1;
	if (n > EVENT_GUESTS_MAX)
		return -1;
	*guests = n;
	return 0;
}

static int
evp_word(const char *s, size_t n, enum rsvp_answer *a)
{
	for (size_t i = 0; i < sizeof(answer_words) / sizeof(answer_words[0]);
	    i++)
		if (strlen(answer_words[i].word) == n &&
		    strncasecmp(s, answer_words[i].word, n) == 0) {
			*a = answer_words[i].answer;
			return 1;
		}
	return 0;
}

/*
 * Read one line as an answer: [rsvp] [EVENT] ANSWER [EVENT] [+N], where
 * ANSWER may carry its +N ("参加+1").  ref gets the event written, or
 * "".  0, or -1 when the line is not exactly an answer.
 */
int
event_answer_parse(const char *line, enum rsvp_answer *answer, int *guests,
    char *ref, size_t refsz)
{
	char *f = evp_fold(line, strlen(line)), *tok, *save = NULL;
	size_t len = strlen(f);
	int rc = 0;

	*answer = RSVP_NONE;
	*guests = 0;
	if (ref && refsz)
		*ref = '\0';
	/* Trailing punctuation: "参加します。", "Yes!" */
	for (;;) {
		if (len && strchr(".!", f[len - 1]))
			len--;
		else if (len >= 3 && strncmp(f + len - 3, "。", 3) == 0)
			len -= 3;
		else
			break;
	}
	f[len] = '\0';
	for (tok = strtok_r(f, " \t", &save); tok && rc == 0;
	    tok = strtok_r(NULL, " \t", &save)) {
		long long id;
		char *plus;
		enum rsvp_answer a;

		if (strcasecmp(tok, "rsvp") == 0 && *answer == RSVP_NONE)
			continue;
		if (events_parse_ref(tok, &id) == 0 && isalpha((unsigned
		    char)*tok)) {
			if (ref && refsz)
				snprintf(ref, refsz, "E%lld", id);
			continue;
		}
		if (*tok == '+') {
			if (*answer == RSVP_NONE || evp_guests(tok, guests))
				rc = -1;
			continue;
		}
		plus = strchr(tok, '+');
		if (*answer == RSVP_NONE && evp_word(tok, plus ?
		    (size_t)(plus - tok) : strlen(tok), &a)) {
			*answer = a;
			if (plus && evp_guests(plus, guests) != 0)
				rc = -1;
			continue;
		}
		rc = -1;
	}
	free(f);
	if (*answer == RSVP_NONE)
		rc = -1;
	if (rc == 0 && *answer == RSVP_NO)
		*guests = 0;
	return rc;
}

/*
 * The answer in a mail: its first line that is neither blank nor quoted,
 * or, when there is none, the Subject (less "Re:").  0 or -1.
 */
int
event_answer_from_mail(const char *text, const char *subject,
    enum rsvp_answer *answer, int *guests, char *ref, size_t refsz)
{
	const char *p = text ? text : "";

	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t n = eol ? (size_t)(eol - p) : strlen(p);
		char *line = evp_fold(p, n);

		if (*line != '\0' && *line != '>') {
			int rc = event_answer_parse(line, answer, guests, ref,
			    refsz);

			free(line);
			return rc;
		}
		free(line);
		p = eol ? eol + 1 : p + n;
	}
	if (subject == NULL)
		return -1;
	for (;;) {
		while (*subject == ' ')
			subject++;
		if (strncasecmp(subject, "re:", 3) == 0)
			subject += 3;
		else if (strncmp(subject, "返信:", strlen("返信:")) == 0)
			subject += strlen("返信:");
		else
			break;
	}
	return event_answer_parse(subject, answer, guests, ref, refsz);
}
