/*
 * fuzz_addr - addresses: addr_canon() with every output size, the
 * properties the rest of the server relies on (a canonical address is
 * its own canonical form, fits ADDR_MAX, holds only printable ASCII, so
 * it can go into a spool envelope, an SMTP command and a log line),
 * addr_same(), and route_lookup() against a configuration with
 * lists whose names contain '-' and look like suffixes.
 */
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "buf.h"
#include "config.h"
#include "fuzz.h"
#include "log.h"
#include "route.h"
#include "xmalloc.h"

static struct config *fuzz_addr_cf;

static const char fuzz_addr_conf[] =
    "domain = \"lists.example.org\";\n"
    "network = { name = \"n\"; regions = ( { id = \"tokyo\"; name = \"t\";\n"
    "  chapters = ( { id = \"setagaya\"; name = \"s\"; } ); } ); };\n"
    "lists = (\n"
    "  { name = \"setagaya\"; scope = \"chapter:tokyo/setagaya\";\n"
    "    policy = \"open\"; },\n"
    "  { name = \"a-b\"; scope = \"region:tokyo\"; policy = \"open\"; },\n"
    "  { name = \"x-join-y\"; scope = \"network\"; policy = \"open\"; }\n"
    ");\n";

FUZZ_INIT(addr)
{
	struct buf err = BUF_INIT;
	char path[] = "/tmp/fuzz-addr-XXXXXX";
	int fd;

	log_init("fuzz_addr", 1, 0);
	if ((fd = mkstemp(path)) == -1 ||
	    write(fd, fuzz_addr_conf, sizeof(fuzz_addr_conf) - 1) !=
	    (ssize_t)sizeof(fuzz_addr_conf) - 1) {
		perror("fuzz_addr: config");
		abort();
	}
	close(fd);
	if (config_load(path, &fuzz_addr_cf, &err) != 0) {
		fprintf(stderr, "fuzz_addr: %s", buf_cstr(&err));
		abort();
	}
	buf_free(&err);
	unlink(path);
	return 0;
}

FUZZ_TARGET(addr)
{
	char out[ADDR_MAX + 1], again[ADDR_MAX + 1];
	char small[ADDR_MAX + 1];
	struct route r;
	char *in, *half;
	size_t cut;
	int rc;

	in = xstrndup((const char *)data, size);
	rc = addr_canon(in, out, sizeof(out));
	if (rc == 0) {
		FUZZ_CHECK(strlen(out) <= ADDR_MAX);
		for (const char *p = out; *p; p++)
			FUZZ_CHECK((unsigned char)*p >= 0x20 &&
			    (unsigned char)*p < 0x7f);
		FUZZ_CHECK(addr_canon(out, again, sizeof(again)) == 0);
		FUZZ_CHECK(strcmp(out, again) == 0);
		FUZZ_CHECK(addr_valid(out));
		FUZZ_CHECK(addr_same(out, again));
		FUZZ_CHECK(*addr_domain(out) != '\0');
		if (route_lookup(fuzz_addr_cf, out, &r) == 0) {
			FUZZ_CHECK(r.list != NULL);
			FUZZ_CHECK(strlen(r.arg) < ROUTE_ARG_MAX);
			FUZZ_CHECK(strpbrk(r.arg, "/\"'\\ ") == NULL);
		}
	}
	/* Every smaller output buffer: a fit or a refusal, never more. */
	for (size_t sz = 1; sz <= sizeof(small); sz += 37) {
		memset(small, 'Z', sizeof(small));
		if (addr_canon(in, small, sz) == 0) {
			FUZZ_CHECK(rc == 0);
			FUZZ_CHECK(strlen(small) < sz);
		}
		for (size_t i = sz; i < sizeof(small); i++)
			FUZZ_CHECK(small[i] == 'Z');
	}
	/* The processor routes what a spool envelope says, as it says it. */
	if (route_lookup(fuzz_addr_cf, in, &r) == 0)
		FUZZ_CHECK(r.list != NULL);
	cut = size / 2;
	half = xstrndup(in, strlen(in) < cut ? strlen(in) : cut);
	(void)addr_same(in, half);
	(void)addr_same(half, in);
	(void)addr_domain(in);
	free(half);
	free(in);
	return 0;
}
