/*
 * mime - the small MIME toolbox for rewriting posts: header fields of a
 * message or part, its Content-Type, the parts of a multipart body, and
 * transfer encodings.
 *
 * The list rewrites posts in a few narrow ways (a footer, a stripped
 * attachment, a dropped header field) and must leave every other octet
 * as it came, or signatures break and Japanese text turns to mojibake.
 * So nothing here rebuilds a message from a parse tree: the functions
 * find offsets in the original text and the callers splice.  Text is
 * taken with LF line ends (CRLF is tolerated where noted); the spool
 * writer makes it CRLF again.
 */
#ifndef MLS_MIME_H
#define MLS_MIME_H

#include <stddef.h>

#include "buf.h"

#define MIME_TYPE_MAX	128

/* A parsed Content-Type: "type/subtype" in lower case, and parameters. */
struct mime_ctype {
	char	 type[MIME_TYPE_MAX];	/* "text/plain" when absent */
	char	*charset;		/* as written, or NULL */
	char	*boundary;		/* or NULL */
	int	 given;			/* a Content-Type field was there */
};

/* The parts of a multipart body, as offsets into that body. */
struct mime_multi {
	size_t	*delim;		/* start of each "--B" delimiter line */
	size_t	*start;		/* start of each part (after its line) */
	size_t	*end;		/* end of each part (before the newline) */
	size_t	 n;		/* parts */
	size_t	 close;		/* start of the "--B--" line, or body len */
	int	 closed;	/* there was a close delimiter */
};

/* Header fields: a field is its first line and its continuations. */
typedef int mime_field_fn(const char *name, size_t namelen,
	    const char *field, size_t fieldlen, void *);

size_t	 mime_header_end(const char *, size_t);
void	 mime_fields_keep(struct buf *out, const char *hdr, size_t len,
	    mime_field_fn *, void *);
size_t	 mime_field_count(const char *, size_t, const char *name);
char	*mime_field_value(const char *, size_t, const char *name);
int	 mime_field_is(const char *name, size_t namelen, const char *want);

void	 mime_ctype_parse(const char *value, struct mime_ctype *);
void	 mime_ctype_of(const char *part, size_t len, struct mime_ctype *);
void	 mime_ctype_free(struct mime_ctype *);
int	 mime_type_match(const char *type, const char *pattern);

int	 mime_split(const char *body, size_t len, const char *boundary,
	    struct mime_multi *);
void	 mime_multi_free(struct mime_multi *);

void	 mime_cte_of(const char *part, size_t len, char *out, size_t outsz);
int	 mime_decode(const char *cte, const char *data, size_t len,
	    struct buf *out);
void	 mime_qp_encode(struct buf *out, const char *data, size_t len);
void	 mime_lf(struct buf *out, const char *data, size_t len);

#endif
