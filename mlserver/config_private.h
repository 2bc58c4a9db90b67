/*
 * config_private.h - what config.c and config_list.c share; private to
 * those two files, included by nothing else (the module's interface is
 * config.h).
 *
 * config.c owns config_load() and the loader: struct loader collects
 * every mistake as "FILE:LINE: message", and the cfg_* readers take one
 * setting of a group, check it, and on a mistake report it and go on
 * with the default, so that one run finds every mistake.  config_list.c
 * reads the network, the lists and their moderation with them, and
 * config_load() calls it through cfg_moderation() and cfg_lists().
 */
#ifndef MLS_CONFIG_PRIVATE_H
#define MLS_CONFIG_PRIVATE_H

#include <libconfig.h>

struct buf;
struct config;
struct strv;

struct loader {
	const char	*path;		/* the file config_load() was given */
	struct buf	*errors;	/* one "FILE:LINE: message" per line */
	int		 nerrors;
};

/* config.c */
void	 cfg_error(struct loader *, const config_setting_t *, const char *,
	    ...) __attribute__((format(printf, 3, 4)));
void	 cfg_check_keys(struct loader *, const config_setting_t *,
	    const char *const *);
char	*cfg_string(struct loader *, const config_setting_t *, const char *,
	    const char *);
int	 cfg_int(struct loader *, const config_setting_t *, const char *, int,
	    int, int);
int	 cfg_bool(struct loader *, const config_setting_t *, const char *,
	    int);
void	 cfg_addresses(struct loader *, const config_setting_t *,
	    const char *, struct strv *);

/* config_list.c, called in this order by config_load() */
void	 cfg_moderation(struct loader *, const config_setting_t *,
	    struct config *);
void	 cfg_lists(struct loader *, const config_setting_t *, struct config *);

#endif
