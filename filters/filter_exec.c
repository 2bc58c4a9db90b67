/*
 * filter_exec - an external filter command, as SpamAssassin's spamc -c
 * is used:
 *
 *	{ type = "command"; command = [ "/usr/bin/spamc", "-c" ];
 *	  timeout = 10; accept = [ 0 ]; hold = [ 1 ];
 *	  reject = [ ]; discard = [ ]; action = "hold"; }
 *
 * The message goes to the command's standard input and its exit status
 * decides: a status listed in accept, hold, reject or discard gives that
 * answer; any other status, a crash, or a command still running after
 * timeout seconds gives "action" (hold by default: a broken filter must
 * neither lose posts nor let everything through).  The first line the
 * command prints, if any, is the reason shown.
 *
 * No shell is involved: the command is an argument vector with an
 * absolute path, run by posix_spawn in a process group of its own (so a
 * timeout kills it and whatever it started), with standard error sent
 * to /dev/null, a clean signal mask, and MLSERVER_LIST and
 * MLSERVER_SENDER in its environment.  The message is written through
 * a socket with MSG_NOSIGNAL, so a command that exits without reading
 * all of it cannot kill the daemon with SIGPIPE.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "filter.h"
#include "log.h"
#include "xmalloc.h"

#define EXEC_OUTPUT_MAX	4096

extern char **environ;

struct exec_conf {
	char		**argv;
	size_t		  argc;
	long long	  timeout;	/* seconds */
	char		**codes[4];	/* per verdict: exit statuses */
	size_t		  ncodes[4];
};

static int	 exec_conf(struct filter *, const config_setting_t *,
		    struct buf *, const char *);
static enum filter_verdict exec_run(const struct filter *,
		    struct filter_msg *, struct buf *);
static void	 exec_free(struct filter *);
static int	 exec_codes(const config_setting_t *, const char *, char ***,
		    size_t *, struct buf *, const char *);
static long long exec_now_ms(void);
static int	 exec_spawn(const struct exec_conf *, const struct filter_msg *,
		    pid_t *, int *, int *);
static int	 exec_talk(const struct filter_msg *, int, int, long long,
		    struct buf *);
static int	 exec_wait(pid_t, long long, int *);
static void	 exec_reason(const struct buf *, struct buf *);

const struct filter_type filter_exec_type = {
	"command", 0, FILTER_HOLD, exec_conf, exec_run, exec_free
};

/* Exit statuses as decimal strings, checked to be 0..255. */
static int
exec_codes(const config_setting_t *s, const char *name, char ***out,
    size_t *n, struct buf *errors, const char *path)
{
	config_setting_t *a = config_setting_get_member(s, name);
	int i, len, bad = 0;

	*out = NULL;
	*n = 0;
	if (a == NULL)
		return 0;
	if (!config_setting_is_array(a) && !config_setting_is_list(a)) {
		filter_conf_error(errors, path, a, "\"%s\" must be a list of "
		    "exit statuses", name);
		return 1;
	}
	len = config_setting_length(a);
	*out = xcalloc((size_t)len + 1, sizeof(char *));
	for (i = 0; i < len; i++) {
		config_setting_t *e = config_setting_get_elem(a, i);
		char num[16];

		if (config_setting_type(e) != CONFIG_TYPE_INT ||
		    config_setting_get_int(e) < 0 ||
		    config_setting_get_int(e) > 255) {
			filter_conf_error(errors, path, e, "\"%s\": exit "
			    "statuses are numbers from 0 to 255", name);
			bad++;
			continue;
		}
		snprintf(num, sizeof(num), "%d", config_setting_get_int(e));
		(*out)[(*n)++] = xstrdup(num);
	}
	return bad;
}

