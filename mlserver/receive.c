/*
 * mlserver-receive - the MTA's pipe entry: one message on stdin into the
 * spool.
 *
 *	mlserver-receive -c FILE [-f SENDER] RECIPIENT
 *
 * For Postfix pipe(8), Exim's pipe transport and aliases(5).  The message
 * is stored with the same durability as over LMTP (spool.h: fsync of the
 * file and of new/ before exit 0); the daemon processes it afterwards.
 *
 * The exit status is all the MTA learns, so it follows sysexits.h as the
 * contract says, and never 1 (which Postfix would take as a hard error
 * with no explanation):
 *
 *	0		stored
 *	64 EX_USAGE	bad arguments
 *	65 EX_DATAERR	not a mail message (empty, or no header field
 *			first), or bigger than max_message_size: sending it
 *			again cannot help, so the MTA should bounce it
 *	67 EX_NOUSER	RECIPIENT is not one of our addresses
 *	75 EX_TEMPFAIL	anything that may pass: config unreadable, spool
 *			missing or full, write or fsync errors, out of
 *			memory (fatal() exits 75 too)
 *
 * The envelope sender comes from -f SENDER (Postfix: argv=... -f
 * ${sender}), else from the environment variable SENDER (set by Postfix
 * local(8) for commands in aliases and .forward files), else from a
 * leading mbox "From " line (pipe(8) flags=F; the line is not stored),
 * else it is the null sender.
 *
 * Diagnostics go to syslog (facility mail) unless stderr is a terminal;
 * a failure is also written to stderr in one line, which the MTA quotes in
 * its bounce or log.
 */
#include <sys/types.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <unistd.h>

#include "addr.h"
#include "buf.h"
#include "config.h"
#include "log.h"
#include "route.h"
#include "spool.h"
#include "xmalloc.h"

#define RECEIVE_BUF	65536	/* first read: enough to see the head */

static void	receive_usage(void) __attribute__((noreturn));
static void	receive_drain(void);
static void	receive_exit(int, const char *, ...)
		    __attribute__((format(printf, 2, 3), noreturn));
static int	receive_sender_ok(const char *);
static char	*receive_clean_sender(const char *);
static int	receive_is_header(const char *, size_t);
static ssize_t	receive_read(char *, size_t);

static int	foreground;
/*
 * The input buffer: static, not allocated, because receive_exit() leaves
 * through exit() from anywhere; LeakSanitizer took a buffer only main()
 * pointed to for a leak and changed exit 75 into 1 (test_disk_full).
 */
static char	receive_buf[RECEIVE_BUF];

static void
receive_usage(void)
{
	fprintf(stderr, "usage: mlserver-receive -c FILE [-f SENDER] "
	    "RECIPIENT\n");
	exit(EX_USAGE);
}

/*
 * Log the reason, tell the MTA on stderr, and exit with status code,
 * after reading what is left of the message (see receive_drain).
 */
static void
receive_exit(int code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!isatty(STDIN_FILENO))
		receive_drain();
	log_warnx("%s", msg);
	if (!foreground)
		fprintf(stderr, "mlserver-receive: %s\n", msg);
	exit(code);
}

/* A sender we can write into the envelope and log lines unchanged. */
static int
receive_sender_ok(const char *s)
{
	if (strlen(s) > ADDR_MAX)
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f || *s == '<' ||
		    *s == '>')
			return 0;
	return 1;
}

/*
 * The sender without angle brackets, its domain in lower case where it
 * parses; "" for the null sender and for Postfix's MAILER-DAEMON; NULL
 * when it is not usable.
 */
static char *
receive_clean_sender(const char *s)
{
	char canon[ADDR_MAX + 1];
	size_t n = strlen(s);
	char *t;

	if (n >= 2 && s[0] == '<' && s[n - 1] == '>')
		t = xstrndup(s + 1, n - 2);
	else
		t = xstrdup(s);
	if (strcasecmp(t, "MAILER-DAEMON") == 0)
		t[0] = '\0';
	if (!receive_sender_ok(t)) {
		free(t);
		return NULL;
	}
	if (*t != '\0' && addr_canon(t, canon, sizeof(canon)) == 0) {
		free(t);
		t = xstrdup(canon);
	}
	return t;
}

/*
 * Whether p (n octets, the start of a line) begins a header field: a
 * name of printable ASCII without ':' and a colon (RFC 5322 2.2; blanks
 * before the colon are the obsolete syntax, still met in the wild).
 */
static int
receive_is_header(const char *p, size_t n)
{
	size_t i = 0;

	while (i < n && (unsigned char)p[i] > 0x20 &&
	    (unsigned char)p[i] < 0x7f && p[i] != ':')
		i++;
	if (i == 0)
		return 0;
	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	return i < n && p[i] == ':';
}

/* Read up to n octets from stdin, retrying on EINTR; 0 at EOF. */
static ssize_t
receive_read(char *p, size_t n)
{
	ssize_t r;

	do
		r = read(STDIN_FILENO, p, n);
	while (r == -1 && errno == EINTR);
	return r;
}

