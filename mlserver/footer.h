/*
 * footer - the list's footer (optional, per list: footer = "...") added
 * to a post, without breaking what the post already is.
 *
 * Where it goes depends on the post's structure:
 *
 *	text/plain (one part)	appended to the text, in the part's own
 *				charset (ISO-2022-JP, Shift_JIS, EUC-JP,
 *				UTF-8, ...) and transfer encoding (base64
 *				is decoded and encoded again; quoted-
 *				printable is extended)
 *	multipart/mixed		a new text/plain part at the end
 *	multipart/alternative,	the post becomes the first part of a new
 *	  related, text/html,	multipart/mixed, the footer its second;
 *	  any other type	the alternatives themselves are untouched
 *	multipart/signed,	no footer at all: a signature must never
 *	  encrypted, S/MIME	break, and clients flag signed mail with
 *				unsigned parts beside it
 *
 * A text whose charset cannot carry the footer exactly (an ASCII post
 * and a Japanese footer, say) gets it as a separate part instead; for
 * EUC-JP, whose readers disagree about the Windows extensions (① ㈱,
 * IBM kanji), "exactly" means plain EUC-JP.  The
 * footer's own part is US-ASCII if it is ASCII, ISO-2022-JP when the
 * list's charset is that and carries it, else UTF-8 in base64.  The
 * footer text takes the template variables %{list}, %{post},
 * %{request}, %{join}, %{leave}, %{owner} and %{description}.
 */
#ifndef MLS_FOOTER_H
#define MLS_FOOTER_H

struct buf;
struct config;
struct list;

enum footer_how {
	FOOTER_NONE,		/* the list has no footer */
	FOOTER_INLINE,		/* appended to the text */
	FOOTER_PART,		/* a new part of multipart/mixed */
	FOOTER_WRAPPED,		/* the post wrapped in multipart/mixed */
	FOOTER_SKIPPED		/* signed or encrypted: left alone */
};

enum footer_how footer_apply(struct buf *msg, const struct config *,
	    const struct list *, const char *tag);
enum footer_how footer_add(struct buf *msg, const char *footer_utf8,
	    const char *list_charset, const char *tag);

#endif
