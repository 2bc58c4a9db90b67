/*
 * archive_private - what archive.c and archive_write.c share: the
 * columns of an archive row as struct archive_entry holds them.
 */
#ifndef MLS_ARCHIVE_PRIVATE_H
#define MLS_ARCHIVE_PRIVATE_H

#include <sqlite3.h>

struct archive_entry;

#define ARCHIVE_COLS	"n, month, date, ts, msgid, subject, from_addr, " \
			"from_name, parent"

/* Reads the ARCHIVE_COLS of the row the statement is on. */
void	 archive_entry_load(sqlite3_stmt *, struct archive_entry *);

#endif