/*
 * Read stdin to the end before a refusal: a writer that finds its pipe
 * closed early may report a broken pipe instead of our exit status.
 */
static void
receive_drain(void)
{
	char tmp[8192];

	while (receive_read(tmp, sizeof(tmp)) > 0)
		;
}

int
main(int argc, char *argv[])
{
	struct buf errors = BUF_INIT;
	struct spool_writer w;
	struct config *cfg;
	struct route route;
	char rcpt[ADDR_MAX + 1];
	char *rcpts[1];
	const char *conf = NULL, *fsender = NULL, *nl;
	char *sender = NULL, *head, *p;
	size_t hlen = 0, len, size;
	ssize_t r;
	long max;
	int ch;

	foreground = isatty(STDERR_FILENO);
	log_init("mlserver-receive", foreground, 0);

	opterr = 0;
	while ((ch = getopt(argc, argv, "c:f:")) != -1) {
		switch (ch) {
		case 'c':
			conf = optarg;
			break;
		case 'f':
			fsender = optarg;
			break;
		default:
			receive_usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (conf == NULL || argc != 1)
		receive_usage();
	if (fsender != NULL &&
	    (sender = receive_clean_sender(fsender)) == NULL) {
		fprintf(stderr, "mlserver-receive: bad sender \"%s\"\n",
		    fsender);
		exit(EX_USAGE);
	}

	if (config_load(conf, &cfg, &errors) == -1) {
		/* Each line is FILE:LINE: problem. */
		for (p = strtok(errors.data, "\n"); p; p = strtok(NULL, "\n"))
			log_warnx("%s", p);
		receive_exit(EX_TEMPFAIL, "cannot load configuration %s",
		    conf);
	}
	buf_free(&errors);
	if (addr_canon(argv[0], rcpt, sizeof(rcpt)) == -1 ||
	    route_lookup(cfg, rcpt, &route) == -1) {
		receive_exit(EX_NOUSER, "<%s>: no such list address",
		    argv[0]);
	}
	max = cfg->max_message_size;

	/* The head: enough to check that this is a mail message at all. */
	head = receive_buf;
	while (hlen < RECEIVE_BUF) {
		if ((r = receive_read(head + hlen, RECEIVE_BUF - hlen)) == -1)
			receive_exit(EX_TEMPFAIL, "read error: %s",
			    strerror(errno));
		if (r == 0)
			break;
		hlen += (size_t)r;
	}
	if (hlen == 0)
		receive_exit(EX_DATAERR, "empty message");
	p = head;
	len = hlen;
	if (len >= 5 && memcmp(p, "From ", 5) == 0) {
		/* An mbox separator: the sender, and not part of the mail. */
		if ((nl = memchr(p, '\n', len)) == NULL)
			receive_exit(EX_DATAERR, "not a mail message");
		if (sender == NULL && getenv("SENDER") == NULL) {
			/* strcspn stops at the newline at the latest. */
			char *from = xstrndup(p + 5, strcspn(p + 5, " \t\n"));

			sender = receive_clean_sender(from);
			free(from);
		}
		len -= (size_t)(nl + 1 - p);
		p = (char *)nl + 1;
	}
	if (!receive_is_header(p, len)) {
		receive_exit(EX_DATAERR, "not a mail message (no header "
		    "field on the first line)");
	}
	if (sender == NULL && getenv("SENDER") != NULL)
		sender = receive_clean_sender(getenv("SENDER"));
	if (sender == NULL)
		sender = xstrdup("");

	if (spool_init(cfg->state_dir) == -1)
		receive_exit(EX_TEMPFAIL, "cannot use the spool in %s",
		    cfg->state_dir);
	if (!spool_space_ok(cfg->state_dir, len))
		receive_exit(EX_TEMPFAIL, "spool in %s: %s", cfg->state_dir,
		    strerror(errno));
	rcpts[0] = rcpt;
	if (spool_begin(cfg->state_dir, sender, rcpts, 1, &w) == -1)
		receive_exit(EX_TEMPFAIL, "cannot store message: %s",
		    strerror(errno));

	/* The head, then the rest of stdin, checking the limit. */
	size = 0;
	for (;;) {
		size += len;
		if (max > 0 && size > (size_t)max) {
			spool_abort(&w);
				receive_exit(EX_DATAERR, "message too big (more than "
			    "%ld octets)", max);
		}
		if (len > 0 && spool_write(&w, p, len) == -1)
			break;	/* commit reports it */
		if ((r = receive_read(head, RECEIVE_BUF)) == -1) {
			spool_abort(&w);
			receive_exit(EX_TEMPFAIL, "read error: %s",
			    strerror(errno));
		}
		if (r == 0)
			break;
		p = head;
		len = (size_t)r;
	}
	if (spool_commit(&w) == -1) {
		receive_exit(EX_TEMPFAIL, "%s: cannot store message: %s",
		    w.id, strerror(errno));
	}
	log_info("%s: from=<%s> size=%zu nrcpt=1 (receive)", w.id, sender,
	    size);
	free(sender);
	config_release(cfg);
	return EX_OK;
}
