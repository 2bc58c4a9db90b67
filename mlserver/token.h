/*
 * token - confirmation tokens: random, single use, expiring, stored hashed.
 *
 * A token is 26 characters of lower-case base32 (130 bits from
 * getrandom), carried in LIST-confirm+TOKEN@D and in "confirm TOKEN"
 * lines.  Only its SHA-256 is stored, so a copy of state.db confirms
 * nothing.  Lower case because some MTAs and clients fold the local part.
 */
#ifndef MLS_TOKEN_H
#define MLS_TOKEN_H

#include "addr.h"

struct store;

#define TOKEN_LEN	26

struct token_rec {
	char	list[65];
	char	addr[ADDR_MAX + 1];
	char	action[32];
	char	arg[256];
};

int	token_create(struct store *, const char *list, const char *addr,
	    const char *action, const char *arg, int ttl,
	    char token[TOKEN_LEN + 1]);
int	token_take(struct store *, const char *list, const char *token,
	    const char *addr1, const char *addr2, struct token_rec *);
int	token_expire(struct store *);

#endif
