/*
 * log - diagnostics to syslog (facility mail) or, in the foreground, to
 * stderr.
 *
 * log_warn() appends strerror(errno); log_warnx() does not (OpenSMTPD's
 * convention).  fatal()/fatalx() log and exit; they are for start-up and
 * for "cannot happen", never for bad input.
 */
#ifndef MLS_LOG_H
#define MLS_LOG_H

void	log_init(const char *ident, int foreground, int verbose);
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif
