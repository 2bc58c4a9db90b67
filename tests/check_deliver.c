/*
 * check_deliver - deliver_session() against real SMTP servers.
 *
 * Postfix's smtp-sink stands in for the relay where everything is
 * accepted (and dumps what it received, to check recipients and the body
 * byte for byte, dot-stuffing included); a small SMTP server of our own,
 * on a thread, answers per recipient (450 for "defer", 550 for "fail"),
 * per sender, and drops the connection where a test wants it, with and
 * without CHUNKING, so that both of libESMTP's DATA and BDAT paths run.
 * STARTTLS runs against a few lines of Python (its ssl module) with
 * certificates kept here.  The last test times 100 transactions x 100
 * recipients into smtp-sink.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "buf.h"
#include "config.h"
#include "deliver.h"
#include "log.h"
#include "xmalloc.h"

#define SMTP_SINK	"/usr/sbin/smtp-sink"

/* The message every test sends: 8-bit, with lines that need stuffing. */
#define TEST_BODY							\
	"first line\r\n"						\
	".leading dot\r\n"						\
	"..two dots\r\n"						\
	".\r\n"								\
	"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae\xe6\x9c\xac"	\
	"\xe6\x96\x87\xe3\x81\xa7\xe3\x81\x99\xe3\x80\x82\r\n"		\
	"last line\r\n"
#define TEST_MESSAGE							\
	"From: list@example.org\r\n"					\
	"To: members@example.org\r\n"					\
	"Subject: test\r\n"						\
	"Date: Mon, 1 Jan 2024 00:00:00 +0900\r\n"			\
	"Message-ID: <test@example.org>\r\n"				\
	"MIME-Version: 1.0\r\n"						\
	"Content-Type: text/plain; charset=UTF-8\r\n"			\
	"Content-Transfer-Encoding: 8bit\r\n"				\
	"\r\n"								\
	TEST_BODY
/* The body as smtp-sink's dump shows it: unstuffed, LF line ends. */
#define DUMP_BODY							\
	"first line\n"							\
	".leading dot\n"						\
	"..two dots\n"							\
	".\n"								\
	"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae\xe6\x9c\xac"	\
	"\xe6\x96\x87\xe3\x81\xa7\xe3\x81\x99\xe3\x80\x82\n"		\
	"last line\n"

/* smtp-sink, started once per test case by the unchecked fixtures. */
static pid_t	 sink_pid = -1;
static int	 sink_port;
static char	 sink_dir[] = "/tmp/check_deliver.XXXXXX";
static char	 sink_dump[sizeof(sink_dir) + 16];
static char	 sink_log[sizeof(sink_dir) + 16];

/* --- helpers: ports, smtp-sink --------------------------------------- */

/* A loopback port nobody listens on; the socket stays bound if *keep. */
static int
free_port(int *keep)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd, port;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	port = ntohs(sin.sin_port);
	if (keep != NULL)
		*keep = fd;
	else
		close(fd);
	return port;
}

static int
can_connect(int port)
{
	struct sockaddr_in sin;
	int fd, ok;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(port);
	ok = connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0;
	close(fd);
	return ok;
}

static void
sink_start(int dump)
{
	char addr[32], backlog[] = "256";
	char *argv[10];
	int argc = 0, i, fd;

	signal(SIGPIPE, SIG_IGN);
	if (mkdtemp(sink_dir) == NULL || chmod(sink_dir, 0777) == -1) {
		perror("check_deliver: temporary directory");
		exit(1);
	}
	snprintf(sink_dump, sizeof(sink_dump), "%s/dump", sink_dir);
	snprintf(sink_log, sizeof(sink_log), "%s/sink.log", sink_dir);
	sink_port = free_port(NULL);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", sink_port);
	argv[argc++] = SMTP_SINK;
	if (geteuid() == 0) {
		argv[argc++] = "-u";
		argv[argc++] = "nobody";
	}
	if (dump) {
		argv[argc++] = "-D";
		argv[argc++] = sink_dump;
	}
	argv[argc++] = addr;
	argv[argc++] = backlog;
	argv[argc] = NULL;

	if ((sink_pid = fork()) == -1) {
		perror("check_deliver: fork");
		exit(1);
	}
	if (sink_pid == 0) {
		if ((fd = open(sink_log, O_WRONLY | O_CREAT | O_TRUNC,
		    0644)) != -1) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		execv(SMTP_SINK, argv);
		perror(SMTP_SINK);
		_exit(127);
	}
	for (i = 0; i < 500; i++) {
		if (can_connect(sink_port))
			return;
		if (waitpid(sink_pid, NULL, WNOHANG) == sink_pid) {
			fprintf(stderr, "check_deliver: %s exited (see %s)\n",
			    SMTP_SINK, sink_log);
			sink_pid = -1;
			exit(1);
		}
		usleep(10000);
	}
	fprintf(stderr, "check_deliver: %s does not listen\n", SMTP_SINK);
	exit(1);
}

static void
sink_stop(void)
{
	if (sink_pid > 0) {
		kill(sink_pid, SIGTERM);
		waitpid(sink_pid, NULL, 0);
		sink_pid = -1;
	}
	unlink(sink_dump);
	unlink(sink_log);
	rmdir(sink_dir);
	strcpy(sink_dir, "/tmp/check_deliver.XXXXXX");
}

static void sink_start_dump(void) { sink_start(1); }
static void sink_start_plain(void) { sink_start(0); }

static char *
read_file(const char *path)
{
	FILE *fp;
	char *data;
	long n;

	if ((fp = fopen(path, "rb")) == NULL)
		return xstrdup("");
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	data = xmalloc(n + 1);
	n = fread(data, 1, n, fp);
	data[n] = '\0';
	fclose(fp);
	return data;
}

