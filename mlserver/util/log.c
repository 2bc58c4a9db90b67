/*
 * log - diagnostics to syslog or stderr; see log.h.
 *
 * Each line is written with one call so that lines from several threads
 * never interleave.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "log.h"

static void	log_emit(int, int, const char *, va_list);

static int		 log_foreground = 1;
static int		 log_verbose;
static const char	*log_ident = "mlserver";

void
log_init(const char *ident, int foreground, int verbose)
{
	log_ident = ident;
	log_foreground = foreground;
	log_verbose = verbose;
	if (!foreground)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

static void
log_emit(int pri, int with_errno, const char *fmt, va_list ap)
{
	char msg[4096];
	int saved = errno;
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (with_errno) {
		n = strlen(msg);
		snprintf(msg + n, sizeof(msg) - n, ": %s", strerror(saved));
	}
	if (log_foreground) {
		char stamp[32];
		struct tm tm;
		time_t now = time(NULL);

		localtime_r(&now, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);
		fprintf(stderr, "%s %s: %s\n", stamp, log_ident, msg);
	} else
		syslog(pri, "%s", msg);
	errno = saved;
}

#define LOG_FUNC(name, pri, with_errno)				\
void								\
name(const char *fmt, ...)					\
{								\
	va_list ap;						\
	va_start(ap, fmt);					\
	log_emit(pri, with_errno, fmt, ap);			\
	va_end(ap);						\
}

LOG_FUNC(log_info, LOG_INFO, 0)
LOG_FUNC(log_warn, LOG_WARNING, 1)
LOG_FUNC(log_warnx, LOG_WARNING, 0)

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!log_verbose)
		return;
	va_start(ap, fmt);
	log_emit(LOG_DEBUG, 0, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_CRIT, 1, fmt, ap);
	va_end(ap);
	exit(75);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_CRIT, 0, fmt, ap);
	va_end(ap);
	exit(75);
}
