/*
 * html - escaping, page frame, hidden addresses and atomic writes of
 * the static pages; see html.h.
 *
 * Escaping is done on the octets as they come (mail is hostile): every
 * sequence that is not valid UTF-8, and every control character other
 * than tab and line ends, becomes U+FFFD, so a page is always valid
 * UTF-8 and no byte can change the parser's state.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "html.h"
#include "log.h"
#include "xmalloc.h"

static size_t	 html_utf8_len(const unsigned char *, size_t);
static void	 html_escape_ascii(struct buf *, unsigned char);
static int	 html_write_all(int, const void *, size_t);
static int	 html_sync_dir(const char *);

#define HTML_REPLACEMENT	"\xef\xbf\xbd"

/*
 * The stylesheet: a narrow readable column, wrapping <pre> so that long
 * lines of a mail do not force a phone to scroll sideways.  "monospace,
 * monospace" keeps browsers from shrinking mail text to 13px.
 */
static const char html_style[] =
"html{-webkit-text-size-adjust:100%;text-size-adjust:100%}\n"
"body{margin:0 auto;max-width:46em;padding:.8em;font-family:sans-serif;"
"line-height:1.55;color:#222;background:#fff}\n"
"h1{font-size:1.3em;line-height:1.3}\n"
"h2{font-size:1.1em}\n"
"a{color:#0645ad}\n"
"pre{white-space:pre-wrap;overflow-wrap:anywhere;"
"font-family:monospace,monospace;font-size:.95em;"
"background:#f6f6f6;padding:.6em;border-radius:4px}\n"
"table{border-collapse:collapse;width:100%}\n"
"td,th{text-align:left;vertical-align:top;padding:.25em .4em;"
"border-bottom:1px solid #ddd}\n"
"ul{padding-left:1.2em}\n"
".msgs{list-style:none;padding-left:0}\n"
".msgs li{padding:.4em 0;border-bottom:1px solid #ddd}\n"
".n{color:#555;margin-right:.3em}\n"
".d{white-space:nowrap}\n"
"nav{margin:.6em 0;font-size:.95em}\n"
".meta{color:#555;font-size:.92em}\n"
".meta dt{float:left;clear:left;width:6em;font-weight:bold}\n"
".meta dd{margin-left:6.5em}\n"
"@media (max-width:30em){body{padding:.5em}"
".meta dt{float:none;width:auto}.meta dd{margin-left:0}}\n";

/*
 * The length of the valid UTF-8 sequence at P (at most N octets), or 0
 * when it is not one: overlong forms, surrogates and values past
 * U+10FFFF are refused as the standard requires.
 */
