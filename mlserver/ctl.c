/*
 * ctl - CSV member files and JSON output for mlserverctl; see ctl.h.
 *
 * The CSV is RFC 4180 (quoted fields, doubled quotes, CRLF or LF), UTF-8
 * with or without the BOM Excel writes, as address,name[,mode].  A first
 * row whose first field is not an address but a column title is skipped.
 */
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "buf.h"
#include "ctl.h"
#include "members.h"
#include "store.h"
#include "text.h"
#include "xmalloc.h"

static int	ctl_csv_record(const char **, const char *, char ***, size_t *);
static void	ctl_fields_free(char **, size_t);
static int	ctl_is_title(const char *);

static void
ctl_fields_free(char **f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(f[i]);
	free(f);
}

/*
 * One record starting at *p: its fields in *fields.  Returns 0, or -1 on
 * an unterminated quote.  *p is left after the record's line end.
 */
static int
ctl_csv_record(const char **p, const char *end, char ***fields, size_t *n)
{
	const char *s = *p;
	struct buf f = BUF_INIT;

	*fields = NULL;
	*n = 0;
	for (;;) {
		int quoted = 0;

		buf_reset(&f);
		if (s < end && *s == '"') {
			quoted = 1;
			s++;
			for (;;) {
				if (s >= end) {
					buf_free(&f);
					ctl_fields_free(*fields, *n);
					*fields = NULL;
					*n = 0;
					*p = end;
					return -1;
				}
				if (*s == '"') {
					if (s + 1 < end && s[1] == '"') {
						buf_addc(&f, '"');
						s += 2;
						continue;
					}
					s++;
					break;
				}
				buf_addc(&f, *s++);
			}
		}
		while (s < end && *s != ',' && *s != '\n' && *s != '\r')
			buf_addc(&f, *s++);
		*fields = xrealloc(*fields, (*n + 1) * sizeof(char *));
		{
			/* Blanks around unquoted fields are not data. */
			const char *v = buf_cstr(&f);
			size_t len = f.len;

			if (!quoted) {
				while (*v == ' ' || *v == '\t')
					v++, len--;
				while (len && (v[len - 1] == ' ' ||
				    v[len - 1] == '\t'))
					len--;
			}
			(*fields)[(*n)++] = xstrndup(v, len);
		}
		if (s < end && *s == ',') {
			s++;
			continue;
		}
		break;
	}
	if (s < end && *s == '\r')
		s++;
	if (s < end && *s == '\n')
		s++;
	*p = s;
	buf_free(&f);
	return 0;
}

static int
ctl_is_title(const char *s)
{
	return strcasecmp(s, "address") == 0 || strcasecmp(s, "email") == 0 ||
	    strcasecmp(s, "e-mail") == 0 || strcmp(s, "メールアドレス") == 0 ||
	    strcmp(s, "アドレス") == 0;
}

/*
 * Parse and check a whole file.  Returns the number of bad rows (each
 * reported in errors as "line N: why"); rows holds the good ones.
 */
int
ctl_csv_parse(const char *data, size_t len, struct ctl_rows *rows,
    struct buf *errors)
{
	const char *p = data, *end = data + len;
	int line = 0, bad = 0;

	rows->v = NULL;
	rows->n = 0;
	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	while (p < end) {
		char **f, canon[ADDR_MAX + 1];
		size_t n, i;
		const char *start = p;
		enum member_mode mode;

		line++;
		if (ctl_csv_record(&p, end, &f, &n) != 0) {
			buf_printf(errors, "line %d: unterminated quote\n",
			    line);
			bad++;
			break;
		}
		for (const char *q = start; q < p; q++)	/* quoted newlines */
			if (*q == '\n' && q + 1 < p)
				line++;
		if (n == 1 && f[0][0] == '\0') {
			ctl_fields_free(f, n);
			continue;	/* an empty line */
		}
		if (rows->n == 0 && bad == 0 && ctl_is_title(f[0])) {
			ctl_fields_free(f, n);
			continue;
		}
		for (i = 0; i < n; i++)
			if (!text_utf8_valid(f[i], strlen(f[i])))
				break;
		if (i < n)
			buf_printf(errors, "line %d: not UTF-8 text\n", line);
		else if (addr_canon(f[0], canon, sizeof(canon)) != 0)
			buf_printf(errors, "line %d: \"%s\" is not a mail "
			    "address\n", line, f[0]);
		else if (n > 2 && *f[2] && members_mode_parse(f[2], &mode))
			buf_printf(errors, "line %d: mode \"%s\" is not "
			    "normal, digest or nomail\n", line, f[2]);
		else {
			struct ctl_row *r;

			rows->v = xrealloc(rows->v, (rows->n + 1) *
			    sizeof(*rows->v));
			r = &rows->v[rows->n++];
			r->addr = xstrdup(canon);
			r->name = xstrdup(n > 1 ? f[1] : "");
			r->mode = n > 2 && *f[2] ? xstrdup(f[2]) : NULL;
			r->line = line;
			ctl_fields_free(f, n);
			continue;
		}
		bad++;
		ctl_fields_free(f, n);
	}
	return bad;
}

void
ctl_rows_free(struct ctl_rows *rows)
{
	for (size_t i = 0; i < rows->n; i++) {
		free(rows->v[i].addr);
		free(rows->v[i].name);
		free(rows->v[i].mode);
	}
	free(rows->v);
	rows->v = NULL;
	rows->n = 0;
}

/* Write every row in one transaction; 0, or -1 with nothing written. */
int
ctl_import(struct store *st, const char *list, const struct ctl_rows *rows,
    int *added)
{
	*added = 0;
	if (store_begin(st) != 0)
		return -1;
	for (size_t i = 0; i < rows->n; i++) {
		const struct ctl_row *r = &rows->v[i];
		enum member_mode mode;
		int rc = members_add(st, list, r->addr, r->name);

		if (rc < 0)
			goto fail;
		*added += rc;
		if (r->mode && members_mode_parse(r->mode, &mode) == 0 &&
		    members_set_mode(st, list, r->addr, mode) < 0)
			goto fail;
	}
	return store_commit(st);
fail:
	store_rollback(st);
	*added = 0;
	return -1;
}

/* A CSV field, quoted when it must be. */
void
ctl_csv_field(struct buf *b, const char *s)
{
	if (strpbrk(s, ",\"\r\n") == NULL) {
		buf_adds(b, s);
		return;
	}
	buf_addc(b, '"');
	for (; *s; s++) {
		if (*s == '"')
			buf_addc(b, '"');
		buf_addc(b, *s);
	}
	buf_addc(b, '"');
}

void
ctl_json_string(struct buf *b, const char *s)
{
	buf_addc(b, '"');
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			buf_printf(b, "\\%c", c);
		else if (c == '\n')
			buf_adds(b, "\\n");
		else if (c < 0x20)
			buf_printf(b, "\\u%04x", c);
		else
			buf_addc(b, (char)c);
	}
	buf_addc(b, '"');
}
