/*
 * config_relay - the submission settings of the relay group; see
 * config_relay.h.
 *
 * Kept apart from config.c because these settings carry a secret and
 * files outside the configuration, and because their checks are about
 * what libESMTP and a hosted provider can do, not about the lists.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "config_relay.h"
#include "log.h"
#include "xmalloc.h"

/* A password is one line; anything longer is not a password file. */
#define RELAY_PASSWORD_MAX	1024

struct relay_loader {
	const config_setting_t	*group;
	const char		*conf_path;
	config_relay_error_fn	*err;
	void			*arg;
};

static void	 relay_error(struct relay_loader *, const config_setting_t *,
		    const char *, ...) __attribute__((format(printf, 3, 4)));
static const config_setting_t *relay_member(struct relay_loader *,
		    const char *, int);
static char	*relay_string(struct relay_loader *, const char *);
static int	 relay_int(struct relay_loader *, const char *, int, int,
		    int);
static char	*relay_path(struct relay_loader *, const char *);
static char	*relay_read_password(struct relay_loader *,
		    const config_setting_t *, const char *);
static void	 relay_check_host(struct relay_loader *, const char *);

void
config_relay_load(const config_setting_t *group, const char *conf_path,
    struct relay_conf *rc, config_relay_error_fn *err, void *arg)
{
	struct relay_loader rl = { group, conf_path, err, arg };
	const config_setting_t *s;

	relay_check_host(&rl, rc->host);
	if (group == NULL)
		return;
	rc->user = relay_string(&rl, "user");
	rc->password_file = relay_path(&rl, "password_file");
	rc->ca_file = relay_path(&rl, "ca_file");
	if ((s = relay_member(&rl, "tls_verify", CONFIG_TYPE_BOOL)) != NULL)
		rc->tls_noverify = !config_setting_get_bool(s);
	rc->max_messages_per_hour = relay_int(&rl, "max_messages_per_hour", 0,
	    0, 1000000);
	rc->max_recipients_per_message = relay_int(&rl,
	    "max_recipients_per_message", 0, 1, 1000);
	/*
	 * One transaction is one copy of the message, so the provider's
	 * limit per message caps the recipients per transaction too.
	 */
	if (rc->max_recipients_per_message > 0 &&
	    rc->max_recipients_per_message < rc->max_recipients)
		rc->max_recipients = rc->max_recipients_per_message;

	if (rc->user != NULL && rc->password_file == NULL)
		relay_error(&rl, config_setting_get_member(group, "user"),
		    "\"user\" needs \"password_file\" (a file holding the "
		    "password)");
	if (rc->user == NULL && rc->password_file != NULL)
		relay_error(&rl, config_setting_get_member(group,
		    "password_file"), "\"password_file\" needs \"user\"");
	if (rc->user != NULL && !rc->starttls)
		relay_error(&rl, config_setting_get_member(group, "user"),
		    "a password is sent only over TLS: set starttls = true");
	if (rc->ca_file != NULL && !rc->starttls)
		relay_error(&rl, config_setting_get_member(group, "ca_file"),
		    "\"ca_file\" needs starttls = true");
	if (rc->password_file != NULL)
		rc->password = relay_read_password(&rl,
		    config_setting_get_member(group, "password_file"),
		    rc->password_file);
	if (rc->ca_file != NULL && access(rc->ca_file, R_OK) != 0)
		relay_error(&rl, config_setting_get_member(group, "ca_file"),
		    "cannot read %s: %s", rc->ca_file, strerror(errno));
}

void
config_relay_free(struct relay_conf *rc)
{
	if (rc->password != NULL) {
		explicit_bzero(rc->password, strlen(rc->password));
		free(rc->password);
	}
	free(rc->user);
	free(rc->password_file);
	free(rc->ca_file);
	rc->password = rc->user = rc->password_file = rc->ca_file = NULL;
}

void
config_relay_warn(const struct relay_conf *rc)
{
	if (rc->starttls && rc->tls_noverify)
		log_warnx("relay %s: tls_verify = false: the relay's "
		    "certificate is not checked, so anyone on the way can "
		    "pose as it%s", rc->host ? rc->host : "?",
		    rc->user ? " and read the password" : "");
}

