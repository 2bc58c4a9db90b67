/*
 * archive_render - the archive's pages and mbox, from kept copies.
 *
 * Pure functions of their input (plus attachment files written beside a
 * page), so the unit tests can check them without a daemon: the page of
 * one message (text/plain decoded from any Japanese charset, HTML never
 * rendered, attachments listed and offered as downloads), the month's
 * date and thread indexes, the list of months, and mboxrd escaping.
 */
#ifndef MLS_ARCHIVE_RENDER_H
#define MLS_ARCHIVE_RENDER_H

#include <stddef.h>

#include "archive.h"

struct buf;

/*
 * The page of E (raw: its kept copy, LF line ends).  Attachments are
 * written to MONTHDIR as "N-K-NAME" (K counts parts, NAME made safe);
 * MONTHDIR NULL writes none (the links are still made).  0 or -1.
 */
int	 archive_render_page(struct buf *out, const char *lang,
	    const char *listname, const struct archive_entry *e,
	    const char *raw, size_t len, const char *monthdir);
/* The month's pages by date, and by thread, from its entries in order. */
void	 archive_render_month(struct buf *out, const char *lang,
	    const char *listname, const char *month,
	    const struct archive_entry *, size_t n);
void	 archive_render_thread(struct buf *out, const char *lang,
	    const char *listname, const char *month,
	    const struct archive_entry *, size_t n);
/* DIR/index.html: MONTHS (newest first) with their COUNTS. */
void	 archive_render_months(struct buf *out, const char *lang,
	    const char *listname, char (*months)[8], const long long *counts,
	    size_t n);
/* One mbox entry: "From " line, the message mboxrd-escaped, blank line. */
void	 archive_mboxrd(struct buf *out, const char *from_addr, long long ts,
	    const char *raw, size_t len);
/* NAME reduced to [A-Za-z0-9._-], no leading dot, at most 80 octets. */
void	 archive_safe_name(struct buf *out, const char *name);

#endif
