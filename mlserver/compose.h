/*
 * compose - the mail mlserver writes itself (replies, confirmations,
 * notices) and the queueing of any outgoing message.
 *
 * A composed mail is UTF-8 text in base64 (safe through any relay and
 * read by every client, phones included), with RFC 2047 header fields,
 * our own Message-ID, and Auto-Submitted as the contract asks.  A list
 * with charset = "iso-2022-jp" gets its mail in ISO-2022-JP (7bit, and
 * encoded words in that charset) wherever that carries the text exactly,
 * for older phones; compose_queue() does that from the list's name, so
 * callers need not know.  Every
 * outgoing message, composed here or rewritten by post, leaves through
 * compose_queue(): written durably to out/ with CRLF line ends, then
 * queued in the same database transaction as whatever caused it.
 */
#ifndef MLS_COMPOSE_H
#define MLS_COMPOSE_H

#include <stddef.h>

#include "buf.h"
#include "spool.h"

struct config;
struct list;
struct store;
struct tvar;

/*
 * A part after the text: the bytes, their Content-Type value (e.g.
 * "text/csv; charset=UTF-8" or "message/rfc822") and the file name a
 * reader sees, UTF-8, or NULL.  A message/rfc822 part goes as it is
 * (7bit or 8bit), any other in base64, so its bytes arrive exactly.
 */
struct compose_part {
	char		*type;
	char		*filename;
	char		*data;
	size_t		 len;
};

struct compose_parts {
	struct compose_part	*v;
	size_t			 n;
};

struct compose {
	struct buf	 hdr;		/* header fields, LF line ends */
	struct buf	 text;		/* the body, UTF-8 */
	const char	*attach;	/* a message/rfc822 part, or NULL */
	size_t		 attach_len;
	const struct compose_parts *parts;	/* after attach; borrowed */
	char		 id[SPOOL_ID_LEN + 1];
};

void	 compose_parts_add(struct compose_parts *, const char *type,
	    const char *filename, const void *data, size_t len);
void	 compose_parts_free(struct compose_parts *);
void	 compose_init(struct compose *);
void	 compose_free(struct compose *);
void	 compose_field(struct compose *, const char *name, const char *raw);
void	 compose_field_text(struct compose *, const char *name,
	    const char *utf8);
void	 compose_field_addr(struct compose *, const char *name,
	    const char *display_utf8, const char *addr);
void	 compose_basics(struct compose *, const struct config *,
	    const char *auto_submitted, const char *in_reply_to);
int	 compose_template(struct compose *, const struct config *,
	    const char *lang, const char *name, const struct tvar *, size_t);
int	 compose_queue(struct compose *, struct store *,
	    const struct config *, const char *list, const char *kind,
	    const char *env_sender, char *const *rcpts, size_t nrcpts);
int	 compose_write_out(const struct config *, struct store *,
	    const char *id, const char *data, size_t len);
void	 compose_date(struct buf *);
void	 compose_list_addr(struct buf *, const struct config *,
	    const struct list *, const char *suffix);
void	 compose_list_fields(struct compose *, const struct config *,
	    const struct list *, const char *subject_utf8);

/*
 * For mail that builds its own MIME structure around the text (event
 * mail with its calendar parts): the list's charset (NULL: UTF-8), the
 * header recoded in it plus MIME-Version, and the text part in it.
 */
const char *compose_charset(const struct config *, const char *list);
void	 compose_header(struct buf *, const struct compose *, const char *cs);
void	 compose_text_part(struct buf *, const struct buf *text,
	    const char *cs);

#endif
