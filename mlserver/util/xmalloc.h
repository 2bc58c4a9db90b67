/*
 * xmalloc - allocation that never returns NULL.
 *
 * A daemon that runs out of memory cannot do anything useful with the
 * error, and checking every allocation hides the real error paths.  As in
 * Postfix's mymalloc(), failure logs and aborts; the spool keeps what was
 * accepted, and the restart resumes.
 */
#ifndef MLS_XMALLOC_H
#define MLS_XMALLOC_H

#include <stddef.h>
#include <stdlib.h>

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);

#endif
