/*
 * charset_jis.h - private to charset.c and charset_jis.c; nothing else
 * includes it (the module's interface is charset.h).
 *
 * charset_jis.c reads and writes the ISO-2022-JP family; charset.c calls
 * it for those labels and for unlabelled text that holds escapes.  The
 * JIS code in turn leaves the table work to charset.c's iconv helpers and
 * hands 8-bit text without any escape back to charset_guess().  These are
 * the only names the two files share.
 */
#ifndef MLS_CHARSET_JIS_H
#define MLS_CHARSET_JIS_H

#include <iconv.h>
#include <stddef.h>

#include "buf.h"

#define ICONV_NONE	((iconv_t)-1)

/* A run of input iconv converts, and what to do where it cannot. */
struct charset_conv {
	iconv_t		 cd;
	iconv_t		 alt;	/* tried on what cd rejects, or ICONV_NONE */
	size_t		(*skip)(const unsigned char *, size_t);
	const char	*repl;	/* written for what neither converts */
};

/* charset_jis.c */
int	 charset_has_escape(const char *, size_t);
void	 charset_jis_decode(const char *, size_t, struct buf *, size_t *);
int	 charset_jis_encode(const char *, size_t, struct buf *);

/* charset.c */
int	 charset_iconv_open(iconv_t *, const char *, const char *);
void	 charset_iconv_run(const struct charset_conv *, const char *, size_t,
	    struct buf *, size_t *);
void	 charset_guess(const char *, size_t, struct buf *, size_t *);
size_t	 charset_skip_one(const unsigned char *, size_t);
size_t	 charset_skip_cp932(const unsigned char *, size_t);
size_t	 charset_skip_euc(const unsigned char *, size_t);

#endif