static size_t
count_str(const char *hay, const char *needle)
{
	size_t n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

/* --- transactions ------------------------------------------------------ */

struct batch {
	struct deliver_txn	*txns;
	size_t			 ntxns;
};

/* Transaction i gets rcpts[i] (a NULL-terminated list) and senders[i]. */
static void
batch_init(struct batch *b, size_t ntxns, const char *const *senders,
    const char *const *const *rcpts, const char *data)
{
	size_t i, j, n;
	char id[32];

	b->ntxns = ntxns;
	b->txns = xcalloc(ntxns, sizeof(*b->txns));
	for (i = 0; i < ntxns; i++) {
		for (n = 0; rcpts[i][n] != NULL; n++)
			;
		snprintf(id, sizeof(id), "TXN%02zu", i);
		b->txns[i].id = xstrdup(id);
		b->txns[i].sender = senders[i];
		b->txns[i].data = data;
		b->txns[i].len = strlen(data);
		b->txns[i].nrcpts = n;
		b->txns[i].rcpts = xcalloc(n, sizeof(struct deliver_rcpt));
		for (j = 0; j < n; j++)
			b->txns[i].rcpts[j].addr = rcpts[i][j];
	}
}

/* ntxns transactions of nrcpts generated addresses each. */
static void
batch_generated(struct batch *b, size_t ntxns, size_t nrcpts,
    const char *data)
{
	size_t i, j;
	char buf[64];

	b->ntxns = ntxns;
	b->txns = xcalloc(ntxns, sizeof(*b->txns));
	for (i = 0; i < ntxns; i++) {
		snprintf(buf, sizeof(buf), "GEN%04zu", i);
		b->txns[i].id = xstrdup(buf);
		b->txns[i].sender = "list-bounces@example.org";
		b->txns[i].data = data;
		b->txns[i].len = strlen(data);
		b->txns[i].nrcpts = nrcpts;
		b->txns[i].rcpts = xcalloc(nrcpts,
		    sizeof(struct deliver_rcpt));
		for (j = 0; j < nrcpts; j++) {
			snprintf(buf, sizeof(buf), "user%03zu.%03zu@example.net",
			    i, j);
			b->txns[i].rcpts[j].addr = xstrdup(buf);
		}
	}
}

static void
batch_free(struct batch *b, int generated)
{
	size_t i, j;

	for (i = 0; i < b->ntxns; i++) {
		deliver_txn_clear(&b->txns[i]);
		if (generated)
			for (j = 0; j < b->txns[i].nrcpts; j++)
				free((char *)b->txns[i].rcpts[j].addr);
		free(b->txns[i].rcpts);
		free((char *)b->txns[i].id);
	}
	free(b->txns);
}

static size_t
batch_count(const struct batch *b, enum deliver_state state)
{
	size_t i, j, n = 0;

	for (i = 0; i < b->ntxns; i++)
		for (j = 0; j < b->txns[i].nrcpts; j++)
			n += b->txns[i].rcpts[j].state == state;
	return n;
}

/* What the done callback saw. */
struct record {
	struct deliver_txn	*base;
	size_t			 n;
	size_t			 order[256];
	int			 calls[256];
	int			 pending_seen;	/* a recipient still PENDING */
	int			 mails_at_first;	/* server's MAIL count */
	volatile int		*mails;		/* the tiny server's, or NULL */
};

static void
record_done(struct deliver_txn *txn, void *arg)
{
	struct record *r = arg;
	size_t i = txn - r->base, j;

	ck_assert(i < 256);
	r->calls[i]++;
	if (r->n < 256)
		r->order[r->n] = i;
	if (r->n == 0 && r->mails != NULL)
		r->mails_at_first = __atomic_load_n(r->mails,
		    __ATOMIC_SEQ_CST);
	r->n++;
	for (j = 0; j < txn->nrcpts; j++)
		if (txn->rcpts[j].state == DELIVER_PENDING)
			r->pending_seen = 1;
}

static void
record_check_all_once(const struct record *r, size_t ntxns)
{
	size_t i;

	ck_assert_uint_eq(r->n, ntxns);
	for (i = 0; i < ntxns; i++) {
		ck_assert_int_eq(r->calls[i], 1);
		ck_assert_uint_eq(r->order[i], i);
	}
	ck_assert_int_eq(r->pending_seen, 0);
}

static struct relay_conf
relay_at(const char *host, int port)
{
	struct relay_conf relay;

	memset(&relay, 0, sizeof(relay));
	relay.host = (char *)host;
	relay.port = port;
	relay.max_recipients = 100;
	relay.max_transactions = 100;
	return relay;
}

static void
assert_rcpt(const struct deliver_rcpt *r, enum deliver_state state,
    const char *reply_prefix)
{
	ck_assert_msg(r->state == state, "%s: state %d, expected %d (%s)",
	    r->addr, r->state, state, r->reply ? r->reply : "no reply");
	ck_assert_ptr_nonnull(r->reply);
	ck_assert_msg(strncmp(r->reply, reply_prefix,
	    strlen(reply_prefix)) == 0, "%s: reply \"%s\", expected \"%s...\"",
	    r->addr, r->reply, reply_prefix);
}

/* --- a tiny SMTP server ------------------------------------------------ */

struct tiny {
	int		 lfd;
	int		 port;
	int		 chunking;	/* offer CHUNKING (BDAT) */
	int		 no8bit;	/* do not offer 8BITMIME */
	int		 greet_421;	/* refuse the session */
	int		 drop_in_data;	/* close during the data of MAIL #n */
	int		 drop_after_dot; /* close after the data of MAIL #n */
	volatile int	 mails;		/* MAIL commands seen */
	int		 accepted;	/* messages taken */
	int		 null_sender;	/* a MAIL FROM:<> was seen */
	size_t		 bdat_octets;	/* BDAT data taken, all messages */
	pthread_t	 thread;
};

struct tconn {
	int	fd;
	char	buf[65536];
	size_t	len;
};

static int
tconn_fill(struct tconn *c)
{
	ssize_t n;

	if (c->len == sizeof(c->buf))
		return -1;
	n = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
	if (n <= 0)
		return -1;
	c->len += n;
	return 0;
}

/* One line without its CRLF, into line; -1 at EOF. */
static int
tconn_line(struct tconn *c, char *line, size_t size)
{
	char *nl;
	size_t n;

	while ((nl = memchr(c->buf, '\n', c->len)) == NULL)
		if (tconn_fill(c) == -1)
			return -1;
	n = nl - c->buf + 1;
	if (n - 1 < size) {
		memcpy(line, c->buf, n - 1);
		line[n - 1] = '\0';
		if (n >= 2 && line[n - 2] == '\r')
			line[n - 2] = '\0';
	} else
		line[0] = '\0';
	memmove(c->buf, c->buf + n, c->len - n);
	c->len -= n;
	return 0;
}

/* Consume n octets (BDAT); -1 at EOF. */
static int
tconn_skip(struct tconn *c, size_t n)
{
	size_t k;

	while (n > 0) {
		if (c->len == 0 && tconn_fill(c) == -1)
			return -1;
		k = n < c->len ? n : c->len;
		memmove(c->buf, c->buf + k, c->len - k);
		c->len -= k;
		n -= k;
	}
	return 0;
}

static void
say(int fd, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 2, fmt, ap);
	va_end(ap);
	memcpy(buf + n, "\r\n", 2);
	(void)!write(fd, buf, n + 2);
}

