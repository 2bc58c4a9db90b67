/*
 * fuzz_message - message_parse() on arbitrary octets, as the processor
 * calls it on whatever the spool holds (spool_read hands over a
 * NUL-terminated copy), followed by what the processor does with the
 * result: the header lookups and the command reader over the decoded
 * Subject and text.
 *
 * libetpan itself is not instrumented, so coverage guides through our
 * side: the field walk, the text-part search, the charset decoding.
 */
#include <string.h>

#include "command.h"
#include "fuzz.h"
#include "log.h"
#include "message.h"
#include "text.h"
#include "xmalloc.h"

FUZZ_INIT(message)
{
	log_init("fuzz_message", 1, 0);
	return 0;
}

FUZZ_TARGET(message)
{
	struct message m;
	struct command_list cl;
	char *raw, *v;
	size_t off;

	raw = xmalloc(size + 1);
	memcpy(raw, data, size);
	raw[size] = '\0';
	off = message_header_end(raw, size);
	FUZZ_CHECK(off <= size);
	if ((v = message_header_get(raw, size, "Subject")) != NULL)
		free(v);
	if (message_parse(raw, size, &m) == 0) {
		FUZZ_CHECK(m.subject != NULL);
		FUZZ_CHECK(m.body_off <= size);
		FUZZ_CHECK(strlen(m.from) <= ADDR_MAX);
		/* What the processor treats as UTF-8 must be UTF-8. */
		FUZZ_CHECK(text_utf8_valid(m.subject, strlen(m.subject)));
		if (m.from_name != NULL)
			FUZZ_CHECK(text_utf8_valid(m.from_name,
			    strlen(m.from_name)));
		command_parse(m.subject, m.text, &cl);
		command_list_free(&cl);
	}
	message_free(&m);
	free(raw);
	return 0;
}
