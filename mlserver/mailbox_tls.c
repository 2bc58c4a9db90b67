/*
 * mailbox_tls - checking the certificate of an IMAP or POP3 server.
 *
 * libetpan's TLS (GnuTLS on Debian) encrypts but never verifies the
 * server: anyone between us and the provider could collect the password.
 * So after the handshake, and before a password is sent, the chain the
 * server presented is verified here with OpenSSL, against ca_file or
 * the system's CAs, and the certificate must name the configured host
 * (or its IP address).
 */
#include <stdio.h>
#include <string.h>

#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <libetpan/libetpan.h>

#include "config.h"
#include "log.h"
#include "mailbox.h"
#include "mailbox_private.h"

static STACK_OF(X509) *tls_chain(carray *);
static int	 tls_verify(struct mailbox_run *, STACK_OF(X509) *);

/* The server's name for SNI: before the handshake, from libetpan. */
void
mailbox_tls_setup(struct mailstream_ssl_context *ssl, void *arg)
{
	struct mailbox_run *r = arg;

	mailstream_ssl_set_server_name(ssl, r->mc->host);
}

/* The DER certificates libetpan hands over, as OpenSSL objects. */
static STACK_OF(X509) *
tls_chain(carray *ders)
{
	STACK_OF(X509) *chain = sk_X509_new_null();

	if (chain == NULL)
		return NULL;
	for (unsigned int i = 0; i < carray_count(ders); i++) {
		MMAPString *der = carray_get(ders, i);
		const unsigned char *p = (const unsigned char *)der->str;
		X509 *x = d2i_X509(NULL, &p, (long)der->len);

		if (x == NULL || !sk_X509_push(chain, x)) {
			X509_free(x);
			sk_X509_pop_free(chain, X509_free);
			return NULL;
		}
	}
	return chain;
}

/* 0 when the chain is trusted for the host; else -1, logged once. */
static int
tls_verify(struct mailbox_run *r, STACK_OF(X509) *chain)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	X509_VERIFY_PARAM *param;
	const char *why = NULL;
	int ok = 0;

	if (store == NULL || ctx == NULL)
		why = "out of memory";
	else if (r->mc->ca_file != NULL ? X509_STORE_load_file(store,
	    r->mc->ca_file) != 1 : X509_STORE_set_default_paths(store) != 1)
		why = "cannot load the trusted certificates (ca_file)";
	else if (X509_STORE_CTX_init(ctx, store, sk_X509_value(chain, 0),
	    chain) != 1)
		why = "cannot check the certificate";
	else {
		param = X509_STORE_CTX_get0_param(ctx);
		X509_VERIFY_PARAM_set_hostflags(param,
		    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		/* An address is checked against the IP entries. */
		if (X509_VERIFY_PARAM_set1_ip_asc(param, r->mc->host) != 1)
			X509_VERIFY_PARAM_set1_host(param, r->mc->host, 0);
		ok = X509_verify_cert(ctx) == 1;
		if (!ok)
			why = X509_verify_cert_error_string(
			    X509_STORE_CTX_get_error(ctx));
	}
	if (!ok)
		mailbox_fail(r, "certificate of %s not trusted: %s; nothing "
		    "was sent", r->mc->host, why);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return ok ? 0 : -1;
}

/*
 * Verify the server at the other end of stream: 0 trusted, -1 not (or
 * no certificate at all), logged by mailbox_fail().
 */
int
mailbox_tls_check(struct mailbox_run *r, mailstream *stream)
{
	carray *ders = mailstream_get_certificate_chain(stream);
	STACK_OF(X509) *chain;
	int rc;

	if (ders == NULL || carray_count(ders) == 0) {
		mailstream_certificate_chain_free(ders);
		return mailbox_fail(r, "%s presented no certificate",
		    r->mc->host);
	}
	chain = tls_chain(ders);
	mailstream_certificate_chain_free(ders);
	if (chain == NULL)
		return mailbox_fail(r, "cannot read the certificate of %s",
		    r->mc->host);
	rc = tls_verify(r, chain);
	sk_X509_pop_free(chain, X509_free);
	return rc;
}
