/*
 * fuzz.h - one source per fuzz target, built two ways.
 *
 * With clang -fsanitize=fuzzer (make fuzz, tests/fuzz/run.sh) each
 * target is a libFuzzer program: FUZZ_TARGET is LLVMFuzzerTestOneInput
 * and FUZZ_INIT LLVMFuzzerInitialize.  Built with FUZZ_REPLAY (the
 * suite's tests/fuzz_replay, with any compiler) they become ordinary
 * functions fuzz_NAME_one() and fuzz_NAME_init(), so every input kept in
 * tests/fuzz/corpus/NAME/ (the seeds and each input that once crashed)
 * is replayed by `make check`, under the sanitizers and valgrind in CI.
 *
 * A target returns 0; it aborts (FUZZ_CHECK) when a property that must
 * hold does not, which libFuzzer reports as a crash.
 */
#ifndef MLS_FUZZ_H
#define MLS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#ifdef FUZZ_REPLAY
#define FUZZ_TARGET(name) \
	int fuzz_##name##_one(const uint8_t *data, size_t size)
#define FUZZ_INIT(name) \
	int fuzz_##name##_init(void)
#else
#define FUZZ_TARGET(name) \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
#define FUZZ_INIT(name) \
	int LLVMFuzzerInitialize(int *argc __attribute__((unused)), \
	    char ***argv __attribute__((unused)))
#endif

#define FUZZ_CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: property failed: %s\n",		\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

#endif
