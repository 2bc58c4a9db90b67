/*
 * encword - RFC 2047 encoded words, both ways.
 *
 * Headers reach mlserver in every charset Japanese clients use, often
 * split mid-character across words; they leave as UTF-8 "B" words that
 * every client reads.  Decoding joins adjacent words of one charset
 * before converting, and reads raw 8-bit header text as UTF-8, CP932 or
 * EUC-JP; encoding keeps lines within 78 octets and never splits a
 * character.  Output folds with "\n " (LF); the composer makes it CRLF.
 */
#ifndef MLS_ENCWORD_H
#define MLS_ENCWORD_H

#include <stddef.h>

#include "buf.h"

#define ENCWORD_MAXLEN	75	/* RFC 2047: octets in one encoded word */
#define ENCWORD_LINELEN	78	/* RFC 5322: recommended line length */

void	 encword_encode(struct buf *out, const char *utf8, size_t used);
void	 encword_phrase(struct buf *out, const char *utf8);
int	 encword_decode(const char *raw, struct buf *out);

#endif