static void
angle(const char *cmd, char *out, size_t size)
{
	const char *lt = strchr(cmd, '<'), *gt;

	out[0] = '\0';
	if (lt == NULL || (gt = strchr(lt, '>')) == NULL ||
	    (size_t)(gt - lt - 1) >= size)
		return;
	memcpy(out, lt + 1, gt - lt - 1);
	out[gt - lt - 1] = '\0';
}

/* The final reply for a message, by what the sender's address says. */
static void
tiny_final(struct tiny *t, int fd, const char *sender, int *valid)
{
	if (*valid == 0)
		say(fd, "554 5.5.1 Error: no valid recipients");
	else if (strstr(sender, "datafail") != NULL)
		say(fd, "554 5.6.0 Error: message content rejected");
	else if (strstr(sender, "datadefer") != NULL)
		say(fd, "451 4.3.0 Error: queue file write error");
	else {
		t->accepted++;
		say(fd, "250 2.0.0 Ok: queued as T%d", t->accepted);
	}
	*valid = 0;
}

static void *
tiny_main(void *arg)
{
	struct tiny *t = arg;
	struct tconn *c = xcalloc(1, sizeof(*c));
	char line[4096], sender[512], rcpt[512];
	int valid = 0, in_mail = 0, mailno = 0, last;
	unsigned long n;

	if ((c->fd = accept(t->lfd, NULL, NULL)) == -1)
		goto out;
	if (t->greet_421) {
		say(c->fd, "421 4.3.2 tiny: service not available");
		goto out;
	}
	say(c->fd, "220 tiny ESMTP");
	sender[0] = '\0';
	while (tconn_line(c, line, sizeof(line)) == 0) {
		if (strncasecmp(line, "EHLO", 4) == 0) {
			say(c->fd, "250-tiny");
			say(c->fd, "250-PIPELINING");
			say(c->fd, "250-SIZE 10240000");
			if (!t->no8bit)
				say(c->fd, "250-8BITMIME");
			if (t->chunking)
				say(c->fd, "250-CHUNKING");
			say(c->fd, "250 ENHANCEDSTATUSCODES");
		} else if (strncasecmp(line, "MAIL FROM:", 10) == 0) {
			__atomic_add_fetch(&t->mails, 1, __ATOMIC_SEQ_CST);
			mailno++;
			angle(line, sender, sizeof(sender));
			valid = 0;
			if (sender[0] == '\0')
				t->null_sender = 1;
			if (strstr(sender, "mailfail") != NULL)
				say(c->fd, "553 5.7.1 <%s>: Sender address "
				    "rejected", sender);
			else if (strstr(sender, "maildefer") != NULL)
				say(c->fd, "451 4.3.0 <%s>: Temporary lookup "
				    "failure", sender);
			else {
				in_mail = 1;
				say(c->fd, "250 2.1.0 Ok");
			}
		} else if (strncasecmp(line, "RCPT TO:", 8) == 0) {
			angle(line, rcpt, sizeof(rcpt));
			if (!in_mail)
				say(c->fd, "503 5.5.1 Error: need MAIL command");
			else if (strstr(rcpt, "defer") != NULL)
				say(c->fd, "450 4.2.0 <%s>: Recipient address "
				    "rejected: mailbox busy", rcpt);
			else if (strstr(rcpt, "fail") != NULL)
				say(c->fd, "550 5.1.1 <%s>: Recipient address "
				    "rejected: unknown user", rcpt);
			else {
				valid++;
				say(c->fd, "250 2.1.5 Ok");
			}
		} else if (strcasecmp(line, "DATA") == 0) {
			if (valid == 0) {
				say(c->fd, "554 5.5.1 Error: no valid "
				    "recipients");
				continue;
			}
			say(c->fd, "354 End data with <CR><LF>.<CR><LF>");
			do {
				if (tconn_line(c, line, sizeof(line)) == -1)
					goto out;
				if (t->drop_in_data == mailno)
					goto out;
			} while (strcmp(line, ".") != 0);
			if (t->drop_after_dot == mailno)
				goto out;
			tiny_final(t, c->fd, sender, &valid);
			in_mail = 0;
		} else if (strncasecmp(line, "BDAT ", 5) == 0) {
			n = strtoul(line + 5, NULL, 10);
			last = strstr(line, "LAST") != NULL;
			if (t->drop_in_data == mailno) {
				(void)tconn_skip(c, n / 2);
				goto out;
			}
			if (tconn_skip(c, n) == -1)
				goto out;
			t->bdat_octets += n;
			if (!last) {
				if (valid == 0)
					say(c->fd, "554 5.5.1 Error: no valid "
					    "recipients");
				else
					say(c->fd, "250 2.0.0 %lu octets "
					    "received", n);
				continue;
			}
			if (t->drop_after_dot == mailno)
				goto out;
			tiny_final(t, c->fd, sender, &valid);
			in_mail = 0;
		} else if (strcasecmp(line, "RSET") == 0) {
			valid = in_mail = 0;
			say(c->fd, "250 2.0.0 Ok");
		} else if (strcasecmp(line, "QUIT") == 0) {
			say(c->fd, "221 2.0.0 Bye");
			break;
		} else
			say(c->fd, "502 5.5.2 Error: command not recognized");
	}
out:
	if (c->fd != -1)
		close(c->fd);
	free(c);
	return NULL;
}

static void
tiny_start(struct tiny *t)
{
	signal(SIGPIPE, SIG_IGN);
	t->port = free_port(&t->lfd);
	ck_assert_int_eq(listen(t->lfd, 8), 0);
	ck_assert_int_eq(pthread_create(&t->thread, NULL, tiny_main, t), 0);
}

static void
tiny_stop(struct tiny *t)
{
	pthread_join(t->thread, NULL);
	close(t->lfd);
}

/* --- tests ------------------------------------------------------------- */

