/* fuzz.h: what every libFuzzer target of tests/fuzz shares.  Targets are built by
 * `make fuzz` (clang, -fsanitize=fuzzer,address,undefined); tests/fuzz/run.sh
 * replays their corpora and fuzzes each one for a bounded time. */
#ifndef CHANRAC_FUZZ_H
#define CHANRAC_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A fatal finding that is not a memory error: a broken invariant of the code
 * under test.  abort() makes libFuzzer keep the input as a crash. */
#define FUZZ_ASSERT(cond)                                                           \
	do {                                                                        \
		if (!(cond)) {                                                      \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__,  \
				__LINE__, #cond);                                   \
			abort();                                                    \
		}                                                                   \
	} while (0)

/* The input as a NUL-terminated string (NUL bytes inside kept: the callee sees
 * a shorter string).  Free with free(). */
static inline char *fuzz_strdup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		abort();
	if (size > 0)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* Logging to stderr above every level the parsers use for bad input: the
 * warnings of millions of bad inputs would only slow the run. */
static inline void fuzz_quiet(void)
{
	log_open("fuzz", 0, LOG_LEVEL_ERR);
}

/* hiredis 0.14 allocates an array's element table before reading it: inputs
 * whose RESP array headers ask for more than 4096 elements are skipped by the
 * targets that hand them to hiredis's own reader, so that a "*2000000000"
 * header is not an out-of-memory finding of hiredis's (Redis never sends the
 * responder more than a COUNT of entries; the snapshot's own reader functions
 * need no such limit). */
static inline int fuzz_resp_arrays_small(const uint8_t *d, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (d[i] != '*')
			continue;
		size_t j = i + 1, v = 0;
		while (j < n && d[j] >= '0' && d[j] <= '9' && v <= 4096)
			v = v * 10 + (size_t)(d[j++] - '0');
		if (v > 4096)
			return 0;
	}
	return 1;
}

#endif
