/*
 * spool - durable storage of accepted mail (STATE_DIR/spool).
 *
 * A message is written to tmp/, fsynced, renamed into new/ and the
 * directory fsynced; only then does the entry point (LMTP or
 * mlserver-receive) acknowledge it.  The processor takes messages from
 * new/ in name order (names start with a time stamp).  Folders:
 *
 *	tmp/		being written; anything found at start-up is stale
 *	new/		accepted, waiting to be processed
 *	held/		kept for a moderator
 *	quarantine/	failed processing three times, or unparseable
 *	out/		mail we send, until every recipient is done
 *
 * A spool file begins with an envelope of our own, then the message as
 * received:
 *
 *	MLSERVER 1\n
 *	F <sender>\n		(empty for the null sender)
 *	R <recipient>\n		(one or more)
 *	\n
 *	message...
 */
#ifndef MLS_SPOOL_H
#define MLS_SPOOL_H

#include <stddef.h>
#include <sys/types.h>

#define SPOOL_ID_LEN	20	/* queue id: 20 characters [0-9A-F] */

struct spool_writer {
	int	 fd;
	char	 id[SPOOL_ID_LEN + 1];
	char	*tmp_path;
	char	*new_path;
	size_t	 size;		/* message octets written so far */
	int	 failed;	/* a write failed; commit will refuse */
};

struct spool_envelope {
	char	 *sender;	/* "" for the null sender */
	char	**rcpts;
	size_t	  nrcpts;
};

int	 spool_init(const char *state_dir);
void	 spool_new_id(char id[SPOOL_ID_LEN + 1]);
char	*spool_path(const char *state_dir, const char *folder, const char *id);
int	 spool_valid_id(const char *);

int	 spool_begin(const char *state_dir, const char *sender,
	    char *const *rcpts, size_t nrcpts, struct spool_writer *);
int	 spool_write(struct spool_writer *, const void *, size_t);
int	 spool_commit(struct spool_writer *);
void	 spool_abort(struct spool_writer *);

int	 spool_read(const char *path, struct spool_envelope *,
	    char **msg, size_t *msglen);
void	 spool_envelope_free(struct spool_envelope *);
int	 spool_move(const char *state_dir, const char *id,
	    const char *from, const char *to);
int	 spool_recover(const char *state_dir);
int	 spool_fsync_dir(const char *dir);
int	 spool_space_ok(const char *state_dir, size_t need);

#endif