/* (1) 3 x 50 recipients into smtp-sink: all sent, the body intact. */
START_TEST(test_sink_three_txns)
{
	struct relay_conf relay = relay_at("127.0.0.1", sink_port);
	struct record rec;
	struct batch b;
	char *dump;
	size_t i, j;
	int k;

	memset(&rec, 0, sizeof(rec));
	batch_generated(&b, 3, 50, TEST_MESSAGE);
	rec.base = b.txns;
	ck_assert_int_eq(deliver_session(&relay, b.txns, b.ntxns,
	    record_done, &rec), 0);
	record_check_all_once(&rec, 3);
	for (i = 0; i < b.ntxns; i++)
		for (j = 0; j < b.txns[i].nrcpts; j++)
			assert_rcpt(&b.txns[i].rcpts[j], DELIVER_SENT,
			    "250 2.0.0 Ok");

	/* smtp-sink appends to the dump as each transaction ends. */
	for (k = 0; k < 500; k++) {
		dump = read_file(sink_dump);
		if (count_str(dump, "X-Mail-Args:") == 3 &&
		    count_str(dump, DUMP_BODY) == 3)
			break;
		free(dump);
		dump = NULL;
		usleep(10000);
	}
	if (dump == NULL)
		dump = read_file(sink_dump);
	ck_assert_msg(count_str(dump, DUMP_BODY) == 3,
	    "body not intact in the dump:\n%.3000s", dump);
	ck_assert_uint_eq(count_str(dump, "X-Mail-Args: <"
	    "list-bounces@example.org>"), 3);
	ck_assert_uint_eq(count_str(dump, "X-Rcpt-Args:"), 150);
	ck_assert_uint_eq(count_str(dump,
	    "X-Rcpt-Args: <user001.049@example.net>"), 1);
	ck_assert_uint_eq(count_str(dump, "Subject: test\n"), 3);
	/* 8-bit data was declared. */
	ck_assert_uint_eq(count_str(dump, "BODY=8BITMIME"), 3);
	free(dump);
	batch_free(&b, 1);
}
END_TEST

/* (2) Nobody listens: -1, every recipient deferred with the reason. */
START_TEST(test_refused)
{
	struct relay_conf relay;
	struct record rec;
	struct batch b;
	char want[128];
	size_t i, j;
	int fd, port;

	port = free_port(&fd);		/* bound, not listening: refused */
	relay = relay_at("127.0.0.1", port);
	memset(&rec, 0, sizeof(rec));
	batch_generated(&b, 3, 5, TEST_MESSAGE);
	rec.base = b.txns;
	ck_assert_int_eq(deliver_session(&relay, b.txns, b.ntxns,
	    record_done, &rec), -1);
	record_check_all_once(&rec, 3);
	snprintf(want, sizeof(want), "connect to 127.0.0.1:%d: "
	    "Connection refused", port);
	for (i = 0; i < b.ntxns; i++)
		for (j = 0; j < b.txns[i].nrcpts; j++)
			assert_rcpt(&b.txns[i].rcpts[j], DELIVER_DEFERRED,
			    want);
	close(fd);
	batch_free(&b, 1);
}
END_TEST

/* (3) Per-recipient and per-message answers, over DATA and BDAT. */
START_TEST(test_mixed)
{
	static const char *const r0[] = { "ok1@example.net",
	    "defer1@example.net", "fail1@example.net", "ok2@example.net",
	    NULL };
	static const char *const r1[] = { "ok@example.net", NULL };
	static const char *const r3[] = { "ok3@example.net",
	    "defer3@example.net", NULL };
	static const char *const r5[] = { "fail5a@example.net",
	    "fail5b@example.net", NULL };
	static const char *const r6[] = { "ok6@example.net", NULL };
	static const char *const *const rcpts[] = { r0, r1, r1, r3, r1, r5,
	    r6 };
	static const char *const senders[] = { "list-bounces@example.org",
	    "mailfail@example.org", "maildefer@example.org",
	    "datafail@example.org", "datadefer@example.org", "", 
	    "list-bounces@example.org" };
	struct tiny t;
	struct relay_conf relay;
	struct record rec;
	struct batch b;
	struct deliver_txn *x;

	memset(&t, 0, sizeof(t));
	t.chunking = _i;
	tiny_start(&t);
	relay = relay_at("127.0.0.1", t.port);
	memset(&rec, 0, sizeof(rec));
	batch_init(&b, 7, senders, rcpts, TEST_MESSAGE);
	rec.base = b.txns;
	rec.mails = &t.mails;
	ck_assert_int_eq(deliver_session(&relay, b.txns, b.ntxns,
	    record_done, &rec), 0);
	tiny_stop(&t);
	record_check_all_once(&rec, 7);
	/* Done for the first came before the second MAIL FROM. */
	ck_assert_int_eq(rec.mails_at_first, 1);

	x = b.txns;
	assert_rcpt(&x[0].rcpts[0], DELIVER_SENT, "250 2.0.0 Ok: queued as T1");
	assert_rcpt(&x[0].rcpts[1], DELIVER_DEFERRED,
	    "450 4.2.0 <defer1@example.net>: Recipient address rejected");
	assert_rcpt(&x[0].rcpts[2], DELIVER_FAILED,
	    "550 5.1.1 <fail1@example.net>: Recipient address rejected");
	assert_rcpt(&x[0].rcpts[3], DELIVER_SENT, "250 2.0.0 Ok: queued as T1");
	assert_rcpt(&x[1].rcpts[0], DELIVER_FAILED,
	    "553 5.7.1 <mailfail@example.org>: Sender address rejected");
	assert_rcpt(&x[2].rcpts[0], DELIVER_DEFERRED,
	    "451 4.3.0 <maildefer@example.org>: Temporary lookup failure");
	assert_rcpt(&x[3].rcpts[0], DELIVER_FAILED,
	    "554 5.6.0 Error: message content rejected");
	assert_rcpt(&x[3].rcpts[1], DELIVER_DEFERRED, "450 4.2.0");
	assert_rcpt(&x[4].rcpts[0], DELIVER_DEFERRED,
	    "451 4.3.0 Error: queue file write error");
	assert_rcpt(&x[5].rcpts[0], DELIVER_FAILED, "550 5.1.1 <fail5a@");
	assert_rcpt(&x[5].rcpts[1], DELIVER_FAILED, "550 5.1.1 <fail5b@");
	assert_rcpt(&x[6].rcpts[0], DELIVER_SENT, "250 2.0.0 Ok: queued as T2");
	ck_assert_int_eq(t.accepted, 2);
	ck_assert_int_eq(t.null_sender, 1);
	batch_free(&b, 0);
}
END_TEST