static void
relay_error(struct relay_loader *rl, const config_setting_t *s,
    const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	rl->err(rl->arg, s ? s : rl->group, buf_cstr(&b));
	buf_free(&b);
}

/* The member name of the group when it is there with the right type. */
static const config_setting_t *
relay_member(struct relay_loader *rl, const char *name, int type)
{
	const config_setting_t *s;
	static const char *const what[] = {
		[CONFIG_TYPE_INT] = "a number",
		[CONFIG_TYPE_STRING] = "a string",
		[CONFIG_TYPE_BOOL] = "true or false",
	};

	if ((s = config_setting_get_member(rl->group, name)) == NULL)
		return NULL;
	if (config_setting_type(s) == type || (type == CONFIG_TYPE_INT &&
	    config_setting_type(s) == CONFIG_TYPE_INT64))
		return s;
	relay_error(rl, s, "\"%s\" must be %s", name, what[type]);
	return NULL;
}

static char *
relay_string(struct relay_loader *rl, const char *name)
{
	const config_setting_t *s = relay_member(rl, name,
	    CONFIG_TYPE_STRING);

	if (s == NULL)
		return NULL;
	if (*config_setting_get_string(s) == '\0') {
		relay_error(rl, s, "\"%s\" must not be empty", name);
		return NULL;
	}
	return xstrdup(config_setting_get_string(s));
}

static int
relay_int(struct relay_loader *rl, const char *name, int def, int min,
    int max)
{
	const config_setting_t *s = relay_member(rl, name, CONFIG_TYPE_INT);
	long long v;

	if (s == NULL)
		return def;
	v = config_setting_get_int64(s);
	if (v < min || v > max) {
		relay_error(rl, s, "\"%s\" must be between %d and %d", name,
		    min, max);
		return def;
	}
	return (int)v;
}

/* A file name, relative ones taken from the configuration's directory. */
static char *
relay_path(struct relay_loader *rl, const char *name)
{
	struct buf b = BUF_INIT;
	const char *slash;
	char *p = relay_string(rl, name);

	if (p == NULL || p[0] == '/' ||
	    (slash = strrchr(rl->conf_path, '/')) == NULL)
		return p;
	buf_add(&b, rl->conf_path, (size_t)(slash - rl->conf_path) + 1);
	buf_adds(&b, p);
	free(p);
	return buf_release(&b);
}

/*
 * The first line of path, without its line end.  The buffer is wiped
 * on every way out: the password must not linger in freed memory.
 */
static char *
relay_read_password(struct relay_loader *rl, const config_setting_t *s,
    const char *path)
{
	char buf[RELAY_PASSWORD_MAX + 2];
	char *pw = NULL;
	ssize_t n;
	size_t len;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		relay_error(rl, s, "cannot read %s: %s", path,
		    strerror(errno));
		return NULL;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	if (n == -1)
		relay_error(rl, s, "cannot read %s: %s", path,
		    strerror(errno));
	close(fd);
	if (n == -1)
		return NULL;
	buf[n] = '\0';
	len = strcspn(buf, "\r\n");
	if (len == 0)
		relay_error(rl, s, "%s: the first line (the password) is "
		    "empty", path);
	else if (len > RELAY_PASSWORD_MAX)
		relay_error(rl, s, "%s: the password is longer than %d "
		    "characters", path, RELAY_PASSWORD_MAX);
	else {
		buf[len] = '\0';
		pw = xstrdup(buf);
	}
	explicit_bzero(buf, sizeof(buf));
	return pw;
}

/*
 * libESMTP 1.1 takes the relay as "host:port" and cuts it at the first
 * colon: an IPv6 literal can never reach it (deliver.c).  Say so here,
 * where the administrator looks, rather than at every delivery.
 */
static void
relay_check_host(struct relay_loader *rl, const char *host)
{
	if (host == NULL || strchr(host, ':') == NULL)
		return;
	relay_error(rl, rl->group ? config_setting_get_member(rl->group,
	    "host") : NULL, "relay host \"%s\": IPv6 addresses cannot be "
	    "used with libESMTP 1.1; name the relay by a host name or an "
	    "IPv4 address", host);
}
