/*
 * message - parsing incoming mail with libetpan; see message.h.
 *
 * libetpan's MIME parser accepts almost anything; what it cannot parse
 * at all (no header fields) makes message_parse() fail, and the caller
 * quarantines the message.  Header values are read raw and decoded by
 * encword, which knows the Japanese charsets libetpan's iconv does not.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include <libetpan/libetpan.h>

#include "buf.h"
#include "charset.h"
#include "encword.h"
#include "log.h"
#include "message.h"
#include "xmalloc.h"

static void	 message_fields(struct message *, struct mailimf_fields *);
static void	 message_mailbox(struct mailimf_mailbox_list *, char *,
		    char **);
static void	 message_address(struct mailimf_address_list *, char *);
static struct mailmime *message_first_text(struct mailmime *);
static void	 message_dsn(struct message *, struct mailmime *);
static void	 message_text(struct message *, struct mailmime *);
static char	*message_unfold(const char *);
static size_t	 message_boundaries(const char *, size_t);
static void	 message_to_utf8(const char *, const char *, size_t,
		    struct buf *);

/* The offset where the body starts (after the empty line), or len. */
size_t
message_header_end(const char *raw, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (raw[i] != '\n')
			continue;
		if (i + 1 < len && raw[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && raw[i + 1] == '\r' && raw[i + 2] == '\n')
			return i + 3;
	}
	return len;
}

/*
 * The unfolded raw value of the first header field called name, or NULL.
 * Allocated.
 */
char *
message_header_get(const char *raw, size_t len, const char *name)
{
	size_t end = message_header_end(raw, len), n = strlen(name), i = 0;
	struct buf b = BUF_INIT;

	while (i < end) {
		size_t eol = i;

		while (eol < end && raw[eol] != '\n')
			eol++;
		if (eol - i > n && raw[i + n] == ':' &&
		    strncasecmp(raw + i, name, n) == 0) {
			size_t j = i + n + 1;

			for (;;) {
				while (j < eol && (raw[j] == ' ' ||
				    raw[j] == '\t') && b.len == 0)
					j++;
				buf_add(&b, raw + j, eol - j);
				while (b.len && (b.data[b.len - 1] == '\r'))
					b.len--;
				if (eol + 1 < end && (raw[eol + 1] == ' ' ||
				    raw[eol + 1] == '\t')) {
					j = eol + 1;
					eol = j;
					while (eol < end && raw[eol] != '\n')
						eol++;
					continue;
				}
				break;
			}
			return buf_release(&b);
		}
		i = eol + 1;
	}
	return NULL;
}

static char *
message_unfold(const char *s)
{
	struct buf b = BUF_INIT;

	for (; *s; s++) {
		if (*s == '\r' || *s == '\n')
			continue;
		buf_addc(&b, *s);
	}
	/* Trim blanks around the value. */
	while (b.len && (b.data[b.len - 1] == ' ' || b.data[b.len - 1] == '\t'))
		b.len--;
	buf_cstr(&b);
	{
		size_t k = strspn(b.data, " \t");

		if (k)
			memmove(b.data, b.data + k, b.len - k + 1);
	}
	return buf_release(&b);
}

static void
message_mailbox(struct mailimf_mailbox_list *l, char *addr, char **name)
{
	struct mailimf_mailbox *mb;

	if (l == NULL || clist_begin(l->mb_list) == NULL)
		return;
	mb = clist_content(clist_begin(l->mb_list));
	if (mb->mb_addr_spec == NULL ||
	    addr_canon(mb->mb_addr_spec, addr, ADDR_MAX + 1) != 0)
		addr[0] = '\0';
	if (name && mb->mb_display_name) {
		struct buf b = BUF_INIT;

		/*
		 * A later From (the first had no usable address) brings
		 * its own name: the earlier one goes, or it leaks.
		 */
		free(*name);
		*name = NULL;
		if (encword_decode(mb->mb_display_name, &b) == 0 && b.len)
			*name = buf_release(&b);
		buf_free(&b);
	}
}

static void
message_address(struct mailimf_address_list *l, char *addr)
{
	struct mailimf_address *a;

	if (l == NULL || clist_begin(l->ad_list) == NULL)
		return;
	a = clist_content(clist_begin(l->ad_list));
	if (a->ad_type == MAILIMF_ADDRESS_MAILBOX) {
		struct mailimf_mailbox *mb = a->ad_data.ad_mailbox;

		if (mb->mb_addr_spec == NULL ||
		    addr_canon(mb->mb_addr_spec, addr, ADDR_MAX + 1) != 0)
			addr[0] = '\0';
	}
}