/* (4) The relay drops the connection in the data of the second. */
START_TEST(test_drop_in_data)
{
	static const char *const r0[] = { "a0@example.net", "b0@example.net",
	    NULL };
	static const char *const r1[] = { "a1@example.net",
	    "fail1@example.net", "defer1@example.net", NULL };
	static const char *const r2[] = { "a2@example.net", NULL };
	static const char *const *const rcpts[] = { r0, r1, r2 };
	static const char *const senders[] = { "l@example.org",
	    "l@example.org", "l@example.org" };
	struct tiny t;
	struct relay_conf relay;
	struct record rec;
	struct batch b;
	struct deliver_txn *x;
	char want[128];

	memset(&t, 0, sizeof(t));
	t.chunking = _i;
	t.drop_in_data = 2;
	tiny_start(&t);
	relay = relay_at("127.0.0.1", t.port);
	memset(&rec, 0, sizeof(rec));
	batch_init(&b, 3, senders, rcpts, TEST_MESSAGE);
	rec.base = b.txns;
	rec.mails = &t.mails;
	ck_assert_int_eq(deliver_session(&relay, b.txns, b.ntxns,
	    record_done, &rec), 0);
	tiny_stop(&t);
	record_check_all_once(&rec, 3);
	ck_assert_int_eq(rec.mails_at_first, 1);

	x = b.txns;
	assert_rcpt(&x[0].rcpts[0], DELIVER_SENT, "250 2.0.0 Ok: queued as T1");
	assert_rcpt(&x[0].rcpts[1], DELIVER_SENT, "250 2.0.0 Ok: queued as T1");
	snprintf(want, sizeof(want), "lost connection with 127.0.0.1:%d "
	    "while sending the message", t.port);
	assert_rcpt(&x[1].rcpts[0], DELIVER_DEFERRED, want);
	/* What the relay refused before the drop stays refused. */
	assert_rcpt(&x[1].rcpts[1], DELIVER_FAILED, "550 5.1.1 <fail1@");
	assert_rcpt(&x[1].rcpts[2], DELIVER_DEFERRED, "450 4.2.0 <defer1@");
	snprintf(want, sizeof(want), "session with 127.0.0.1:%d ended "
	    "before this transaction", t.port);
	assert_rcpt(&x[2].rcpts[0], DELIVER_DEFERRED, want);
	batch_free(&b, 0);
}
END_TEST

/* The relay takes the data and closes without a reply: uncertain. */
START_TEST(test_drop_after_dot)
{
	static const char *const r0[] = { "a0@example.net", NULL };
	static const char *const *const rcpts[] = { r0 };
	static const char *const senders[] = { "l@example.org" };
	struct tiny t;
	struct relay_conf relay;
	struct record rec;
	struct batch b;
	char want[128];

	memset(&t, 0, sizeof(t));
	t.chunking = _i;
	t.drop_after_dot = 1;
	tiny_start(&t);
	relay = relay_at("127.0.0.1", t.port);
	memset(&rec, 0, sizeof(rec));
	batch_init(&b, 1, senders, rcpts, TEST_MESSAGE);
	rec.base = b.txns;
	ck_assert_int_eq(deliver_session(&relay, b.txns, b.ntxns,
	    record_done, &rec), 0);
	tiny_stop(&t);
	record_check_all_once(&rec, 1);
	snprintf(want, sizeof(want), "lost connection with 127.0.0.1:%d "
	    "while sending the message: SMTP server dropped connection",
	    t.port);
	assert_rcpt(&b.txns[0].rcpts[0], DELIVER_DEFERRED, want);
	batch_free(&b, 0);
}
END_TEST

/* A 421 greeting: nothing ran; the reply says why. */
START_TEST(test_greeting_421)
{
	static const char *const r0[] = { "a0@example.net", NULL };
	static const char *const *const rcpts[] = { r0, r0 };
	static const char *const senders[] = { "l@example.org",
	    "l@example.org" };
	struct tiny t;
	struct relay_conf relay;
	struct record rec;
	struct batch b;
	char want[128];

	memset(&t, 0, sizeof(t));
	t.greet_421 = 1;
	tiny_start(&t);
	relay = relay_at("127.0.0.1", t.port);
	memset(&rec, 0, sizeof(rec));
	batch_init(&b, 2, senders, rcpts, TEST_MESSAGE);
	rec.base = b.txns;
	ck_assert_int_eq(deliver_session(&relay, b.txns, b.ntxns,
	    record_done, &rec), -1);
	tiny_stop(&t);
	record_check_all_once(&rec, 2);
	snprintf(want, sizeof(want), "127.0.0.1:%d said: 421 4.3.2 tiny: "
	    "service not available", t.port);
	assert_rcpt(&b.txns[0].rcpts[0], DELIVER_DEFERRED, want);
	assert_rcpt(&b.txns[1].rcpts[0], DELIVER_DEFERRED, want);
	batch_free(&b, 0);
}
END_TEST

/* STARTTLS required, not offered: nothing is sent in clear. */
START_TEST(test_starttls_missing)
{
	static const char *const r0[] = { "a0@example.net", NULL };
	static const char *const *const rcpts[] = { r0 };
	static const char *const senders[] = { "l@example.org" };
	struct tiny t;
	struct relay_conf relay;
	struct record rec;
	struct batch b;
	char want[128];

	memset(&t, 0, sizeof(t));
	tiny_start(&t);
	relay = relay_at("127.0.0.1", t.port);
	relay.starttls = 1;
	memset(&rec, 0, sizeof(rec));
	batch_init(&b, 1, senders, rcpts, TEST_MESSAGE);
	rec.base = b.txns;
	ck_assert_int_eq(deliver_session(&relay, b.txns, b.ntxns,
	    record_done, &rec), -1);
	tiny_stop(&t);
	record_check_all_once(&rec, 1);
	ck_assert_int_eq(t.mails, 0);
	snprintf(want, sizeof(want), "STARTTLS required but not offered by "
	    "127.0.0.1:%d", t.port);
	assert_rcpt(&b.txns[0].rcpts[0], DELIVER_DEFERRED, want);
	batch_free(&b, 0);
}
END_TEST

/* 8-bit data needs 8BITMIME; 7-bit data does not. */
START_TEST(test_no_8bitmime)
{
	static const char *const r0[] = { "a0@example.net", NULL };
	static const char *const *const rcpts[] = { r0 };
	static const char *const senders[] = { "l@example.org" };
	static const char seven[] = "Subject: seven\r\n\r\nplain ASCII\r\n";
	struct tiny t;
	struct relay_conf relay;
	struct record rec;
	struct batch b;

	memset(&t, 0, sizeof(t));
	t.no8bit = 1;
	tiny_start(&t);
	relay = relay_at("127.0.0.1", t.port);
	memset(&rec, 0, sizeof(rec));
	batch_init(&b, 1, senders, rcpts, _i ? seven : TEST_MESSAGE);
	rec.base = b.txns;
	ck_assert_int_eq(deliver_session(&relay, b.txns, b.ntxns,
	    record_done, &rec), _i ? 0 : -1);
	tiny_stop(&t);
	record_check_all_once(&rec, 1);
	if (_i)
		assert_rcpt(&b.txns[0].rcpts[0], DELIVER_SENT, "250 2.0.0");
	else
		assert_rcpt(&b.txns[0].rcpts[0], DELIVER_DEFERRED,
		    "127.0.0.1");
	if (!_i)
		ck_assert_ptr_nonnull(strstr(b.txns[0].rcpts[0].reply,
		    "does not offer 8BITMIME"));
	batch_free(&b, 0);
}
END_TEST

