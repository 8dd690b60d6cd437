/* fuzz_conf: lib/conf.c — conf_load_string on arbitrary text (ini syntax, known
 * keys and their types: integers, durations, booleans, lists, named sections),
 * then every named section and the common lookups are read back. */
#include "conf.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	char *s;
	cr_conf *c;
	static const char *const kinds[] = { "zone", "list", "dnsbl", "template" };

	if (size > 65536)
		return 0;
	s = fuzz_strdup(data, size);
	err[0] = '\0';
	c = conf_load_string(s, "fuzz.conf", err, sizeof err);
	if (c == NULL) {
		FUZZ_ASSERT(err[0] != '\0');
		FUZZ_ASSERT(strlen(err) < sizeof err);
	} else {
		for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
			size_t n = conf_named_count(c, kinds[k]);
			for (size_t i = 0; i < n; i++) {
				FUZZ_ASSERT(conf_named_arg(c, kinds[k], i) != NULL);
				FUZZ_ASSERT(conf_named_section(c, kinds[k], i) != NULL);
			}
		}
		(void)conf_str(c, "rbld", "listen");
		(void)conf_list(c, "lists", "names");
		(void)conf_source(c);
		conf_free(c);
	}
	free(s);
	return 0;
}
