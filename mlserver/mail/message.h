/*
 * message - what mlserver needs to know of an incoming message, parsed
 * with libetpan.
 *
 * message_parse() reads the header fields the routing and command code
 * act on, decodes the Subject and the sender's name to UTF-8 from any of
 * the charsets Japanese mail comes in, and decodes the first text/plain
 * part (transfer encoding and charset) for the command reader.  The raw
 * bytes are not copied: a struct message points into the caller's buffer
 * for the header/body split, and owns everything else.
 */
#ifndef MLS_MESSAGE_H
#define MLS_MESSAGE_H

#include <stddef.h>

#include "addr.h"

struct message {
	const char	*raw;
	size_t		 len;
	size_t		 body_off;	/* offset of the body in raw */

	char		 from[ADDR_MAX + 1];	/* canonical, or "" */
	char		*from_name;	/* UTF-8, or NULL */
	char		 sender[ADDR_MAX + 1];
	char		 reply_to[ADDR_MAX + 1];
	char		*subject;	/* UTF-8, "" when absent */
	char		*message_id;	/* without brackets, or NULL */
	char		*auto_submitted;
	char		*precedence;
	char		*list_id;
	char		*x_loop;
	int		 is_dsn;	/* multipart/report */
	char		*dsn;		/* its message/delivery-status text */
	size_t		 dsn_len;
	char		*text;		/* first text/plain, UTF-8, or NULL */
	char		*text_charset;	/* its declared charset, or NULL */
};

/*
 * A message declaring more MIME boundaries than this is not parsed (see
 * message_boundaries in message.c): message_parse() fails, the processor
 * quarantines it.
 */
#define MESSAGE_MAX_BOUNDARIES	1000

int	 message_parse(const char *raw, size_t len, struct message *);
void	 message_free(struct message *);
size_t	 message_header_end(const char *raw, size_t len);
char	*message_header_get(const char *raw, size_t len, const char *name);

#endif
