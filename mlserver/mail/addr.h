/*
 * addr - envelope addresses: checking and the canonical form.
 *
 * An address is kept as local@domain with the domain in lower case and the
 * local part as written (RFC 5321 leaves its case to the receiving host).
 * That canonical form is the member key: two spellings of one mailbox
 * that differ only in the domain's case are one member and get one copy.
 */
#ifndef MLS_ADDR_H
#define MLS_ADDR_H

#include <stddef.h>

#define ADDR_MAX	254	/* RFC 5321 path limit less the brackets */

int	 addr_canon(const char *in, char *out, size_t outsz);
int	 addr_valid(const char *);
const char *addr_domain(const char *);
int	 addr_same(const char *, const char *);
int	 addr_mentioned(const char *text, const char *addr);

#endif
