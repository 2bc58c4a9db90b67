/*
 * fuzz_command - command_parse() over a Subject and a body (the input up
 * to its first LF is the Subject, the rest the body), as the request
 * handler reads a command mail's decoded text.  The text is any octets:
 * a body that failed to convert reaches the reader as it is.
 */
#include <string.h>

#include "command.h"
#include "fuzz.h"
#include "log.h"
#include "xmalloc.h"

FUZZ_INIT(command)
{
	log_init("fuzz_command", 1, 0);
	return 0;
}

FUZZ_TARGET(command)
{
	struct command_list cl;
	struct command c;
	const uint8_t *nl;
	char *subject, *body;
	size_t slen;
	int n;

	nl = memchr(data, '\n', size);
	slen = nl ? (size_t)(nl - data) : size;
	subject = xstrndup((const char *)data, slen);
	body = nl ? xstrndup((const char *)nl + 1, size - slen - 1) : NULL;

	n = command_parse(subject, body, &cl);
	FUZZ_CHECK(n >= 0 && (size_t)n == cl.n);
	/* One command may come from the Subject on top of COMMAND_MAX. */
	FUZZ_CHECK(cl.n <= COMMAND_MAX + 1);
	for (size_t i = 0; i < cl.n; i++)
		FUZZ_CHECK(cl.v[i].line && cl.v[i].args && cl.v[i].word);
	command_list_free(&cl);

	if (command_line(subject, &c)) {
		free(c.line);
		free(c.args);
		free(c.word);
	}
	free(subject);
	free(body);
	return 0;
}
