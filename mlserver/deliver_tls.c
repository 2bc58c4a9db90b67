/*
 * deliver_tls - STARTTLS towards the relay, and who the relay must prove
 * to be.
 *
 * Each session gets an SSL_CTX of its own.  Left to itself, libESMTP
 * 1.1.0 makes one process-wide SSL_CTX without taking a reference for the
 * session, and smtp_destroy_session() frees it: the next STARTTLS in the
 * process uses freed memory (seen: a crash on the second TLS session).
 * smtp_starttls_set_ctx() does take a reference, which the session's
 * destruction drops.
 *
 * TLS 1.2 only: over TLS 1.3, libESMTP 1.1.0 stalls after STARTTLS in
 * about one session in five, until the 30 s timeout, while the relay's
 * EHLO reply sits unread (seen: 8 of 40 sessions; 0 of 40 with TLS 1.2).
 * Its poll loop asks SSL_pending() only, and TLS 1.3 servers send
 * session tickets after the handshake; OpenSSL can hold a record that
 * poll(2) no longer reports.
 *
 * Verification.  The handshake itself verifies nothing (SSL_VERIFY_NONE,
 * as libESMTP expects); afterwards libESMTP asks us through events about
 * what OpenSSL found, and quits the session unless we accept.  The CAs
 * are relay.ca_file, or the system's (SSL_CERT_FILE/SSL_CERT_DIR apply).
 * The name is the relay's host as configured.  A DNS name is checked by
 * OpenSSL (RFC 6125), so that its verdict covers chain and name at once;
 * libESMTP then makes a check of its own on DNS entries and the CN.  An
 * IPv4 address passes libESMTP's check when a DNS entry or the CN spells
 * it; otherwise we look for it in the iPAddress entries, which libESMTP
 * 1.1 ignores.  With tls_verify = false every certificate is accepted
 * (config_relay_warn() says so in the log at start).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <openssl/ssl.h>	/* before libesmtp.h: smtp_starttls_set_ctx() */
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <libesmtp.h>

#include "config.h"
#include "deliver_private.h"
#include "log.h"

static int	 tls_host(const char *, char *, size_t, int *);
static int	 tls_set_name(SSL_CTX *, const char *);
static int	 tls_ip_matches(SSL *, const char *);

int
deliver_tls_setup(smtp_session_t session, const struct relay_conf *relay,
    char *why, size_t whylen)
{
	SSL_CTX *tls;
	int ok;

	if ((tls = SSL_CTX_new(TLS_client_method())) == NULL ||
	    SSL_CTX_set_min_proto_version(tls, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(tls, TLS1_2_VERSION) != 1) {
		SSL_CTX_free(tls);
		snprintf(why, whylen, "TLS: cannot set up an SSL context");
		return -1;
	}
	if (!relay->tls_noverify) {
		if (relay->ca_file != NULL)
			ok = SSL_CTX_load_verify_locations(tls, relay->ca_file,
			    NULL);
		else
			ok = SSL_CTX_set_default_verify_paths(tls);
		if (ok != 1) {
			SSL_CTX_free(tls);
			snprintf(why, whylen, "TLS: cannot load the CA "
			    "certificates from %s", relay->ca_file ?
			    relay->ca_file : "the system's store");
			return -1;
		}
		if (tls_set_name(tls, relay->host) != 0) {
			SSL_CTX_free(tls);
			snprintf(why, whylen, "TLS: cannot check certificates "
			    "for the name \"%s\"", relay->host);
			return -1;
		}
	}
	ok = smtp_starttls_set_ctx(session, tls);
	SSL_CTX_free(tls);		/* the session holds its own reference */
	if (!ok) {
		snprintf(why, whylen, "libESMTP smtp_starttls_set_ctx failed");
		return -1;
	}
	return 0;
}

/*
 * The relay's host without Postfix-style brackets, into buf; *is_ip
 * tells an IPv4 address.  -1 when it does not fit.
 */
static int
tls_host(const char *host, char *buf, size_t size, int *is_ip)
{
	struct in_addr in;
	size_t len;

	if (host == NULL)
		return -1;
	len = strlen(host);
	if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
		host++;
		len -= 2;
	}
	if (len == 0 || len >= size)
		return -1;
	memcpy(buf, host, len);
	buf[len] = '\0';
	*is_ip = inet_pton(AF_INET, buf, &in) == 1;
	return 0;
}

