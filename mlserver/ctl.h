/*
 * ctl - the parts of mlserverctl worth testing on their own: CSV member
 * files and JSON output.
 *
 * Import is all or nothing: every row is checked first, every bad row is
 * reported with its line number, and only a clean file is written, in
 * one transaction.
 */
#ifndef MLS_CTL_H
#define MLS_CTL_H

#include <stddef.h>

struct buf;
struct store;

struct ctl_row {
	char	*addr;	/* canonical */
	char	*name;
	char	*mode;	/* or NULL */
	int	 line;
};

struct ctl_rows {
	struct ctl_row	*v;
	size_t		 n;
};

int	 ctl_csv_parse(const char *data, size_t len, struct ctl_rows *,
	    struct buf *errors);
void	 ctl_rows_free(struct ctl_rows *);
int	 ctl_import(struct store *, const char *list, const struct ctl_rows *,
	    int *added);
void	 ctl_csv_field(struct buf *, const char *);
void	 ctl_json_string(struct buf *, const char *);

#endif
