/*
 * members - who is on which list, and who a list reaches.
 *
 * A member is (list, canonical address, name, mode).  A list's audience
 * follows its scope: a chapter list reaches its members; a region list
 * its own members and those of its region's chapter lists; a network list
 * everyone.  Each address appears once in an audience.  A member whose
 * mode is nomail (or bouncing) is not reached through that membership,
 * and nomail on the wider list itself opts the person out of it.
 */
#ifndef MLS_MEMBERS_H
#define MLS_MEMBERS_H

#include "addr.h"

struct store;

enum member_mode {
	MEMBER_NORMAL,
	MEMBER_DIGEST,
	MEMBER_NOMAIL,
	MEMBER_BOUNCING		/* disabled by bounces; see bounce.h */
};

struct member {
	char			 addr[ADDR_MAX + 1];
	char			*name;
	enum member_mode	 mode;
	long long		 created;
};

/*
 * Membership row m (of list l) reaches list w: the one place that says
 * what a scope reaches (a region list its chapters' members, the network
 * list everyone).
 */
#define MEMBERS_REACH_SQL						\
	"(l.name = w.name OR w.scope = 'network' OR "			\
	"  (w.scope = 'region' AND l.scope = 'chapter' AND "		\
	"   l.region = w.region))"

/*
 * The audience of list ?1, one row per canonical address.  Shared by the
 * fan-out (INSERT ... SELECT) and by members_audience_foreach.
 */
#define MEMBERS_AUDIENCE_SQL						\
	"SELECT DISTINCT m.addr FROM members m "			\
	"JOIN lists l ON l.name = m.list "				\
	"JOIN lists w ON w.name = ?1 "					\
	"WHERE " MEMBERS_REACH_SQL " "					\
	"AND m.mode IN ('normal', 'digest') "				\
	"AND NOT EXISTS (SELECT 1 FROM members x WHERE x.list = w.name " \
	"  AND x.addr = m.addr AND x.mode = 'nomail')"

/*
 * The same audience with each address's mode for list ?1: 'digest' when
 * the person is digest on the list itself, else 'normal' when any
 * membership reaching it is normal, else 'digest' (reached only through
 * digest memberships, e.g. digest on a chapter of a region list).  Posts
 * go per post to the 'normal' rows, the digest (digest.h) to the rest.
 */
#define MEMBERS_MODE_SQL						\
	"SELECT m.addr AS addr, CASE "					\
	"  WHEN max(l.name = w.name AND m.mode = 'digest') THEN 'digest' " \
	"  WHEN max(m.mode = 'normal') THEN 'normal' "			\
	"  ELSE 'digest' END AS mode "					\
	"FROM members m JOIN lists l ON l.name = m.list "		\
	"JOIN lists w ON w.name = ?1 "					\
	"WHERE " MEMBERS_REACH_SQL " "					\
	"AND m.mode IN ('normal', 'digest') "				\
	"AND NOT EXISTS (SELECT 1 FROM members x WHERE x.list = w.name " \
	"  AND x.addr = m.addr AND x.mode = 'nomail') "			\
	"GROUP BY m.addr"

typedef int members_fn(const struct member *, void *);
typedef int audience_fn(const char *addr, void *);

int	 members_get(struct store *, const char *list, const char *addr,
	    struct member *);
int	 members_add(struct store *, const char *list, const char *addr,
	    const char *name);
int	 members_remove(struct store *, const char *list, const char *addr);
int	 members_set_mode(struct store *, const char *list, const char *addr,
	    enum member_mode);
int	 members_foreach(struct store *, const char *list, members_fn *,
	    void *);
long long members_count(struct store *, const char *list);
int	 members_in_audience(struct store *, const char *list,
	    const char *addr);
int	 members_audience_foreach(struct store *, const char *list,
	    audience_fn *, void *);
const char *members_mode_name(enum member_mode);
int	 members_mode_parse(const char *, enum member_mode *);
void	 member_clear(struct member *);

#endif
