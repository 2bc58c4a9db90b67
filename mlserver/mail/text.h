/*
 * text - small UTF-8 primitives for mail text.
 *
 * Everything mlserver keeps internally is UTF-8; these helpers check it,
 * cut it without splitting a character, and fold the full-width ASCII
 * that Japanese input methods produce ("ＨＥＬＰ") to plain ASCII so a
 * command typed in either width reads the same.  No allocation except
 * through the struct buf the caller passes.
 */
#ifndef MLS_TEXT_H
#define MLS_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define TEXT_REPLACEMENT	"\xef\xbf\xbd"	/* U+FFFD in UTF-8 */

void	 text_fold_width(struct buf *out, const char *utf8);
int	 text_utf8_valid(const char *s, size_t len);
size_t	 text_utf8_prefix(const char *s, size_t maxoctets);
size_t	 text_utf8_char(const char *s, size_t len, uint32_t *cp);
void	 text_utf8_put(struct buf *out, uint32_t cp);

#endif
