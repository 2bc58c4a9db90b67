/*
 * base64 - RFC 2045 base64 encoding into a struct buf.
 */
#ifndef MLS_BASE64_H
#define MLS_BASE64_H

#include <stddef.h>

struct buf;

void	base64_encode(struct buf *, const void *, size_t, size_t wrap);

#endif
