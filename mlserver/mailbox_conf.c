/*
 * mailbox_conf - the "mailboxes" setting, checked (see mailbox.h).
 *
 *	mailboxes = (
 *	  { type = "maildir"; path = "/var/mail/lists/Maildir"; },
 *	  { type = "imap"; host; port; tls; ca_file; user; password_file;
 *	    folder = "INBOX"; idle = true; interval = 60;
 *	    after = "delete" | "move"; move_to = "Archive"; address; },
 *	  { type = "pop3"; host; port; tls; ca_file; user; password_file;
 *	    interval; address; }
 *	);
 *
 * Every mistake is reported as FILE:LINE like the rest of config.c.  The
 * password file is only named here, not read: mlserver-receive loads the
 * same configuration as a user that should not be able to read it.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "buf.h"
#include "config.h"
#include "mailbox.h"
#include "route.h"
#include "xmalloc.h"

struct mbc {
	const char	*path;
	struct buf	*errors;
	int		 nerrors;
};

static void	 mbc_error(struct mbc *, const config_setting_t *,
		    const char *, ...) __attribute__((format(printf, 3, 4)));
static char	*mbc_string(struct mbc *, const config_setting_t *,
		    const char *, const char *);
static int	 mbc_int(struct mbc *, const config_setting_t *,
		    const char *, int, int, int);
static int	 mbc_bool(struct mbc *, const config_setting_t *,
		    const char *, int);
static void	 mbc_keys(struct mbc *, const config_setting_t *);
static char	*mbc_abspath(const char *);
static void	 mbc_one(struct mbc *, const config_setting_t *,
		    const struct config *, struct mailbox_conf *);
static void	 mbc_server(struct mbc *, const config_setting_t *,
		    struct mailbox_conf *);
static void	 mbc_address(struct mbc *, const config_setting_t *,
		    const struct config *, struct mailbox_conf *);
static void	 mbc_name(struct mailbox_conf *);

static const char *const mailbox_keys[] = {
	"type", "path", "host", "port", "tls", "ca_file", "user",
	"password_file", "folder", "idle", "interval", "after", "move_to",
	"address", NULL
};

static void
mbc_error(struct mbc *c, const config_setting_t *s, const char *fmt, ...)
{
	va_list ap;
	int line = s ? config_setting_source_line(s) : 0;

	if (line > 0)
		buf_printf(c->errors, "%s:%d: ", c->path, line);
	else
		buf_printf(c->errors, "%s: ", c->path);
	va_start(ap, fmt);
	buf_vprintf(c->errors, fmt, ap);
	va_end(ap);
	buf_addc(c->errors, '\n');
	c->nerrors++;
}

static char *
mbc_string(struct mbc *c, const config_setting_t *g, const char *name,
    const char *def)
{
	config_setting_t *s = config_setting_get_member(g, name);

	if (s == NULL)
		return def ? xstrdup(def) : NULL;
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		mbc_error(c, s, "mailboxes: \"%s\" must be a string", name);
		return def ? xstrdup(def) : NULL;
	}
	return xstrdup(config_setting_get_string(s));
}

static int
mbc_int(struct mbc *c, const config_setting_t *g, const char *name, int def,
    int min, int max)
{
	config_setting_t *s = config_setting_get_member(g, name);
	long long v;

	if (s == NULL)
		return def;
	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64) {
		mbc_error(c, s, "mailboxes: \"%s\" must be a number", name);
		return def;
	}
	v = config_setting_get_int64(s);
	if (v < min || v > max) {
		mbc_error(c, s, "mailboxes: \"%s\" must be between %d and %d",
		    name, min, max);
		return def;
	}
	return (int)v;
}

static int
mbc_bool(struct mbc *c, const config_setting_t *g, const char *name, int def)
{
	config_setting_t *s = config_setting_get_member(g, name);

	if (s == NULL)
		return def;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		mbc_error(c, s, "mailboxes: \"%s\" must be true or false",
		    name);
		return def;
	}
	return config_setting_get_bool(s);
}

/* An unknown key is most often a typo; say so rather than ignore it. */
static void
mbc_keys(struct mbc *c, const config_setting_t *g)
{
	int i, n = config_setting_length(g);

	for (i = 0; i < n; i++) {
		config_setting_t *m = config_setting_get_elem(g, i);
		const char *const *k;

		for (k = mailbox_keys; *k; k++)
			if (strcmp(*k, config_setting_name(m)) == 0)
				break;
		if (*k == NULL)
			mbc_error(c, m, "mailboxes: unknown setting \"%s\"",
			    config_setting_name(m));
	}
}