static void
message_fields(struct message *m, struct mailimf_fields *fields)
{
	clistiter *it;

	for (it = clist_begin(fields->fld_list); it; it = clist_next(it)) {
		struct mailimf_field *f = clist_content(it);
		struct mailimf_optional_field *o;
		char **slot = NULL;

		switch (f->fld_type) {
		case MAILIMF_FIELD_FROM:
			if (m->from[0] == '\0')
				message_mailbox(f->fld_data.fld_from->
				    frm_mb_list, m->from, &m->from_name);
			break;
		case MAILIMF_FIELD_SENDER:
			if (f->fld_data.fld_sender->snd_mb &&
			    f->fld_data.fld_sender->snd_mb->mb_addr_spec &&
			    addr_canon(f->fld_data.fld_sender->snd_mb->
			    mb_addr_spec, m->sender, sizeof(m->sender)) != 0)
				m->sender[0] = '\0';
			break;
		case MAILIMF_FIELD_REPLY_TO:
			message_address(f->fld_data.fld_reply_to->rt_addr_list,
			    m->reply_to);
			break;
		case MAILIMF_FIELD_MESSAGE_ID:
			if (m->message_id == NULL &&
			    f->fld_data.fld_message_id->mid_value)
				m->message_id = xstrdup(
				    f->fld_data.fld_message_id->mid_value);
			break;
		case MAILIMF_FIELD_OPTIONAL_FIELD:
			o = f->fld_data.fld_optional_field;
			if (strcasecmp(o->fld_name, "Auto-Submitted") == 0)
				slot = &m->auto_submitted;
			else if (strcasecmp(o->fld_name, "Precedence") == 0)
				slot = &m->precedence;
			else if (strcasecmp(o->fld_name, "List-Id") == 0)
				slot = &m->list_id;
			else if (strcasecmp(o->fld_name, "X-Loop") == 0)
				slot = &m->x_loop;
			if (slot && *slot == NULL && o->fld_value)
				*slot = message_unfold(o->fld_value);
			break;
		default:
			break;
		}
	}
}

/* The first text/plain leaf, depth first; a message without any
 * Content-Type is text/plain. */
static struct mailmime *
message_first_text(struct mailmime *mime)
{
	struct mailmime_content *ct = mime->mm_content_type;
	clistiter *it;

	switch (mime->mm_type) {
	case MAILMIME_SINGLE:
		if (ct == NULL)
			return mime;
		if (ct->ct_type->tp_type == MAILMIME_TYPE_DISCRETE_TYPE &&
		    ct->ct_type->tp_data.tp_discrete_type->dt_type ==
		    MAILMIME_DISCRETE_TYPE_TEXT &&
		    strcasecmp(ct->ct_subtype, "plain") == 0)
			return mime;
		return NULL;
	case MAILMIME_MULTIPLE:
		for (it = clist_begin(mime->mm_data.mm_multipart.mm_mp_list);
		    it; it = clist_next(it)) {
			struct mailmime *r = message_first_text(
			    clist_content(it));

			if (r)
				return r;
		}
		return NULL;
	case MAILMIME_MESSAGE:
		/* Only the top level: an attached message is not ours. */
		if (mime->mm_parent == NULL &&
		    mime->mm_data.mm_message.mm_msg_mime)
			return message_first_text(
			    mime->mm_data.mm_message.mm_msg_mime);
		return NULL;
	}
	return NULL;
}

/*
 * Bytes in charset (NULL when undeclared) to UTF-8.  An undeclared or
 * US-ASCII label on 8-bit or escape-laden text is common in Japanese mail
 * from old clients; the bytes decide then.
 */
static void
message_to_utf8(const char *charset, const char *s, size_t n,
    struct buf *out)
{
	if (charset == NULL || strcasecmp(charset, "us-ascii") == 0) {
		if (memchr(s, 0x1b, n) != NULL)
			charset_to_utf8("iso-2022-jp", s, n, out);
		else
			charset_guess_to_utf8(s, n, out);
		return;
	}
	if (charset_to_utf8(charset, s, n, out) != 0) {
		buf_reset(out);
		charset_guess_to_utf8(s, n, out);
	}
}

/*
 * Keep the message/delivery-status part of a report (RFC 3464) for the
 * bounce handler, as text: libetpan sees it as a leaf or, in some
 * versions, as a message; either way its octets are taken as they are.
 */
static void
message_dsn(struct message *m, struct mailmime *mime)
{
	struct mailmime_content *ct = mime->mm_content_type;
	clistiter *it;

	if (m->dsn != NULL)
		return;
	if (mime->mm_type == MAILMIME_MULTIPLE) {
		for (it = clist_begin(mime->mm_data.mm_multipart.mm_mp_list);
		    it; it = clist_next(it))
			message_dsn(m, clist_content(it));
		return;
	}
	if (ct == NULL || ct->ct_subtype == NULL ||
	    strcasecmp(ct->ct_subtype, "delivery-status") != 0)
		return;
	if (mime->mm_type == MAILMIME_SINGLE && mime->mm_data.mm_single &&
	    mime->mm_data.mm_single->dt_type == MAILMIME_DATA_TEXT) {
		struct mailmime_data *d = mime->mm_data.mm_single;

		m->dsn = xstrndup(d->dt_data.dt_text.dt_data,
		    d->dt_data.dt_text.dt_length);
		m->dsn_len = d->dt_data.dt_text.dt_length;
	} else if (mime->mm_mime_start && mime->mm_length) {
		m->dsn = xstrndup(mime->mm_mime_start, mime->mm_length);
		m->dsn_len = mime->mm_length;
	}
}

