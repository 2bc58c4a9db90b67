/*
 * ical_dump - read an iCalendar object with libical and print what it
 * holds, for the integration tests (test_events.py), so that the
 * calendar parts we send are checked as a calendar client's library
 * reads them, not as our own code or a test's parser does.
 *
 * Input: one VCALENDAR on standard input.  Output: one JSON object,
 *   {"method": "PUBLISH", "events": [[[NAME, {PARAM: value}, value],
 *   ...], ...]}
 * with the properties of each VEVENT in order; TEXT values unescaped.
 * Exit 1, with the reason on standard error, when libical cannot parse
 * it or reports an error inside it (X-LIC-ERROR), or when it violates
 * the RFC 5546 restrictions of its METHOD.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libical/ical.h>

static void	 dump_string(const char *);
static void	 dump_property(icalproperty *);
static void	 dump_event(icalcomponent *);
static int	 count_errors(icalcomponent *);
static char	*read_all(FILE *);

int
main(void)
{
	char *text = read_all(stdin);
	icalcomponent *cal, *ev;
	icalproperty *method;
	int first = 1;

	cal = icalparser_parse_string(text);
	if (cal == NULL || icalcomponent_isa(cal) != ICAL_VCALENDAR_COMPONENT) {
		fprintf(stderr, "ical_dump: not a VCALENDAR: %s\n",
		    icalerror_perror());
		return 1;
	}
	if (!icalrestriction_check(cal) || count_errors(cal) > 0) {
		fprintf(stderr, "ical_dump: libical reports errors:\n%s",
		    icalcomponent_as_ical_string(cal));
		return 1;
	}
	fputs("{\"method\": ", stdout);
	method = icalcomponent_get_first_property(cal, ICAL_METHOD_PROPERTY);
	if (method)
		dump_string(icalproperty_get_value_as_string(method));
	else
		fputs("null", stdout);
	fputs(", \"events\": [", stdout);
	for (ev = icalcomponent_get_first_component(cal,
	    ICAL_VEVENT_COMPONENT); ev; ev = icalcomponent_get_next_component(
	    cal, ICAL_VEVENT_COMPONENT)) {
		fputs(first ? "" : ", ", stdout);
		dump_event(ev);
		first = 0;
	}
	fputs("]}\n", stdout);
	icalcomponent_free(cal);
	free(text);
	return 0;
}

/* X-LIC-ERROR properties libical adds where it could not read a line. */
static int
count_errors(icalcomponent *c)
{
	icalcomponent *sub;
	int n = icalcomponent_count_properties(c, ICAL_XLICERROR_PROPERTY);

	for (sub = icalcomponent_get_first_component(c, ICAL_ANY_COMPONENT);
	    sub; sub = icalcomponent_get_next_component(c, ICAL_ANY_COMPONENT))
		n += count_errors(sub);
	return n;
}

static void
dump_event(icalcomponent *ev)
{
	icalproperty *p;
	int first = 1;

	fputs("[", stdout);
	for (p = icalcomponent_get_first_property(ev, ICAL_ANY_PROPERTY); p;
	    p = icalcomponent_get_next_property(ev, ICAL_ANY_PROPERTY)) {
		fputs(first ? "" : ", ", stdout);
		dump_property(p);
		first = 0;
	}
	fputs("]", stdout);
}

static void
dump_property(icalproperty *p)
{
	icalvalue *v = icalproperty_get_value(p);
	icalparameter *par;
	int first = 1;

	fputs("[", stdout);
	dump_string(icalproperty_get_property_name(p));
	fputs(", {", stdout);
	for (par = icalproperty_get_first_parameter(p, ICAL_ANY_PARAMETER);
	    par; par = icalproperty_get_next_parameter(p,
	    ICAL_ANY_PARAMETER)) {
		char *s = icalparameter_as_ical_string_r(par);
		char *eq = s ? strchr(s, '=') : NULL;
		const char *val;

		if (eq == NULL) {
			free(s);
			continue;
		}
		*eq = '\0';
		val = eq + 1;
		if (*val == '"' && strlen(val) >= 2) {
			val++;
			eq[strlen(eq + 1)] = '\0';	/* the closing quote */
		}
		fputs(first ? "" : ", ", stdout);
		dump_string(s);
		fputs(": ", stdout);
		dump_string(val);
		first = 0;
		free(s);
	}
	fputs("}, ", stdout);
	if (v && icalvalue_isa(v) == ICAL_TEXT_VALUE)
		dump_string(icalvalue_get_text(v));
	else
		dump_string(icalproperty_get_value_as_string(p));
	fputs("]", stdout);
}

/* A JSON string; UTF-8 passes through, control characters escaped. */
static void
dump_string(const char *s)
{
	putchar('"');
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c == '\n')
			fputs("\\n", stdout);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static char *
read_all(FILE *fp)
{
	size_t len = 0, size = 4096, n;
	char *buf = malloc(size);

	if (buf == NULL)
		exit(2);
	while ((n = fread(buf + len, 1, size - len - 1, fp)) > 0) {
		len += n;
		if (size - len < 2) {
			size *= 2;
			if ((buf = realloc(buf, size)) == NULL)
				exit(2);
		}
	}
	buf[len] = '\0';
	return buf;
}
