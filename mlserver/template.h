/*
 * template - the texts users read, in Japanese and English.
 *
 * Templates live in conf/templates/LANG/NAME.txt and are compiled into
 * the programs; a config's "templates" directory, when set, overrides
 * them file by file.  A message template starts with a "Subject:" line.
 * %{name} is replaced by the variable of that name; an unknown name is
 * left as written so that a typo shows.
 */
#ifndef MLS_TEMPLATE_H
#define MLS_TEMPLATE_H

#include <stddef.h>

struct buf;
struct config;

struct template_builtin {
	const char	*lang;
	const char	*name;
	const char	*text;
};

struct tvar {
	const char	*name;
	const char	*value;
};

extern const struct template_builtin template_builtins[];

char	*template_load(const struct config *, const char *lang,
	    const char *name);
void	 template_expand(struct buf *, const char *text,
	    const struct tvar *, size_t);
int	 template_render(const struct config *, const char *lang,
	    const char *name, const struct tvar *, size_t, struct buf *);

#endif
