/*
 * charset - conversion between mail charsets and UTF-8.
 *
 * Inside mlserver all text is UTF-8.  Posts arrive in whatever Japanese
 * clients write, and those write ISO-2022-JP as Windows does (CP50220
 * and friends: NEC row 13 such as ① and ㈱, IBM extensions, half-width
 * katakana), which glibc's iconv rejects.  This module decodes that family
 * itself and leaves the table work to iconv's CP932, so text survives that
 * a plain iconv("ISO-2022-JP") would turn into an error or into "?".
 * The reverse direction writes footers in a post's own charset.
 *
 * Charset names are matched case-insensitively.  iconv descriptors are
 * opened per call and never shared, so every function is thread-safe.
 */
#ifndef MLS_CHARSET_H
#define MLS_CHARSET_H

#include <stddef.h>

#include "buf.h"

int	 charset_to_utf8(const char *charset, const char *in, size_t len,
	    struct buf *out);
int	 charset_to_utf8_ex(const char *charset, const char *in, size_t len,
	    struct buf *out, size_t *nbad);
int	 charset_guess_to_utf8(const char *in, size_t len, struct buf *out);
int	 charset_from_utf8(const char *charset, const char *in, size_t len,
	    struct buf *out);
int	 charset_known(const char *charset);
void	 charset_install_libetpan(void);

#endif
