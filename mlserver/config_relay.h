/*
 * config_relay - the relay group's settings for a submission server:
 * AUTH credentials, certificate checking, and the provider's limits.
 *
 *	relay = { host = "smtp.example.jp"; port = 587; starttls = true;
 *		  user = "lists@example.jp";
 *		  password_file = "/etc/mlserver/relay.pw";
 *		  ca_file = "/etc/mlserver/provider-ca.pem";	# optional
 *		  tls_verify = true;				# the default
 *		  max_messages_per_hour = 100;
 *		  max_recipients_per_message = 50; };
 *
 * config.c reads host, port, starttls, max_recipients and
 * max_transactions; config_relay_load() then reads the rest into the
 * same struct relay_conf and checks the whole group for what cannot
 * work: an IPv6 literal host (libESMTP 1.1 cannot be given one), a
 * password without STARTTLS, a password file that cannot be read.
 * The password is read here, at every load and reload, so the daemon
 * never needs the file afterwards; it is never logged, and
 * config_relay_free() wipes it.  Relative file names are taken from the
 * directory of the configuration file, so that a reload after the daemon
 * changed to / still finds them.
 */
#ifndef MLS_CONFIG_RELAY_H
#define MLS_CONFIG_RELAY_H

#include <libconfig.h>

struct relay_conf;

/* Called once per mistake, with the setting it concerns (or NULL). */
typedef void config_relay_error_fn(void *arg, const config_setting_t *,
	    const char *msg);

/*
 * Read the submission settings of group (NULL: no relay group) into rc,
 * whose host and max_recipients config.c has already set; conf_path is
 * the configuration file.  Every mistake goes to err.
 */
void	 config_relay_load(const config_setting_t *group, const char *conf_path,
	    struct relay_conf *rc, config_relay_error_fn *err, void *arg);

/* Free what config_relay_load() set, wiping the password first. */
void	 config_relay_free(struct relay_conf *);

/* Log what an administrator must know at start and reload (tls_verify). */
void	 config_relay_warn(const struct relay_conf *);

#endif