static void
message_text(struct message *m, struct mailmime *part)
{
	struct mailmime_data *d = part->mm_data.mm_single;
	char *decoded = NULL, *cs = NULL;
	size_t idx = 0, dlen = 0;
	int enc = MAILMIME_MECHANISM_8BIT;
	struct buf b = BUF_INIT;

	if (d == NULL || d->dt_type != MAILMIME_DATA_TEXT)
		return;
	if (part->mm_mime_fields)
		enc = mailmime_transfer_encoding_get(part->mm_mime_fields);
	if (part->mm_content_type)
		cs = mailmime_content_charset_get(part->mm_content_type);
	if (mailmime_part_parse(d->dt_data.dt_text.dt_data,
	    d->dt_data.dt_text.dt_length, &idx, enc, &decoded,
	    &dlen) != MAILIMF_NO_ERROR) {
		log_debug("text part: transfer decoding failed");
		return;
	}
	message_to_utf8(cs, decoded, dlen, &b);
	mailmime_decoded_part_free(decoded);
	m->text_charset = cs ? xstrdup(cs) : NULL;
	m->text = buf_release(&b);
}

/*
 * How many boundary parameters raw declares (the word "boundary" before
 * '=' or '*', in any case), whether or not they are in a header.
 * libetpan's MIME parser takes time in the square of the nesting depth:
 * 10,000 nested multiparts (730 KB) took 4 s, 30,000 more than a minute,
 * while the processor, and all mail behind the message, waited.  One
 * linear pass here keeps such a message away from it.
 */
static size_t
message_boundaries(const char *raw, size_t len)
{
	static const char word[] = "boundary";
	size_t i, j, n = 0;

	for (i = 0; i + sizeof(word) - 1 < len; i++) {
		if ((raw[i] | 0x20) != 'b' ||
		    strncasecmp(raw + i, word, sizeof(word) - 1) != 0)
			continue;
		for (j = i + sizeof(word) - 1; j < len &&
		    (raw[j] == ' ' || raw[j] == '\t'); j++)
			;
		if (j < len && (raw[j] == '=' || raw[j] == '*'))
			n++;
	}
	return n;
}

/*
 * Parse raw (len octets).  Returns 0, or -1 when it is not a mail message
 * (nothing that parses as header fields).  message_free() in both cases.
 */
int
message_parse(const char *raw, size_t len, struct message *m)
{
	struct mailmime *mime = NULL;
	struct buf b = BUF_INIT;
	size_t idx = 0;
	char *subj;

	memset(m, 0, sizeof(*m));
	m->raw = raw;
	m->len = len;
	m->body_off = message_header_end(raw, len);
	charset_install_libetpan();
	if (message_boundaries(raw, len) > MESSAGE_MAX_BOUNDARIES) {
		log_warnx("message: more than %d MIME boundaries",
		    MESSAGE_MAX_BOUNDARIES);
		return -1;
	}
	if (mailmime_parse(raw, len, &idx, &mime) != MAILIMF_NO_ERROR ||
	    mime == NULL)
		return -1;
	if (mime->mm_type != MAILMIME_MESSAGE ||
	    mime->mm_data.mm_message.mm_fields == NULL ||
	    clist_count(mime->mm_data.mm_message.mm_fields->fld_list) == 0) {
		mailmime_free(mime);
		return -1;
	}
	message_fields(m, mime->mm_data.mm_message.mm_fields);

	/* The Subject, raw then decoded: libetpan drops what it cannot. */
	if ((subj = message_header_get(raw, len, "Subject")) != NULL) {
		if (encword_decode(subj, &b) != 0)
			log_debug("subject not decodable");
		free(subj);
	}
	m->subject = buf_release(&b);

	if (mime->mm_data.mm_message.mm_msg_mime) {
		struct mailmime *body = mime->mm_data.mm_message.mm_msg_mime;
		struct mailmime_content *ct = body->mm_content_type;
		struct mailmime *text;

		if (ct && ct->ct_type->tp_type ==
		    MAILMIME_TYPE_COMPOSITE_TYPE && ct->ct_subtype &&
		    strcasecmp(ct->ct_subtype, "report") == 0) {
			m->is_dsn = 1;
			message_dsn(m, body);
		}
		if ((text = message_first_text(body)) != NULL)
			message_text(m, text);
	}
	mailmime_free(mime);
	return 0;
}

void
message_free(struct message *m)
{
	free(m->from_name);
	free(m->subject);
	free(m->message_id);
	free(m->auto_submitted);
	free(m->precedence);
	free(m->list_id);
	free(m->x_loop);
	free(m->text);
	free(m->text_charset);
	free(m->dsn);
	memset(m, 0, sizeof(*m));
}
