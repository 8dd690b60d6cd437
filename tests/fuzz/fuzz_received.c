/* fuzz_received: lib/received.c — one Received value (received_parse), the walk
 * over a chain of them split at newlines (received_origin with trusted relays),
 * and the special-address classification of what was found. */
#include "fuzz.h"
#include "received.h"

#define MAX_HOPS 32

static struct cr_prefix trusted[2];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[128];

	(void)argc;
	(void)argv;
	fuzz_quiet();
	FUZZ_ASSERT(addr_parse_prefix("192.0.2.0/24", &trusted[0], err, sizeof err) == 0);
	FUZZ_ASSERT(addr_parse_prefix("2001:db8::/32", &trusted[1], err, sizeof err) == 0);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s, *p, *nl;
	const char *hops[MAX_HOPS];
	size_t n = 0;
	struct received_hop h;
	struct received_origin o;

	if (size > 65536)
		return 0;
	s = fuzz_strdup(data, size);
	if (received_parse(s, &h) == 0)
		(void)received_special_addr(&h.ip);
	FUZZ_ASSERT(strlen(h.helo) <= RECEIVED_TEXT_MAX && strlen(h.rdns) <= RECEIVED_TEXT_MAX);
	FUZZ_ASSERT(strlen(h.by) <= RECEIVED_TEXT_MAX && strlen(h.date) <= RECEIVED_TEXT_MAX);
	for (p = s; p != NULL && n < MAX_HOPS; p = nl) {
		nl = strchr(p, '\n');
		if (nl != NULL)
			*nl++ = '\0';
		hops[n++] = p;
	}
	if (received_origin(hops, n, trusted, 2, &o)) {
		FUZZ_ASSERT(o.hop < n && o.trusted <= o.hop);
		(void)received_special_addr(&o.ip);
	}
	free(s);
	return 0;
}
