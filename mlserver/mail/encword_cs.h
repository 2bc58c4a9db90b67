/*
 * encword_cs - RFC 2047 encoded words in a charset other than UTF-8,
 * for the readers that need it: older Japanese phones and clients read
 * "=?ISO-2022-JP?B?...?=" and nothing else.
 *
 * Each word holds whole characters, starts and ends in ASCII mode (so
 * each decodes on its own), and is at most 75 octets; lines are folded
 * between words within 78.  Text the charset cannot carry exactly (an
 * emoji, a character outside JIS X 0208 and its Microsoft extensions,
 * half-width katakana that ISO-2022-JP would widen) is written as UTF-8
 * words instead, and the functions say so: a reader gets the right text
 * either way, never a "?".
 */
#ifndef MLS_ENCWORD_CS_H
#define MLS_ENCWORD_CS_H

#include <stddef.h>

#include "buf.h"

int	 encword_cs_exact(const char *charset, const char *utf8);
int	 encword_cs_encode(struct buf *out, const char *utf8, size_t used,
	    const char *charset);
int	 encword_cs_phrase(struct buf *out, const char *utf8,
	    const char *charset);
void	 encword_cs_recode(struct buf *out, const char *hdr, size_t len,
	    const char *charset);
int	 encword_cs_is_utf8(const char *charset);

#endif
