/*
 * fuzz_ical - iTIP replies as calendar programs mail them back: the
 * input's first line is the envelope sender, the rest the text of the
 * text/calendar part, given to ical_is_reply() and ical_parse_reply()
 * as the RSVP handler does.  libical's parser is not instrumented;
 * coverage guides through ours (the component walk, the attendee match,
 * the PARTSTAT and X-NUM-GUESTS reading).  A reply that parses must say
 * what it claims: METHOD REPLY, a UID, the sender's PARTSTAT.
 */
#include <string.h>

#include "fuzz.h"
#include "ical.h"
#include "log.h"
#include "xmalloc.h"

FUZZ_INIT(ical)
{
	log_init("fuzz_ical", 1, 0);
	return 0;
}

FUZZ_TARGET(ical)
{
	struct ical_reply r;
	const uint8_t *nl;
	char *sender, *text;
	enum ical_reply_error e;

	nl = memchr(data, '\n', size);
	if (nl == NULL || nl - data > 254)
		return 0;
	sender = xstrndup((const char *)data, (size_t)(nl - data));
	text = xstrndup((const char *)nl + 1, size - (size_t)(nl - data) - 1);

	(void)ical_is_reply(text);
	memset(&r, 0x5a, sizeof(r));
	e = ical_parse_reply(text, sender, NULL, &r);
	/* Every string of the result is terminated, whatever happened. */
	FUZZ_CHECK(memchr(r.method, '\0', sizeof(r.method)) != NULL);
	FUZZ_CHECK(memchr(r.uid, '\0', sizeof(r.uid)) != NULL);
	FUZZ_CHECK(memchr(r.organizer, '\0', sizeof(r.organizer)) != NULL);
	FUZZ_CHECK(memchr(r.attendee, '\0', sizeof(r.attendee)) != NULL);
	FUZZ_CHECK(memchr(r.name, '\0', sizeof(r.name)) != NULL);
	FUZZ_CHECK(memchr(r.error, '\0', sizeof(r.error)) != NULL);
	if (e == ICAL_REPLY_OK) {
		FUZZ_CHECK(strcasecmp(r.method, "REPLY") == 0);
		FUZZ_CHECK(r.uid[0] != '\0');
		FUZZ_CHECK(r.partstat != ICAL_PS_NONE);
	}
	(void)ical_partstat_name(r.partstat);
	(void)ical_parse_reply(text, "someone@example.jp", sender, &r);
	free(sender);
	free(text);
	return 0;
}