static int
exec_conf(struct filter *f, const config_setting_t *s, struct buf *errors,
    const char *path)
{
	static const char *const keys[] = {
		"type", "action", "command", "timeout", "accept", "hold",
		"reject", "discard", NULL
	};
	static const char *const verdicts[] = {
		"accept", "hold", "reject", "discard"
	};
	struct exec_conf *c = xcalloc(1, sizeof(*c));
	int bad, v;

	f->priv = c;
	bad = filter_conf_check_keys(s, keys, errors, path);
	bad += filter_conf_strings(s, "command", &c->argv, &c->argc, errors,
	    path);
	if (c->argc == 0 || c->argv[0][0] != '/')
		filter_conf_error(errors, path, s, "a \"command\" filter needs "
		    "command = [ \"/absolute/path\", \"arg\", ... ]"), bad++;
	bad += filter_conf_int(s, "timeout", 10, 1, 300, &c->timeout, errors,
	    path);
	for (v = 0; v < 4; v++)
		bad += exec_codes(s, verdicts[v], &c->codes[v], &c->ncodes[v],
		    errors, path);
	if (config_setting_get_member(s, "accept") == NULL) {
		c->codes[0] = xcalloc(2, sizeof(char *));
		c->codes[0][0] = xstrdup("0");
		c->ncodes[0] = 1;
	}
	return bad;
}

static long long
exec_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Starts the command with a socket on its standard input (*in) and a
 * pipe from its standard output (*out), both non-blocking here.
 */