/* A DNS name must be in a DNS entry (or the CN), "*." for one label. */
static int
tls_set_name(SSL_CTX *tls, const char *host)
{
	X509_VERIFY_PARAM *vp = SSL_CTX_get0_param(tls);
	char name[256];
	int is_ip;

	if (vp == NULL || tls_host(host, name, sizeof(name), &is_ip) != 0)
		return -1;
	if (is_ip)
		return 0;	/* see tls_ip_matches() */
	X509_VERIFY_PARAM_set_hostflags(vp,
	    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	return X509_VERIFY_PARAM_set1_host(vp, name, 0) == 1 ? 0 : -1;
}

/* Whether the peer's certificate names the IPv4 address host. */
static int
tls_ip_matches(SSL *ssl, const char *host)
{
	char name[256];
	X509 *cert;
	int is_ip, rc;

	if (ssl == NULL || tls_host(host, name, sizeof(name), &is_ip) != 0 ||
	    !is_ip || (cert = SSL_get_peer_certificate(ssl)) == NULL)
		return 0;
	rc = X509_check_ip_asc(cert, name, 0);
	X509_free(cert);
	return rc == 1;
}

int
deliver_tls_event(const struct relay_conf *relay, const char *name,
    int event, va_list ap, char *why, size_t whylen)
{
	long vfy;
	int *ok;
	const char *cn;
	SSL *ssl;

	why[0] = '\0';
	switch (event) {
	case SMTP_EV_INVALID_PEER_CERTIFICATE:
		vfy = va_arg(ap, long);
		ok = va_arg(ap, int *);
		if (relay->tls_noverify)
			*ok = 1;
		else
			snprintf(why, whylen, "TLS: certificate of %s not "
			    "verified: %s", name,
			    X509_verify_cert_error_string(vfy));
		return 1;
	case SMTP_EV_WRONG_PEER_CERTIFICATE:
		ok = va_arg(ap, int *);
		cn = va_arg(ap, const char *);
		ssl = va_arg(ap, SSL *);
		/*
		 * Reached only when the chain verified.  For a DNS name
		 * OpenSSL has then matched it (tls_set_name()); an address
		 * may be in an entry libESMTP does not read.
		 */
		if (relay->tls_noverify || tls_ip_matches(ssl, relay->host) ||
		    (ssl != NULL && SSL_get_verify_result(ssl) == X509_V_OK &&
		    SSL_get0_peername(ssl) != NULL))
			*ok = 1;
		else
			snprintf(why, whylen, "TLS: certificate of %s is for "
			    "\"%s\"", name, cn ? cn : "");
		return 1;
	case SMTP_EV_NO_PEER_CERTIFICATE:
		ok = va_arg(ap, int *);
		if (relay->tls_noverify)
			*ok = 1;
		else
			snprintf(why, whylen, "TLS: %s sent no certificate",
			    name);
		return 1;
	case SMTP_EV_WEAK_CIPHER:
		snprintf(why, whylen, "TLS: %s offers only a %d-bit cipher",
		    name, va_arg(ap, int));
		return 1;
	case SMTP_EV_NO_CLIENT_CERTIFICATE:
	case SMTP_EV_UNUSABLE_CLIENT_CERTIFICATE:
		/* A client certificate under ~/.authenticate/HOST/. */
		snprintf(why, whylen, "TLS: unusable client certificate for "
		    "%s", name);
		return 1;
	default:
		return 0;
	}
}
