/*
 * subject - the Subject of a list post: the list's prefix added once.
 *
 * The subject is decoded (whatever charset and however folded it came),
 * checked, and encoded again: every earlier copy of the prefix and every
 * reply marker is removed, and one "Re: " (and one "Fwd: ") is kept
 * after the prefix, so a long thread reads "[世田谷] Re: 会議" and never
 * "Re: [世田谷] RE: Re[2]: [世田谷] 会議".  A subject that came in
 * ISO-2022-JP leaves in ISO-2022-JP when that charset carries it
 * exactly (older phones read nothing else), otherwise as UTF-8; encoded
 * words hold whole characters, are at most 75 octets, and lines are
 * folded.
 */
#ifndef MLS_SUBJECT_H
#define MLS_SUBJECT_H

struct buf;

void	subject_normalize(struct buf *out, const char *utf8,
	    const char *prefix);
void	subject_field(struct buf *out, const char *raw, const char *prefix,
	    const char *list_charset);
const char *subject_charset(const char *raw, const char *list_charset);

#endif