static int
exec_spawn(const struct exec_conf *c, const struct filter_msg *m, pid_t *pid,
    int *in, int *out)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, def;
	int sv[2] = { -1, -1 }, pv[2] = { -1, -1 }, rc = -1, err;
	struct buf el = BUF_INIT, es = BUF_INIT;
	char **envp;
	size_t n = 0, i;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0 ||
	    pipe2(pv, O_CLOEXEC) != 0) {
		log_warn("filter command: socketpair/pipe");
		goto fail;
	}
	for (char **e = environ; e && *e; e++)
		n++;
	envp = xcalloc(n + 3, sizeof(char *));
	for (i = 0; i < n; i++)
		envp[i] = environ[i];
	buf_printf(&el, "MLSERVER_LIST=%s", m->list);
	buf_printf(&es, "MLSERVER_SENDER=%s", m->sender);
	envp[n] = (char *)buf_cstr(&el);
	envp[n + 1] = (char *)buf_cstr(&es);

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, sv[1], 0);
	posix_spawn_file_actions_adddup2(&fa, pv[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	posix_spawnattr_init(&at);
	sigemptyset(&none);
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	sigaddset(&def, SIGHUP);
	sigaddset(&def, SIGTERM);
	sigaddset(&def, SIGINT);
	sigaddset(&def, SIGUSR1);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &def);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK |
	    POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
	err = posix_spawn(pid, c->argv[0], &fa, &at, c->argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	free(envp);
	buf_free(&el);
	buf_free(&es);
	if (err != 0) {
		errno = err;
		log_warn("filter command %s", c->argv[0]);
		goto fail;
	}
	close(sv[1]);
	close(pv[1]);
	*in = sv[0];
	*out = pv[0];
	fcntl(*in, F_SETFL, fcntl(*in, F_GETFL) | O_NONBLOCK);
	fcntl(*out, F_SETFL, fcntl(*out, F_GETFL) | O_NONBLOCK);
	return 0;
fail:
	for (i = 0; i < 2; i++) {
		if (sv[i] >= 0)
			close(sv[i]);
		if (pv[i] >= 0)
			close(pv[i]);
	}
	return rc;
}

/*
 * Writes the message and reads the output until the command closes its
 * output or the deadline passes.  0, or -1 on timeout.
 */
static int
exec_talk(const struct filter_msg *m, int in, int out, long long deadline,
    struct buf *output)
{
	/* in and out stay open: the caller closes them. */
	size_t off = 0;
	char chunk[1024];
	struct pollfd p[2];
	ssize_t r;
	long long left;

	while (out >= 0) {
		if ((left = deadline - exec_now_ms()) <= 0)
			return -1;
		p[0].fd = in;
		p[0].events = POLLOUT;
		p[1].fd = out;
		p[1].events = POLLIN;
		if (poll(p, 2, (int)left) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (in >= 0 && (p[0].revents & (POLLOUT | POLLERR | POLLHUP))) {
			r = send(in, m->raw.data + off, m->raw.len - off,
			    MSG_NOSIGNAL | MSG_DONTWAIT);
			if (r > 0)
				off += (size_t)r;
			if ((r < 0 && errno != EAGAIN && errno != EINTR) ||
			    off == m->raw.len) {
				shutdown(in, SHUT_WR);
				p[0].fd = -1;
				in = -1;
			}
		}
		if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			r = read(out, chunk, sizeof(chunk));
			if (r > 0 && output->len < EXEC_OUTPUT_MAX)
				buf_add(output, chunk, (size_t)r);
			else if (r == 0 || (r < 0 && errno != EAGAIN &&
			    errno != EINTR))
				out = -1;
		}
	}
	return 0;
}

/* Waits for the child until the deadline; 0 and *status, or -1. */
static int
exec_wait(pid_t pid, long long deadline, int *status)
{
	pid_t r;

	for (;;) {
		r = waitpid(pid, status, WNOHANG);
		if (r == pid)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
		if (exec_now_ms() >= deadline)
			return -1;
		usleep(5000);
	}
}

/* The first line of the output, printable and short, as the reason. */
static void
exec_reason(const struct buf *output, struct buf *reason)
{
	size_t i;

	for (i = 0; i < output->len && i < 200; i++) {
		unsigned char ch = (unsigned char)output->data[i];

		if (ch == '\n' || ch == '\r')
			break;
		buf_addc(reason, ch < 0x20 || ch == 0x7f ? ' ' : ch);
	}
	while (reason->len && reason->data[reason->len - 1] == ' ')
		reason->len--;
	buf_cstr(reason);
}

static enum filter_verdict
exec_run(const struct filter *f, struct filter_msg *m, struct buf *reason)
{
	const struct exec_conf *c = f->priv;
	long long deadline = exec_now_ms() + c->timeout * 1000;
	struct buf output = BUF_INIT;
	int in = -1, out = -1, status = 0, ok, code, v;
	pid_t pid;
	char num[16];

	if (exec_spawn(c, m, &pid, &in, &out) != 0) {
		buf_printf(reason, m->ja ? "フィルターのコマンド %s を実行でき"
		    "ません" : "the filter command %s cannot be run",
		    c->argv[0]);
		return f->action;
	}
	ok = exec_talk(m, in, out, deadline, &output) == 0 &&
	    exec_wait(pid, deadline, &status) == 0;
	close(in);
	close(out);
	if (!ok) {
		kill(-pid, SIGKILL);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		log_warnx("filter command %s: no answer within %llds; killed",
		    c->argv[0], c->timeout);
		buf_printf(reason, m->ja ? "フィルターのコマンドが %lld 秒以内"
		    "に終わりませんでした" : "the filter command did not finish "
		    "within %lld seconds", c->timeout);
		buf_free(&output);
		return f->action;
	}
	if (!WIFEXITED(status)) {
		buf_printf(reason, m->ja ? "フィルターのコマンドが異常終了しました"
		    "（シグナル %d）" : "the filter command died (signal %d)",
		    WIFSIGNALED(status) ? WTERMSIG(status) : 0);
		buf_free(&output);
		return f->action;
	}
	code = WEXITSTATUS(status);
	snprintf(num, sizeof(num), "%d", code);
	exec_reason(&output, reason);
	if (reason->len == 0)
		buf_printf(reason, m->ja ? "フィルターのコマンドの終了コード %d" :
		    "the filter command exited with status %d", code);
	buf_free(&output);
	for (v = 0; v < 4; v++)
		for (size_t i = 0; i < c->ncodes[v]; i++)
			if (strcmp(c->codes[v][i], num) == 0)
				return (enum filter_verdict)v;
	return f->action;
}

static void
exec_free(struct filter *f)
{
	struct exec_conf *c = f->priv;

	if (c == NULL)
		return;
	filter_strings_free(c->argv, c->argc);
	for (int v = 0; v < 4; v++)
		filter_strings_free(c->codes[v], c->ncodes[v]);
	free(c);
}
