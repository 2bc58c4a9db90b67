/*
 * deliver_auth - SMTP AUTH towards a provider's submission server,
 * through libESMTP's SASL client (auth-client.h).
 *
 * libESMTP picks the first mechanism the relay offers for which it has
 * a plugin (PLAIN and LOGIN, and CRAM-MD5, are installed with it); both
 * PLAIN and LOGIN send the password itself, which is why config_relay
 * insists on STARTTLS, and they must be allowed explicitly
 * (AUTH_PLUGIN_PLAIN).  The user and password come from the relay
 * settings through the interact callback; nothing here copies or logs
 * the password.
 *
 * libESMTP 1.1 reports no event for AUTH.  When every mechanism failed
 * it goes on to MAIL FROM regardless ("the MTA is required to accept
 * mail for its own domain").  So the outcome is read from the protocol
 * monitor: an "AUTH" command we wrote, then the relay's replies until
 * one that is not 334 (a challenge).  deliver.c asks
 * deliver_auth_failure() once the session went past AUTH, and then
 * takes every refusal of that session as a deferral: a relay that
 * refuses to relay for an unauthenticated client says nothing about the
 * recipients.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/ssl.h>

#include <auth-client.h>	/* before libesmtp.h: smtp_auth_set_context() */
#include <libesmtp.h>

#include "config.h"
#include "deliver_private.h"
#include "log.h"

static pthread_once_t	 auth_once = PTHREAD_ONCE_INIT;

static void	 auth_init(void);
static int	 auth_interact(auth_client_request_t, char **, int, void *);
static void	 auth_last_line(const char *, int, const char **, size_t *);

/* auth_client_init() keeps process-wide state: call it once. */
static void
auth_init(void)
{
	auth_client_init();
}

int
deliver_auth_setup(struct deliver_auth *a, smtp_session_t session,
    const struct relay_conf *relay)
{
	memset(a, 0, sizeof(*a));
	if (relay->user == NULL || relay->password == NULL)
		return 0;
	a->user = relay->user;
	a->password = relay->password;
	pthread_once(&auth_once, auth_init);
	if ((a->actx = auth_create_context()) == NULL) {
		log_warnx("deliver: libESMTP auth_create_context failed");
		return -1;
	}
	if (!auth_set_mechanism_flags(a->actx, AUTH_PLUGIN_PLAIN, 0) ||
	    !auth_set_interact_cb(a->actx, auth_interact, a) ||
	    !smtp_auth_set_context(session, a->actx)) {
		log_warnx("deliver: libESMTP cannot set up AUTH");
		deliver_auth_free(a);
		return -1;
	}
	return 0;
}

void
deliver_auth_free(struct deliver_auth *a)
{
	if (a->actx != NULL)
		auth_destroy_context(a->actx);
	a->actx = NULL;
}

/*
 * libESMTP asks for the fields a mechanism needs.  The strings stay
 * ours: the plugins copy them.
 */
static int
auth_interact(auth_client_request_t req, char **result, int fields,
    void *arg)
{
	struct deliver_auth *a = arg;
	int i;

	for (i = 0; i < fields; i++) {
		if (req[i].flags & AUTH_USER)
			result[i] = (char *)a->user;
		else if (req[i].flags & AUTH_PASS)
			result[i] = (char *)a->password;
		else if (req[i].flags & AUTH_REALM)
			result[i] = (char *)"";
		else
			return 0;	/* something we cannot answer */
	}
	return 1;
}

void
deliver_auth_monitor(struct deliver_auth *a, const char *buf, int len,
    int writing)
{
	const char *line;
	size_t n, i;

	if (a->actx == NULL || len <= 0)
		return;
	if (writing == SMTP_CB_WRITING) {
		/* Only the command word is looked at: the rest is secret. */
		if (len >= 5 && strncasecmp(buf, "AUTH ", 5) == 0)
			a->state = DELIVER_AUTH_SENT;
		return;
	}
	if (writing != SMTP_CB_READING || a->state != DELIVER_AUTH_SENT)
		return;
	auth_last_line(buf, len, &line, &n);
	if (n < 3 || line[0] == '3')
		return;		/* a challenge; the exchange goes on */
	if (line[0] == '2') {
		a->state = DELIVER_AUTH_OK;
		return;
	}
	a->state = DELIVER_AUTH_FAILED;
	if (n >= sizeof(a->reply))
		n = sizeof(a->reply) - 1;
	for (i = 0; i < n; i++)
		a->reply[i] = (unsigned char)line[i] < 0x20 ||
		    line[i] == 0x7f ? '?' : line[i];
	a->reply[n] = '\0';
}

/* The last complete line of a chunk the relay sent, without CRLF. */
static void
auth_last_line(const char *buf, int len, const char **line, size_t *n)
{
	const char *end = buf + len, *start;

	while (end > buf && (end[-1] == '\n' || end[-1] == '\r'))
		end--;
	for (start = end; start > buf && start[-1] != '\n'; start--)
		;
	*line = start;
	*n = (size_t)(end - start);
}

const char *
deliver_auth_failure(const struct deliver_auth *a)
{
	if (a->actx == NULL)
		return NULL;
	switch (a->state) {
	case DELIVER_AUTH_OK:
		return NULL;
	case DELIVER_AUTH_FAILED:
		return a->reply;
	case DELIVER_AUTH_SENT:
		return "no answer to AUTH";
	default:
		return "the relay offered no AUTH mechanism we can use";
	}
}
