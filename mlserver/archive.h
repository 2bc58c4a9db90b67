/*
 * archive - the web and mbox archive of everything a list sends to its
 * audience (posts as sent, proposal, comment, answer and event mail).
 *
 * Exactly once, and redoable: archive_record() runs inside the
 * transaction that queues a list-wide message (outq_fanout), gives it
 * the list's next number N, adds Archived-At (RFC 5064) to the copy
 * about to be sent, and keeps that copy and its index row in state.db.
 * The files (DIR/mbox/YYYY-MM.mbox, DIR/index.html, DIR/YYYY-MM/
 * {index,thread,N}.html and attachments) are written after the commit
 * by archive_flush(), which marks each row done only once its files are
 * on disk, so a crash in between rewrites them on the next run; and
 * archive_rebuild() writes everything again from the kept copies.
 * Lists without "archive" keep nothing.
 */
#ifndef MLS_ARCHIVE_H
#define MLS_ARCHIVE_H

#include <stddef.h>
#include <time.h>

struct buf;
struct config;
struct list;
struct store;

extern const struct store_schema archive_schema;

/* One archived message, as its index row has it (all UTF-8). */
struct archive_entry {
	long long	 n;
	char		 month[8];	/* "YYYY-MM" */
	char		*date;		/* "YYYY-MM-DD HH:MM", list's time */
	char		*msgid;		/* without brackets, or "" */
	char		*subject;
	char		*from_addr;
	char		*from_name;	/* or "" */
	char		*parent;	/* In-Reply-To's message-id, or "" */
	long long	 ts;
	long long	 parent_n;	/* the archived message it answers, */
	char		 parent_month[8];	/* or 0 and "" */
};

int	 archive_record(struct store *, const struct config *,
	    const char *id, const char *list);
int	 archive_flush(struct store *, const struct config *);
int	 archive_rebuild(struct store *, const struct config *,
	    const char *list, struct buf *report);
/* The month's entries in number order; the callback stops on non-zero. */
typedef int archive_fn(const struct archive_entry *, void *);
int	 archive_foreach_month(struct store *, const char *list,
	    const char *month, archive_fn *, void *);
int	 archive_last_month(struct store *, const char *list, char month[8]);
/* The kept copy of N (LF line ends): 1 found, 0 none, -1 error. */
int	 archive_get(struct store *, const char *list, long long n,
	    struct buf *raw);
void	 archive_entry_free(struct archive_entry *);
/* URL of N's page: URL/YYYY-MM/N.html (no doubled slash). */
void	 archive_page_url(struct buf *, const char *url, const char *month,
	    long long n);

/* index [YYYY-MM] / get N at LIST-request (archive_command.c). */
struct command;
struct request;
int	 archive_command(struct request *, const struct command *);
/* mlserverctl archive rebuild [LIST]: an exit status (sysexits.h). */
int	 archive_ctl(const struct config *, struct store *, int argc,
	    char **argv, struct buf *out);

#endif