/* An IPv6 literal cannot reach libESMTP 1.1: say so, connect nowhere. */
START_TEST(test_ipv6_literal)
{
	static const char *const r0[] = { "a0@example.net", NULL };
	static const char *const *const rcpts[] = { r0 };
	static const char *const senders[] = { "l@example.org" };
	static const char *const hosts[] = { "::1", "[::1]" };
	struct relay_conf relay = relay_at(hosts[_i], 25);
	struct record rec;
	struct batch b;

	memset(&rec, 0, sizeof(rec));
	batch_init(&b, 1, senders, rcpts, TEST_MESSAGE);
	rec.base = b.txns;
	ck_assert_int_eq(deliver_session(&relay, b.txns, b.ntxns,
	    record_done, &rec), -1);
	record_check_all_once(&rec, 1);
	assert_rcpt(&b.txns[0].rcpts[0], DELIVER_DEFERRED, "relay ");
	ck_assert_ptr_nonnull(strstr(b.txns[0].rcpts[0].reply, "IPv6"));
	batch_free(&b, 0);
}
END_TEST

/* Transactions without recipients are passed back untouched. */
START_TEST(test_empty)
{
	struct relay_conf relay = relay_at("127.0.0.1", 1);
	struct deliver_txn txn;
	struct record rec;

	memset(&txn, 0, sizeof(txn));
	memset(&rec, 0, sizeof(rec));
	rec.base = &txn;
	txn.id = "EMPTY";
	txn.sender = "";
	txn.data = TEST_MESSAGE;
	txn.len = strlen(TEST_MESSAGE);
	ck_assert_int_eq(deliver_session(&relay, &txn, 1, record_done, &rec),
	    0);
	record_check_all_once(&rec, 1);
	ck_assert_int_eq(deliver_session(&relay, NULL, 0, record_done, &rec),
	    0);
}
END_TEST

/*
 * A message bigger than one reader chunk, with a very long line: over
 * DATA into smtp-sink, and over BDAT into the tiny server.
 */
START_TEST(test_big_message)
{
	struct relay_conf relay = relay_at("127.0.0.1", sink_port);
	struct buf m = BUF_INIT;
	struct tiny t;
	struct record rec;
	struct batch b;
	size_t i;

	buf_adds(&m, "Subject: big\r\n\r\n");
	for (i = 0; m.len < 200 * 1024; i++)
		buf_printf(&m, "line %06zu %s\r\n", i,
		    "................................................");
	for (i = 0; i < 100 * 1024; i++)	/* one 100 KB line */
		buf_addc(&m, 'x');
	buf_adds(&m, "\r\n");
	memset(&rec, 0, sizeof(rec));
	batch_generated(&b, 2, 3, buf_cstr(&m));
	rec.base = b.txns;
	if (_i) {
		memset(&t, 0, sizeof(t));
		t.chunking = 1;
		tiny_start(&t);
		relay = relay_at("127.0.0.1", t.port);
	}
	ck_assert_int_eq(deliver_session(&relay, b.txns, b.ntxns,
	    record_done, &rec), 0);
	record_check_all_once(&rec, 2);
	ck_assert_uint_eq(batch_count(&b, DELIVER_SENT), 6);
	if (_i) {
		tiny_stop(&t);
		ck_assert_int_eq(t.accepted, 2);
		/* All of it went, plus the Date: and Message-Id: libESMTP
		 * adds to a message without them. */
		ck_assert_uint_ge(t.bdat_octets, 2 * m.len);
		ck_assert_uint_lt(t.bdat_octets, 2 * m.len + 400);
	}
	batch_free(&b, 1);
	buf_free(&m);
}
END_TEST

struct thread_arg {
	struct batch	b;
	struct record	rec;
	int		rc;
};

static void *
thread_session(void *arg)
{
	struct thread_arg *a = arg;
	struct relay_conf relay = relay_at("127.0.0.1", sink_port);

	a->rc = deliver_session(&relay, a->b.txns, a->b.ntxns, record_done,
	    &a->rec);
	return NULL;
}