/* Relative paths are taken from the directory the program started in. */
static char *
mbc_abspath(const char *p)
{
	char cwd[PATH_MAX];
	struct buf b = BUF_INIT;

	if (p[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL)
		return xstrdup(p);
	buf_printf(&b, "%s/%s", cwd, p);
	return buf_release(&b);
}

/* host, port, tls, user and password_file of an IMAP or POP3 box. */
static void
mbc_server(struct mbc *c, const config_setting_t *g, struct mailbox_conf *m)
{
	int imap = m->type == MAILBOX_IMAP;
	char *s;

	if ((m->host = mbc_string(c, g, "host", NULL)) == NULL)
		mbc_error(c, g, "mailboxes: \"host\" is required for %s",
		    imap ? "imap" : "pop3");
	m->tls = mbc_bool(c, g, "tls", 0);
	m->port = mbc_int(c, g, "port", imap ? (m->tls ? 993 : 143) :
	    (m->tls ? 995 : 110), 1, 65535);
	if ((s = mbc_string(c, g, "ca_file", NULL)) != NULL) {
		m->ca_file = mbc_abspath(s);
		free(s);
	}
	if ((m->user = mbc_string(c, g, "user", NULL)) == NULL)
		mbc_error(c, g, "mailboxes: \"user\" is required for %s",
		    imap ? "imap" : "pop3");
	if ((s = mbc_string(c, g, "password_file", NULL)) == NULL)
		mbc_error(c, g, "mailboxes: \"password_file\" is required for "
		    "%s (a file holding the password on its first line)",
		    imap ? "imap" : "pop3");
	else {
		m->password_file = mbc_abspath(s);
		free(s);
	}
}

/* The optional list address: it must be one of ours. */
static void
mbc_address(struct mbc *c, const config_setting_t *g,
    const struct config *cf, struct mailbox_conf *m)
{
	config_setting_t *s = config_setting_get_member(g, "address");
	char canon[ADDR_MAX + 1];
	struct route r;
	char *a;

	if ((a = mbc_string(c, g, "address", NULL)) == NULL)
		return;
	if (addr_canon(a, canon, sizeof(canon)) != 0)
		mbc_error(c, s, "mailboxes: \"%s\" is not a mail address", a);
	else if (cf->domain != NULL && route_lookup(cf, canon, &r) != 0)
		mbc_error(c, s, "mailboxes: \"%s\" is not one of the lists' "
		    "addresses", a);
	else
		m->address = xstrdup(canon);
	free(a);
}

/* The name in logs and in state.db: where the messages come from. */
static void
mbc_name(struct mailbox_conf *m)
{
	struct buf b = BUF_INIT;

	if (m->type == MAILBOX_MAILDIR)
		buf_printf(&b, "maildir:%s", m->path ? m->path : "");
	else
		buf_printf(&b, "%s://%s@%s:%d%s%s",
		    m->type == MAILBOX_IMAP ? (m->tls ? "imaps" : "imap") :
		    (m->tls ? "pop3s" : "pop3"), m->user ? m->user : "",
		    m->host ? m->host : "", m->port,
		    m->type == MAILBOX_IMAP ? "/" : "",
		    m->type == MAILBOX_IMAP ? m->folder : "");
	m->name = buf_release(&b);
}

static void
mbc_one(struct mbc *c, const config_setting_t *g, const struct config *cf,
    struct mailbox_conf *m)
{
	char *type, *s;

	m->line = config_setting_source_line(g);
	mbc_keys(c, g);
	type = mbc_string(c, g, "type", NULL);
	if (type == NULL || (strcmp(type, "maildir") != 0 &&
	    strcmp(type, "imap") != 0 && strcmp(type, "pop3") != 0)) {
		mbc_error(c, g, "mailboxes: \"type\" must be \"maildir\", "
		    "\"imap\" or \"pop3\"");
		free(type);
		return;
	}
	m->type = strcmp(type, "maildir") == 0 ? MAILBOX_MAILDIR :
	    strcmp(type, "imap") == 0 ? MAILBOX_IMAP : MAILBOX_POP3;
	free(type);
	if (m->type == MAILBOX_MAILDIR) {
		if ((s = mbc_string(c, g, "path", NULL)) == NULL)
			mbc_error(c, g, "mailboxes: \"path\" is required for "
			    "maildir");
		else {
			m->path = mbc_abspath(s);
			free(s);
		}
	} else
		mbc_server(c, g, m);
	m->folder = mbc_string(c, g, "folder", "INBOX");
	m->idle = mbc_bool(c, g, "idle", 1);
	m->interval = mbc_int(c, g, "interval",
	    m->type == MAILBOX_MAILDIR ? 10 : 60, 1, 86400);
	s = mbc_string(c, g, "after", "delete");
	if (strcmp(s, "move") == 0 && m->type == MAILBOX_IMAP)
		m->after = MAILBOX_MOVE;
	else if (strcmp(s, "delete") != 0)
		mbc_error(c, config_setting_get_member(g, "after"),
		    "mailboxes: \"after\" must be \"delete\"%s",
		    m->type == MAILBOX_IMAP ? " or \"move\"" :
		    " (\"move\" is for imap)");
	free(s);
	m->move_to = mbc_string(c, g, "move_to", NULL);
	if (m->after == MAILBOX_MOVE && m->move_to == NULL)
		mbc_error(c, g, "mailboxes: after = \"move\" needs "
		    "\"move_to\" (a folder name)");
	mbc_address(c, g, cf, m);
	mbc_name(m);
}

/*
 * Read the "mailboxes" list s (NULL: none) into *out and *n.  Returns the
 * number of mistakes appended to errors.
 */
int
mailbox_conf_load(const config_setting_t *s, const struct config *cf,
    const char *path, struct buf *errors, struct mailbox_conf **out,
    size_t *n)
{
	struct mbc c = { path, errors, 0 };
	int i, len;

	*out = NULL;
	*n = 0;
	if (s == NULL)
		return 0;
	if (!config_setting_is_list(s) && !config_setting_is_array(s)) {
		mbc_error(&c, s, "\"mailboxes\" must be a list ( { ... }, "
		    "... )");
		return c.nerrors;
	}
	len = config_setting_length(s);
	*out = xcalloc((size_t)len + 1, sizeof(**out));
	for (i = 0; i < len; i++) {
		config_setting_t *g = config_setting_get_elem(s, i);

		if (!config_setting_is_group(g)) {
			mbc_error(&c, g, "mailboxes: each must be a group "
			    "{ type = ...; }");
			continue;
		}
		mbc_one(&c, g, cf, &(*out)[(*n)++]);
	}
	/* Two threads on one mailbox would take each message twice. */
	for (size_t a = 0; a < *n; a++)
		for (size_t b = 0; b < a; b++)
			if ((*out)[a].name && (*out)[b].name &&
			    strcmp((*out)[a].name, (*out)[b].name) == 0) {
				buf_printf(errors, "%s:%d: mailboxes: %s is "
				    "listed twice\n", path, (*out)[a].line,
				    (*out)[a].name);
				c.nerrors++;
			}
	return c.nerrors;
}

void
mailbox_conf_free(struct mailbox_conf *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].path);
		free(v[i].host);
		free(v[i].ca_file);
		free(v[i].user);
		free(v[i].password_file);
		free(v[i].folder);
		free(v[i].move_to);
		free(v[i].address);
		free(v[i].name);
	}
	free(v);
}
