/*
 * html - a small writer of static HTML pages, shared by the web archive
 * (archive_*.c) and the proposal and event pages.
 *
 * Everything that ends up in a page goes through html_escape(), which
 * also replaces invalid UTF-8 and control characters, so a hostile
 * Subject or body can never open a tag, an attribute or a script.
 * Pages are written atomically (html_write) so a web server never serves
 * half a page, and they need no JavaScript: one small stylesheet,
 * readable on a phone (html_write_style).
 */
#ifndef MLS_HTML_H
#define MLS_HTML_H

#include <stddef.h>

#include "buf.h"

/* Appends S (LEN octets) escaped for text and for quoted attribute values. */
void	 html_escape(struct buf *, const char *s, size_t len);
/* Appends S (a C string) escaped; NULL appends nothing. */
void	 html_escapes(struct buf *, const char *s);
/*
 * Opens a page: doctype, <html lang=LANG>, charset, viewport, title and a
 * link to ROOT_REL "style.css" (ROOT_REL is the way from the page to the
 * directory holding the stylesheet: "" or "../"), then <body>.
 */
void	 html_begin(struct buf *, const char *lang, const char *title,
	    const char *root_rel);
void	 html_end(struct buf *);
/*
 * Appends a mail address in a form harvesters do not recognise but a
 * person reads: "taro at example…" (the local part, " at ", the first
 * label of the domain and an ellipsis when more labels follow).  No '@'
 * and no full domain is ever written, and the result is escaped.
 */
void	 html_addr(struct buf *, const char *addr);
/*
 * Writes BUF to PATH atomically: a temporary file in the same directory,
 * fsync, rename, fsync of the directory.  Creates missing parent
 * directories.  Returns 0, or -1 after logging why.
 */
int	 html_write(const char *path, const struct buf *);
/* Same for any octets (attachments beside a page). */
int	 html_write_raw(const char *path, const void *data, size_t len);
/* Writes DIR/style.css, the one stylesheet of every page.  0 or -1. */
int	 html_write_style(const char *dir);
/* Creates DIR and its missing parents (mode 0755).  0 or -1, logged. */
int	 html_mkdirs(const char *dir);

#endif