static size_t
html_utf8_len(const unsigned char *p, size_t n)
{
	uint32_t	c;
	size_t		len, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
		c = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		c = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		c = p[0] & 0x07;
	} else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3f);
	}
	if ((len == 3 && c < 0x800) || (len == 4 && c < 0x10000) ||
	    (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		return 0;
	/* C1 controls: HTML calls them parse errors; show them as U+FFFD. */
	if (c >= 0x80 && c <= 0x9f)
		return 0;
	return len;
}

static void
html_escape_ascii(struct buf *b, unsigned char c)
{
	switch (c) {
	case '&':
		buf_adds(b, "&amp;");
		break;
	case '<':
		buf_adds(b, "&lt;");
		break;
	case '>':
		buf_adds(b, "&gt;");
		break;
	case '"':
		buf_adds(b, "&quot;");
		break;
	case '\'':
		buf_adds(b, "&#39;");
		break;
	case '\t':
	case '\n':
		buf_addc(b, c);
		break;
	case '\r':
		/* CRLF text: the LF alone carries the line end. */
		break;
	default:
		if (c < 0x20 || c == 0x7f)
			buf_adds(b, HTML_REPLACEMENT);
		else
			buf_addc(b, c);
		break;
	}
}

void
html_escape(struct buf *b, const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, n;

	while (i < len) {
		if (p[i] < 0x80) {
			html_escape_ascii(b, p[i]);
			i++;
			continue;
		}
		n = html_utf8_len(p + i, len - i);
		if (n == 0) {
			buf_adds(b, HTML_REPLACEMENT);
			i++;
			continue;
		}
		buf_add(b, p + i, n);
		i += n;
	}
}

void
html_escapes(struct buf *b, const char *s)
{
	if (s != NULL)
		html_escape(b, s, strlen(s));
}

void
html_begin(struct buf *b, const char *lang, const char *title,
    const char *root_rel)
{
	buf_adds(b, "<!DOCTYPE html>\n<html lang=\"");
	html_escapes(b, lang != NULL ? lang : "en");
	buf_adds(b, "\">\n<head>\n<meta charset=\"utf-8\">\n"
	    "<meta name=\"viewport\" "
	    "content=\"width=device-width, initial-scale=1\">\n"
	    "<meta name=\"referrer\" content=\"no-referrer\">\n<title>");
	html_escapes(b, title);
	buf_adds(b, "</title>\n<link rel=\"stylesheet\" href=\"");
	html_escapes(b, root_rel != NULL ? root_rel : "");
	buf_adds(b, "style.css\">\n</head>\n<body>\n");
}

void
html_end(struct buf *b)
{
	buf_adds(b, "</body>\n</html>\n");
}

void
html_addr(struct buf *b, const char *addr)
{
	const char	*at, *dot;

	if (addr == NULL)
		return;
	at = strrchr(addr, '@');
	if (at == NULL) {
		html_escapes(b, addr);
		return;
	}
	html_escape(b, addr, (size_t)(at - addr));
	buf_adds(b, " at ");
	at++;
	dot = strchr(at, '.');
	if (dot == NULL) {
		html_escapes(b, at);
		return;
	}
	html_escape(b, at, (size_t)(dot - at));
	buf_adds(b, "\xe2\x80\xa6");
}

int
html_mkdirs(const char *dir)
{
	char	*p, *s;

	s = xstrdup(dir);
	for (p = s + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(s, 0755) == -1 && errno != EEXIST) {
			log_warn("html: mkdir %s", s);
			free(s);
			return -1;
		}
		*p = '/';
	}
	if (mkdir(s, 0755) == -1 && errno != EEXIST) {
		log_warn("html: mkdir %s", s);
		free(s);
		return -1;
	}
	free(s);
	return 0;
}

static int
html_write_all(int fd, const void *data, size_t len)
{
	const char	*p = data;
	ssize_t		 n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
html_sync_dir(const char *dir)
{
	int	fd;

	fd = open(dir, O_RDONLY | O_DIRECTORY);
	if (fd == -1)
		return -1;
	if (fsync(fd) == -1) {
		close(fd);
		return -1;
	}
	return close(fd);
}

int
html_write_raw(const char *path, const void *data, size_t len)
{
	struct buf	 tmp = BUF_INIT;
	char		*dir, *slash;
	int		 fd, rc = -1;

	dir = xstrdup(path);
	slash = strrchr(dir, '/');
	if (slash != NULL && slash != dir)
		*slash = '\0';
	else if (slash == dir)
		dir[1] = '\0';
	else {
		free(dir);
		dir = xstrdup(".");
	}
	if (html_mkdirs(dir) == -1)
		goto out;
	buf_printf(&tmp, "%s.tmp%ld", path, (long)getpid());
	fd = open(buf_cstr(&tmp), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644);
	if (fd == -1) {
		log_warn("html: open %s", buf_cstr(&tmp));
		goto out;
	}
	if (html_write_all(fd, data, len) == -1 || fsync(fd) == -1) {
		log_warn("html: write %s", buf_cstr(&tmp));
		close(fd);
		unlink(buf_cstr(&tmp));
		goto out;
	}
	if (close(fd) == -1) {
		log_warn("html: close %s", buf_cstr(&tmp));
		unlink(buf_cstr(&tmp));
		goto out;
	}
	if (rename(buf_cstr(&tmp), path) == -1) {
		log_warn("html: rename %s", path);
		unlink(buf_cstr(&tmp));
		goto out;
	}
	if (html_sync_dir(dir) == -1) {
		log_warn("html: fsync %s", dir);
		goto out;
	}
	rc = 0;
 out:
	buf_free(&tmp);
	free(dir);
	return rc;
}

int
html_write(const char *path, const struct buf *b)
{
	return html_write_raw(path, b->len > 0 ? b->data : "", b->len);
}

int
html_write_style(const char *dir)
{
	struct buf	path = BUF_INIT;
	int		rc;

	buf_printf(&path, "%s/style.css", dir);
	rc = html_write_raw(buf_cstr(&path), html_style,
	    sizeof(html_style) - 1);
	buf_free(&path);
	return rc;
}
