/*
 * fuzz_config - config_load() on an arbitrary file: libconfig's parser
 * (not instrumented) in front of our checks of every setting, which must
 * report problems and never crash or leak, whatever the types, the
 * nesting and the values.  Also config_list() and the role lookups on
 * what loaded.
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "fuzz.h"
#include "log.h"

static char fuzz_config_path[64];

FUZZ_INIT(config)
{
	log_init("fuzz_config", 1, 0);
	snprintf(fuzz_config_path, sizeof(fuzz_config_path),
	    "/tmp/fuzz-config-%ld.conf", (long)getpid());
	return 0;
}

FUZZ_TARGET(config)
{
	struct buf err = BUF_INIT;
	struct config *cf;
	int fd;

	if ((fd = open(fuzz_config_path, O_WRONLY | O_CREAT | O_TRUNC,
	    0600)) == -1)
		abort();
	if (size > 0 && write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
	if (config_load(fuzz_config_path, &cf, &err) == 0) {
		FUZZ_CHECK(cf->domain != NULL && cf->state_dir != NULL);
		for (size_t i = 0; i < cf->nlists; i++) {
			const struct list *l = &cf->lists[i];

			FUZZ_CHECK(config_list(cf, l->name) == l);
			(void)config_is_moderator(l, "a@example.jp");
			(void)config_is_organizer(cf, l, "a@example.jp");
		}
		config_free(cf);
	} else
		FUZZ_CHECK(err.len > 0);
	buf_free(&err);
	unlink(fuzz_config_path);
	return 0;
}
