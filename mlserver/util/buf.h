/*
 * buf - a growing byte string, always NUL-terminated.
 *
 * The one buffer type of mlserver (Postfix's VSTRING in spirit): every
 * function that builds text appends to a struct buf instead of juggling
 * fixed arrays.  Allocation failure is fatal (see xmalloc.h), so no call
 * here returns an error.
 */
#ifndef MLS_BUF_H
#define MLS_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char	*data;		/* always NUL-terminated when cap > 0 */
	size_t	 len;
	size_t	 cap;
};

#define BUF_INIT { NULL, 0, 0 }

void	 buf_init(struct buf *);
void	 buf_free(struct buf *);
void	 buf_reset(struct buf *);
void	 buf_add(struct buf *, const void *, size_t);
void	 buf_adds(struct buf *, const char *);
void	 buf_addc(struct buf *, int);
void	 buf_printf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 buf_vprintf(struct buf *, const char *, va_list);
const char *buf_cstr(struct buf *);
char	*buf_release(struct buf *);

#endif
