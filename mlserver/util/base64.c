/*
 * base64 - RFC 2045 base64 encoding; see base64.h.
 */
#include <stdint.h>

#include "base64.h"
#include "buf.h"

/*
 * Append the encoding of n octets at p.  wrap > 0 ends a line ("\n")
 * after every wrap characters and after the last (a MIME body); 0 writes
 * one unbroken run (an encoded word).
 */
void
base64_encode(struct buf *out, const void *data, size_t n, size_t wrap)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *p = data;
	size_t col = 0, i;
	char q[4];
	uint32_t v;

	for (i = 0; i < n; i += 3) {
		size_t left = n - i;

		v = (uint32_t)p[i] << 16;
		if (left > 1)
			v |= (uint32_t)p[i + 1] << 8;
		if (left > 2)
			v |= p[i + 2];
		q[0] = b64[v >> 18];
		q[1] = b64[(v >> 12) & 63];
		q[2] = left > 1 ? b64[(v >> 6) & 63] : '=';
		q[3] = left > 2 ? b64[v & 63] : '=';
		buf_add(out, q, 4);
		if (wrap && (col += 4) >= wrap) {
			buf_addc(out, '\n');
			col = 0;
		}
	}
	if (wrap && col)
		buf_addc(out, '\n');
}