/* Sessions in several threads at once. */
START_TEST(test_threads)
{
	struct thread_arg a[4];
	pthread_t th[4];
	int i;

	for (i = 0; i < 4; i++) {
		memset(&a[i], 0, sizeof(a[i]));
		batch_generated(&a[i].b, 5, 20, TEST_MESSAGE);
		a[i].rec.base = a[i].b.txns;
		ck_assert_int_eq(pthread_create(&th[i], NULL, thread_session,
		    &a[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		ck_assert_int_eq(a[i].rc, 0);
		record_check_all_once(&a[i].rec, 5);
		ck_assert_uint_eq(batch_count(&a[i].b, DELIVER_SENT), 100);
		batch_free(&a[i].b, 1);
	}
}
END_TEST

/* --- STARTTLS: a Python server (its ssl module) with fixed certificates */

/*
 * Two self-signed certificates for "127.0.0.1" (valid 2000-2100): the
 * fixture makes "good" the only trusted CA (SSL_CERT_FILE, which
 * libESMTP's default verify paths read); "bad" is trusted by nobody.
 */
static const char good_crt[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBYTCCAQegAwIBAgIBATAKBggqhkjOPQQDAjAUMRIwEAYDVQQDDAkxMjcuMC4w\n"
	"LjEwIBcNMDAwMTAxMDAwMDAwWhgPMjEwMDAxMDEwMDAwMDBaMBQxEjAQBgNVBAMM\n"
	"CTEyNy4wLjAuMTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABCmvH7IsQOSQDqx7\n"
	"/J5k7zZ3kgLhlntcjWauI1upC/0SflWAjKhl6YpwIO9aA4cyACY/F/ppoWUqhPWF\n"
	"X+7tEyejSDBGMBQGA1UdEQQNMAuCCTEyNy4wLjAuMTAPBgNVHRMBAf8EBTADAQH/\n"
	"MB0GA1UdDgQWBBT1vQh2IlNE5N8VCFBJ8ePKcDy1PjAKBggqhkjOPQQDAgNIADBF\n"
	"AiEAwN+byoXvxmuSzGmMyP98FyE3fkzz+44/+4c+cn3AxvECIG6BzxZIdMP3WHM5\n"
	"ADyqW9Gh3KvzqDsjZtf3DY5JD63X\n"
	"-----END CERTIFICATE-----\n";
static const char good_key[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgLQTJ84e2m+25B3N0\n"
	"7VJvr8dcwShe1s/QUpM3ILGgCaGhRANCAAQprx+yLEDkkA6se/yeZO82d5IC4ZZ7\n"
	"XI1mriNbqQv9En5VgIyoZemKcCDvWgOHMgAmPxf6aaFlKoT1hV/u7RMn\n"
	"-----END PRIVATE KEY-----\n";
static const char bad_crt[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBYjCCAQegAwIBAgIBAjAKBggqhkjOPQQDAjAUMRIwEAYDVQQDDAkxMjcuMC4w\n"
	"LjEwIBcNMDAwMTAxMDAwMDAwWhgPMjEwMDAxMDEwMDAwMDBaMBQxEjAQBgNVBAMM\n"
	"CTEyNy4wLjAuMTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABCwxm89rS9xAkk7s\n"
	"HEqMTf9Dp3VbHMw94QWRboGzgIyp6abMB3Y9rhyKcgJxVaewLCsNfUJgI63TRH+M\n"
	"Kc7qfs+jSDBGMBQGA1UdEQQNMAuCCTEyNy4wLjAuMTAPBgNVHRMBAf8EBTADAQH/\n"
	"MB0GA1UdDgQWBBQyObkTm590EEknBYO7pCt0Ap1hmDAKBggqhkjOPQQDAgNJADBG\n"
	"AiEAz98obdjOGk22ogoMSnM4u57xqRCND++Af7nK8G0rkCgCIQC0PtS5/av5QXBz\n"
	"aW6zSODjaRdEPi8epEST40uRYNhivQ==\n"
	"-----END CERTIFICATE-----\n";
static const char bad_key[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgtiueQjT7ZnBuK04m\n"
	"4ZesTCloA1TeSyudN31SMxn6uDShRANCAAQsMZvPa0vcQJJO7BxKjE3/Q6d1WxzM\n"
	"PeEFkW6Bs4CMqemmzAd2Pa4cinICcVWnsCwrDX1CYCOt00R/jCnO6n7P\n"
	"-----END PRIVATE KEY-----\n";

/* One session on an inherited listening socket; logs each command. */
static const char tls_server_py[] =
	"import socket, ssl, sys\n"
	"ls = socket.socket(fileno=int(sys.argv[1]))\n"
	"ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\n"
	"ctx.load_cert_chain(sys.argv[3], sys.argv[4])\n"
	"out = open(sys.argv[2], 'w')\n"
	"c, _ = ls.accept()\n"
	"ls.close()\n"
	"f = c.makefile('rwb', buffering=0)\n"
	"tls = False\n"
	"def say(s):\n"
	"    f.write(s.encode() + b'\\r\\n')\n"
	"say('220 tls ESMTP')\n"
	"try:\n"
	"    while True:\n"
	"        line = f.readline()\n"
	"        if not line:\n"
	"            break\n"
	"        l = line.decode().strip()\n"
	"        u = l.upper()\n"
	"        out.write(('TLS ' if tls else 'CLEAR ') + l + '\\n')\n"
	"        if u.startswith('EHLO'):\n"
	"            say('250-tls')\n"
	"            if not tls:\n"
	"                say('250-STARTTLS')\n"
	"            say('250 8BITMIME')\n"
	"        elif u == 'STARTTLS' and not tls:\n"
	"            say('220 2.0.0 Ready to start TLS')\n"
	"            f.close()\n"
	"            c = ctx.wrap_socket(c, server_side=True)\n"
	"            f = c.makefile('rwb', buffering=0)\n"
	"            tls = True\n"
	"        elif u.startswith('MAIL') or u.startswith('RCPT'):\n"
	"            say('250 2.1.0 Ok')\n"
	"        elif u == 'DATA':\n"
	"            say('354 End data with <CR><LF>.<CR><LF>')\n"
	"            while True:\n"
	"                d = f.readline()\n"
	"                if not d or d.rstrip(b'\\r\\n') == b'.':\n"
	"                    break\n"
	"            say('250 2.0.0 Ok: queued over TLS')\n"
	"        elif u == 'QUIT':\n"
	"            say('221 2.0.0 Bye')\n"
	"            break\n"
	"        else:\n"
	"            say('250 2.0.0 Ok')\n"
	"except (ssl.SSLError, OSError) as e:\n"
	"    out.write('ERROR %s\\n' % e)\n"
	"out.close()\n"
	"c.close()\n";

static char	 tls_dir[] = "/tmp/check_deliver_tls.XXXXXX";

static void
tls_path(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", tls_dir, name);
}

static void
tls_write(const char *name, const char *data)
{
	char path[128];
	FILE *fp;

	tls_path(path, sizeof(path), name);
	if ((fp = fopen(path, "w")) == NULL || fputs(data, fp) == EOF ||
	    fclose(fp) == EOF) {
		perror(path);
		exit(1);
	}
}

static const char *const tls_files[] = { "good.crt", "good.key", "bad.crt",
    "bad.key", "server.py", "server.log", "server.err" };

static void
tls_setup(void)
{
	char path[128];

	if (mkdtemp(tls_dir) == NULL) {
		perror("check_deliver: temporary directory");
		exit(1);
	}
	tls_write("good.crt", good_crt);
	tls_write("good.key", good_key);
	tls_write("bad.crt", bad_crt);
	tls_write("bad.key", bad_key);
	tls_write("server.py", tls_server_py);
	/* Before libESMTP makes its (process-wide) SSL_CTX. */
	tls_path(path, sizeof(path), "good.crt");
	setenv("SSL_CERT_FILE", path, 1);
	setenv("HOME", tls_dir, 1);	/* no ~/.authenticate */
}

static void
tls_teardown(void)
{
	char path[128];
	size_t i;

	for (i = 0; i < sizeof(tls_files) / sizeof(tls_files[0]); i++) {
		tls_path(path, sizeof(path), tls_files[i]);
		unlink(path);
	}
	rmdir(tls_dir);
	strcpy(tls_dir, "/tmp/check_deliver_tls.XXXXXX");
}

/* Start the server on a listening socket of ours; returns its pid. */
static pid_t
tls_server(int lfd, const char *cert)
{
	char script[128], log[128], crt[128], key[128], err[128], fdarg[16];
	pid_t pid;
	int fd;

	tls_path(script, sizeof(script), "server.py");
	tls_path(log, sizeof(log), "server.log");
	tls_path(err, sizeof(err), "server.err");
	snprintf(crt, sizeof(crt), "%s/%s.crt", tls_dir, cert);
	snprintf(key, sizeof(key), "%s/%s.key", tls_dir, cert);
	snprintf(fdarg, sizeof(fdarg), "%d", lfd);
	ck_assert_msg(access("/usr/bin/python3", X_OK) == 0,
	    "/usr/bin/python3 (Debian's, with ssl) is needed for STARTTLS");
	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0) {
		if ((fd = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644)) != -1) {
			dup2(fd, 2);
			close(fd);
		}
		execl("/usr/bin/python3", "python3", script, fdarg, log, crt,
		    key, (char *)NULL);
		perror("/usr/bin/python3");
		_exit(127);
	}
	return pid;
}

static int
tls_wait(pid_t pid)
{
	int i, status;

	for (i = 0; i < 1000; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return status;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

/* STARTTLS with a trusted certificate: everything after it is secret. */
START_TEST(test_tls)
{
	static const char *const r0[] = { "a0@example.net", "b0@example.net",
	    NULL };
	static const char *const *const rcpts[] = { r0 };
	static const char *const senders[] = { "l@example.org" };
	struct relay_conf relay;
	struct record rec;
	struct batch b;
	char path[128], want[160], *log;
	pid_t pid;
	int lfd, port;

	port = free_port(&lfd);
	ck_assert_int_eq(listen(lfd, 8), 0);
	pid = tls_server(lfd, _i ? "bad" : "good");
	close(lfd);
	relay = relay_at("127.0.0.1", port);
	relay.starttls = 1;
	memset(&rec, 0, sizeof(rec));
	batch_init(&b, 1, senders, rcpts, TEST_MESSAGE);
	rec.base = b.txns;
	ck_assert_int_eq(deliver_session(&relay, b.txns, b.ntxns,
	    record_done, &rec), _i ? -1 : 0);
	ck_assert_int_eq(tls_wait(pid), 0);
	record_check_all_once(&rec, 1);
	tls_path(path, sizeof(path), "server.log");
	log = read_file(path);
	ck_assert_msg(strstr(log, "CLEAR STARTTLS\n") != NULL, "%s", log);
	ck_assert_msg(strstr(log, "CLEAR MAIL") == NULL, "%s", log);
	if (_i == 0) {
		assert_rcpt(&b.txns[0].rcpts[0], DELIVER_SENT,
		    "250 2.0.0 Ok: queued over TLS");
		assert_rcpt(&b.txns[0].rcpts[1], DELIVER_SENT,
		    "250 2.0.0 Ok: queued over TLS");
		ck_assert_msg(strstr(log, "TLS MAIL FROM:<l@example.org>") !=
		    NULL, "%s", log);
	} else {
		snprintf(want, sizeof(want), "TLS: certificate of "
		    "127.0.0.1:%d not verified: ", port);
		assert_rcpt(&b.txns[0].rcpts[0], DELIVER_DEFERRED, want);
		ck_assert_msg(strstr(log, "MAIL") == NULL, "%s", log);
	}
	free(log);
	batch_free(&b, 0);
}
END_TEST

static size_t bench_sent;

static void
bench_done(struct deliver_txn *txn, void *arg)
{
	size_t j;

	(void)arg;
	for (j = 0; j < txn->nrcpts; j++)
		bench_sent += txn->rcpts[j].state == DELIVER_SENT;
}

/* 100 transactions x 100 recipients of a 4 KB message: timed. */
START_TEST(test_bench)
{
	struct relay_conf relay = relay_at("127.0.0.1", sink_port);
	struct timespec t0, t1;
	struct batch b;
	char *msg;
	size_t n = 0, i;
	double secs;

	msg = xmalloc(4096 + 1);
	n += sprintf(msg, "From: list@example.org\r\nSubject: bench\r\n"
	    "Message-ID: <bench@example.org>\r\n"
	    "Date: Mon, 1 Jan 2024 00:00:00 +0900\r\n\r\n");
	for (i = 0; n + 72 <= 4096; i++)
		n += sprintf(msg + n, "%04zu %s\r\n", i, "0123456789abcdef"
		    "0123456789abcdef0123456789abcdef0123456789abcdef");
	memset(msg + n, 'z', 4096 - n - 2);
	memcpy(msg + 4094, "\r\n", 3);
	ck_assert_uint_eq(strlen(msg), 4096);

	batch_generated(&b, 100, 100, msg);
	bench_sent = 0;
	log_init("check_deliver", 1, 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(deliver_session(&relay, b.txns, b.ntxns, bench_done,
	    NULL), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	ck_assert_uint_eq(bench_sent, 10000);
	printf("bench: 1 session, 100 transactions x 100 recipients, "
	    "4096-octet message, into smtp-sink: %.3f s (%.0f recipients/s)\n",
	    secs, 10000 / secs);
	fflush(stdout);
	batch_free(&b, 1);
	free(msg);
}
END_TEST

static Suite *
deliver_suite(void)
{
	Suite *s = suite_create("deliver");
	TCase *tc;

	tc = tcase_create("smtp-sink");
	tcase_add_unchecked_fixture(tc, sink_start_dump, sink_stop);
	tcase_add_test(tc, test_sink_three_txns);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	tc = tcase_create("answers");
	tcase_add_test(tc, test_refused);
	tcase_add_loop_test(tc, test_mixed, 0, 2);
	tcase_add_loop_test(tc, test_drop_in_data, 0, 2);
	tcase_add_loop_test(tc, test_drop_after_dot, 0, 2);
	tcase_add_test(tc, test_greeting_421);
	tcase_add_test(tc, test_starttls_missing);
	tcase_add_loop_test(tc, test_no_8bitmime, 0, 2);
	tcase_add_loop_test(tc, test_ipv6_literal, 0, 2);
	tcase_add_test(tc, test_empty);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	tc = tcase_create("starttls");
	tcase_add_unchecked_fixture(tc, tls_setup, tls_teardown);
	tcase_add_loop_test(tc, test_tls, 0, 2);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	tc = tcase_create("volume");
	tcase_add_unchecked_fixture(tc, sink_start_plain, sink_stop);
	tcase_add_loop_test(tc, test_big_message, 0, 2);
	tcase_add_test(tc, test_threads);
	tcase_add_test(tc, test_bench);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	signal(SIGPIPE, SIG_IGN);	/* as the daemon does */
	log_init("check_deliver", 1, 0);
	sr = srunner_create(deliver_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
