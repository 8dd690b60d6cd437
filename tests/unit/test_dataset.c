/* Tests for lib/dataset.c: every rbldnsd format chanrac reads (ip4set, ip4trie,
 * ip6trie, dnset) and the plain format, with defaults, values, exclusions, ranges,
 * comments and directives; FILE:LINE errors; write-then-parse round trips. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dataset.h"

#define MAX_GOT 64

static char tmpdir[64];
static char path[128];
static char err[512];
static char got[MAX_GOT][600];
static int ngot;

/* Records each entry as "KEY CODE|REASON@LINE". */
static int collect(void *ud, const struct listing_entry *e, unsigned line)
{
	char key[LISTING_KEY_MAX], code[16];

	(void)ud;
	ck_assert_int_lt(ngot, MAX_GOT);
	ck_assert_int_ge(listing_format_key(e, key, sizeof key), 0);
	listing_format_code(e->code, code, sizeof code);
	ck_assert_int_eq(e->added, 0);
	ck_assert_int_eq(e->expires, 0);
	ck_assert_str_eq(e->source, "");
	snprintf(got[ngot++], sizeof got[0], "%s %s|%s@%u", key, code, e->reason, line);
	return 0;
}

static int stop_at_second(void *ud, const struct listing_entry *e, unsigned line)
{
	(void)e;
	(void)line;
	return ++*(int *)ud == 2 ? 7 : 0;
}

static void write_file(const char *name, const char *text, size_t len)
{
	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(text, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

/* Writes text to TMP/t.FORMAT and parses it; returns the parser's result. */
static int parse_text(enum dataset_format fmt, const char *text)
{
	char name[32];

	snprintf(name, sizeof name, "t.%s", dataset_format_name(fmt));
	write_file(name, text, strlen(text));
	ngot = 0;
	err[0] = '\0';
	return dataset_parse_file(path, fmt, collect, NULL, err, sizeof err);
}

/* Asserts text fails with "PATH:" + want. */
static void expect_error(enum dataset_format fmt, const char *text, const char *want)
{
	char full[600];

	ck_assert_int_eq(parse_text(fmt, text), -1);
	snprintf(full, sizeof full, "%s:%s", path, want);
	ck_assert_str_eq(err, full);
}

static void expect_got(int n, const char *const *want)
{
	ck_assert_int_eq(ngot, n);
	for (int i = 0; i < n; i++)
		ck_assert_str_eq(got[i], want[i]);
}

static void setup(void)
{
	strcpy(tmpdir, "/tmp/test_dataset.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(test_format_names)
{
	ck_assert_int_eq(dataset_format_parse("plain"), DATASET_PLAIN);
	ck_assert_int_eq(dataset_format_parse("ip4set"), DATASET_IP4SET);
	ck_assert_int_eq(dataset_format_parse("ip4trie"), DATASET_IP4TRIE);
	ck_assert_int_eq(dataset_format_parse("ip6trie"), DATASET_IP6TRIE);
	ck_assert_int_eq(dataset_format_parse("dnset"), DATASET_DNSET);
	ck_assert_int_eq(dataset_format_parse("ip4tset"), -1);
	ck_assert_int_eq(dataset_format_parse(""), -1);
	ck_assert_int_eq(dataset_format_parse(NULL), -1);
	ck_assert_str_eq(dataset_format_name(DATASET_IP6TRIE), "ip6trie");
	ck_assert_str_eq(dataset_format_name(DATASET_PLAIN), "plain");
}
END_TEST

START_TEST(test_ip4set_short_forms_and_cidrs)
{
	static const char *const want[] = {
		"192.0.2.7 127.0.0.2|@1",       "192.0.2.0/24 127.0.0.2|@2",
		"192.0.0.0/16 127.0.0.2|@3",    "10.0.0.0/8 127.0.0.2|@4",
		"198.51.100.0/24 127.0.0.2|@5", "127.16.0.0/12 127.0.0.2|@6",
		"127.0.0.0/24 127.0.0.2|@7",    "0.0.0.0/0 127.0.0.2|@8",
	};
	ck_assert_int_eq(parse_text(DATASET_IP4SET, "192.0.2.7\n192.0.2\n192.0\n10\n"
				    "198.51.100.0/24\n127.16/12\n127/24\n0/0\n"), 0);
	expect_got(8, want);
}
END_TEST

START_TEST(test_ip4set_default_line_and_values)
{
	/* rbldnsd(8) "Resulting A values and TXT templates" */
	static const char *const want[] = {
		"192.0.2.1 127.0.0.2|@1",
		"192.0.2.2 127.0.0.4|Listed: $ see https://bl.test/lookup?$@3",
		"192.0.2.3 127.0.0.3|Range listed: $@4",
		"192.0.2.4 127.0.0.5|Listed: $ see https://bl.test/lookup?$@5",
		"192.0.2.5 127.0.0.4|only text, with: colons@6",
		"192.0.2.6 127.0.0.4|Listed: $ see https://bl.test/lookup?$@7",
		"192.0.2.7 127.0.0.4|Listed: $ see https://bl.test/lookup?$@8",
		"192.0.2.8 127.0.0.6|@9",
		"192.0.2.9 127.0.1.2|spaced@10",
		"192.0.2.11 127.0.0.9|Listed: $ see https://bl.test/lookup?$@12",
	};
	ck_assert_int_eq(parse_text(DATASET_IP4SET,
				    "192.0.2.1\n"
				    ":4:Listed: $ see https://bl.test/lookup?$\n"
				    "192.0.2.2\n"
				    "192.0.2.3 :127.0.0.3:Range listed: $\n"
				    "192.0.2.4 :5\n"
				    "192.0.2.5 only text, with: colons\n"
				    "192.0.2.6   # comment after the entry\n"
				    "192.0.2.7 ; another\n"
				    "192.0.2.8\t:6:\n"
				    "192.0.2.9 :127.0.1.2 :  spaced  \n"
				    ":9\n"
				    "192.0.2.11\n"), 0);
	expect_got(10, want);
}
END_TEST

START_TEST(test_empty_return_code_rejected)
{
	/* rbldnsd's parse_a_txt: "invalid A RR" */
	expect_error(DATASET_IP4SET, ":4:dflt\n192.0.2.10 ::\n",
		     "2: missing return code after ':' (want :A:TXT)");
	expect_error(DATASET_IP4SET, "::text\n", "1: missing return code after ':' (want :A:TXT)");
	expect_error(DATASET_DNSET, ":\n", "1: missing return code after ':' (want :A:TXT)");
}
END_TEST

START_TEST(test_comments_directives_blank_crlf)
{
	static const char *const want[] = {
		"192.0.2.1 127.0.0.2|@8",
		"192.0.2.2 127.0.0.3|x y@9",
	};
	ck_assert_int_eq(parse_text(DATASET_IP4SET,
				    "# comment\n"
				    "; comment\n"
				    "\n"
				    "   \t \n"
				    "$SOA 1h ns.bl.test hostmaster.bl.test 0 2h 1h 1w 30m\n"
				    "$NS 1d ns1.bl.test\n"
				    "$TTL 35m\n"
				    "  192.0.2.1  \r\n"
				    "192.0.2.2 :3:x\ty\r\n"), 0);
	expect_got(2, want);
}
END_TEST

START_TEST(test_ip4set_exclusions)
{
	static const char *const want[] = {
		"192.0.2.0/24 127.0.0.3|r@2",
		"!192.0.2.7 127.0.0.2|@3",
		"!192.0.2.8 127.0.0.2|@4",
		"!10.0.0.0/8 127.0.0.2|@5",
	};
	/* rbldnsd ignores an exclusion's value */
	ck_assert_int_eq(parse_text(DATASET_IP4SET, ":3:r\n192.0.2.0/24\n!192.0.2.7\n"
				    "! 192.0.2.8 :4:ignored\n!10\n"), 0);
	expect_got(4, want);
}
END_TEST

START_TEST(test_ip4set_ranges_split_into_cidrs)
{
	static const char *const want[] = {
		"192.0.2.4/30 127.0.0.2|@1", "192.0.2.8/31 127.0.0.2|@1",
		"192.0.2.10 127.0.0.2|@1",   "192.0.2.4/30 127.0.0.2|@2",
		"192.0.2.8/31 127.0.0.2|@2", "192.0.2.10 127.0.0.2|@2",
		"127.16.0.0/12 127.0.0.2|@3", "127.16.0.0/12 127.0.0.2|@4",
		"10.0.0.0/23 127.0.0.2|@5",  "127.0.0.0/24 127.0.0.2|@6",
		"198.51.100.5 127.0.0.2|@7", "!203.0.113.0/25 127.0.0.2|@8",
		"0.0.0.0/0 127.0.0.2|@9",
	};
	ck_assert_int_eq(parse_text(DATASET_IP4SET,
				    "192.0.2.4-192.0.2.10\n"
				    "192.0.2.4-10\n"
				    "127.16-31\n"
				    "127.16.0.0-127.31.255.255\n"
				    "10.0.0.0-10.0.1.255\n"
				    "127-127.0.0\n"
				    "198.51.100.5-198.51.100.5\n"
				    "!203.0.113.0-127\n"
				    "0.0.0.0-255.255.255.255\n"), 0);
	expect_got(13, want);
}
END_TEST

START_TEST(test_ip4set_range_suffix_octet)
{
	/* 127.0.0.1-255: .1, .2/31, .4/30 ... .128/25 */
	static const char *const want[] = {
		"127.0.0.1 127.0.0.2|@1",      "127.0.0.2/31 127.0.0.2|@1",
		"127.0.0.4/30 127.0.0.2|@1",   "127.0.0.8/29 127.0.0.2|@1",
		"127.0.0.16/28 127.0.0.2|@1",  "127.0.0.32/27 127.0.0.2|@1",
		"127.0.0.64/26 127.0.0.2|@1",  "127.0.0.128/25 127.0.0.2|@1",
	};
	ck_assert_int_eq(parse_text(DATASET_IP4SET, "127.0.0.1-255\n"), 0);
	expect_got(8, want);
}
END_TEST

START_TEST(test_ip4set_errors_name_file_line)
{
	expect_error(DATASET_IP4SET, "192.0.2.1\n192.0.2.256\n",
		     "2: \"192.0.2.256\": not an IPv4 address or prefix");
	expect_error(DATASET_IP4SET, "192.0.2.1/24\n",
		     "1: 192.0.2.1/24: host bits set (network is 192.0.2.0/24)");
	expect_error(DATASET_IP4SET, "192.0.2.0/33\n",
		     "1: \"192.0.2.0/33\": bad prefix length (must be 0..32)");
	expect_error(DATASET_IP4SET, "192.0.2.0/024\n",
		     "1: \"192.0.2.0/024\": bad prefix length (must be 0..32)");
	expect_error(DATASET_IP4SET, "192.0.2.10-192.0.2.4\n",
		     "1: \"192.0.2.10-192.0.2.4\": range start 192.0.2.10 is after its end "
		     "192.0.2.4");
	expect_error(DATASET_IP4SET, "192.0.2.1-x\n", "1: \"192.0.2.1-x\": not an IPv4 range");
	expect_error(DATASET_IP4SET, "2001:db8::1\n",
		     "1: \"2001:db8::1\": not an IPv4 address or prefix");
	expect_error(DATASET_IP4SET, "example.vn\n",
		     "1: \"example.vn\": not an IPv4 address or prefix");
	expect_error(DATASET_IP4SET, "01.2.3.4\n", "1: \"01.2.3.4\": not an IPv4 address or prefix");
	expect_error(DATASET_IP4SET, "!\n", "1: \"!\" without an entry");
}
END_TEST

START_TEST(test_value_errors)
{
	expect_error(DATASET_IP4SET, "192.0.2.1 :1:x\n",
		     "1: 1: return code 127.0.0.1 is reserved (RFC 5782 2.3: it would mean "
		     "every query is listed)");
	expect_error(DATASET_IP4SET, ":10.0.0.2:x\n",
		     "1: 10.0.0.2: return code must lie in 127.0.0.0/8 (RFC 5782 2.3)");
	expect_error(DATASET_IP4SET, "\n192.0.2.1 :2 junk\n",
		     "2: unrecognised value \":2 junk\" (want :A:TXT)");
	char line[400];
	snprintf(line, sizeof line, "192.0.2.1 :2:%0256d\n", 0);
	expect_error(DATASET_IP4SET, line,
		     "1: text is 256 bytes long (a TXT string holds at most 255)");
	snprintf(line, sizeof line, "192.0.2.1 :2:%0255d\n", 0);
	ck_assert_int_eq(parse_text(DATASET_IP4SET, line), 0);
	expect_error(DATASET_IP4SET, "192.0.2.1 :2:b\xfc" "ch\n",
		     "1: text \"b\xfc" "ch\" is not valid UTF-8");
}
END_TEST

START_TEST(test_line_length_and_nul)
{
	char *big = malloc(5000);

	memset(big, 'x', 4097);
	strcpy(big + 4097, "\n");
	expect_error(DATASET_IP4SET, big, "1: line longer than 4096 bytes");
	/* 4096 bytes is fine as a line (here: a comment) */
	memset(big, '#', 4096);
	strcpy(big + 4096, "\n192.0.2.1\n");
	ck_assert_int_eq(parse_text(DATASET_IP4SET, big), 0);
	ck_assert_int_eq(ngot, 1);
	ck_assert_str_eq(got[0], "192.0.2.1 127.0.0.2|@2");
	free(big);

	write_file("nul.ip4set", "192.0.2.1\n192.0\0.2.2\n", 21);
	ck_assert_int_eq(dataset_parse_file(path, DATASET_IP4SET, collect, NULL, err, sizeof err),
			 -1);
	char want[300];
	snprintf(want, sizeof want, "%s:2: NUL byte in line", path);
	ck_assert_str_eq(err, want);
}
END_TEST

START_TEST(test_last_line_without_newline)
{
	ck_assert_int_eq(parse_text(DATASET_IP4SET, "192.0.2.1\n192.0.2.2 :3:end"), 0);
	ck_assert_int_eq(ngot, 2);
	ck_assert_str_eq(got[1], "192.0.2.2 127.0.0.3|end@2");
	ck_assert_int_eq(parse_text(DATASET_IP4SET, ""), 0);
	ck_assert_int_eq(ngot, 0);
}
END_TEST

START_TEST(test_ip4trie_cidrs_no_ranges)
{
	static const char *const want[] = {
		"192.0.2.0/25 127.0.0.2|@1",
		"192.0.2.128/25 127.0.0.3|b@2",
		"!192.0.2.130 127.0.0.2|@3",
	};
	ck_assert_int_eq(parse_text(DATASET_IP4TRIE, "192.0.2.0/25\n192.0.2.128/25 :3:b\n"
				    "!192.0.2.130\n"), 0);
	expect_got(3, want);
	expect_error(DATASET_IP4TRIE, "192.0.2.1-10\n",
		     "1: \"192.0.2.1-10\": ranges are not allowed in ip4trie (ip4set only)");
}
END_TEST

START_TEST(test_ip6trie_prefixes)
{
	/* the rbldnsd(8) ip6trie example */
	static const char *const want[] = {
		"2001:21ab:c000::/36 127.0.1.2|Listed, see http://example.com/lookup?$@2",
		"2001:21ab:def7:4242::/64 127.0.1.3|This one smells funny@3",
		"2605:6001:42::/52 127.0.1.2|Listed, see http://example.com/lookup?$@4",
		"::1 127.0.1.2|Listed, see http://example.com/lookup?$@5",
		"!2605:6001:42::bead 127.0.0.2|@6",
		"2001:db8::/32 127.0.1.2|Listed, see http://example.com/lookup?$@7",
		"2001:db8:1:2:3:4:5:6 127.0.1.2|Listed, see http://example.com/lookup?$@8",
		"127.0.0.2 127.0.0.2|IPv6 test point@9",
		"::/0 127.0.1.2|Listed, see http://example.com/lookup?$@10",
	};
	ck_assert_int_eq(parse_text(DATASET_IP6TRIE,
				    ":127.0.1.2: Listed, see http://example.com/lookup?$\n"
				    "2001:21ab:c000/36\n"
				    "2001:21ab:def7:4242 :127.0.1.3: This one smells funny\n"
				    "2605:6001:42::/52\n"
				    "::1                   # localhost\n"
				    "!2605:6001:42::bead   # exclusion\n"
				    "2001:DB8::/32\n"
				    "2001:db8:1:2:3:4:5:6\n"
				    "::ffff:7f00:2 :2:IPv6 test point\n"
				    "::/0\n"), 0);
	expect_got(9, want);
}
END_TEST

START_TEST(test_ip6trie_errors)
{
	expect_error(DATASET_IP6TRIE, "2001:db8::1/32\n",
		     "1: 2001:db8::1/32: host bits set (network is 2001:db8::/32)");
	expect_error(DATASET_IP6TRIE, "2001:db8:1/16\n",
		     "1: 2001:db8:1/16: host bits set (network is 2001::/16)");
	expect_error(DATASET_IP6TRIE, "2001:db8::/129\n",
		     "1: \"2001:db8::/129\": bad prefix length (must be 0..128)");
	expect_error(DATASET_IP6TRIE, "2001:db8::/\n",
		     "1: \"2001:db8::/\": bad prefix length (must be 0..128)");
	expect_error(DATASET_IP6TRIE, "2001:db8:::1\n",
		     "1: \"2001:db8:::1\": not an IPv6 address or prefix");
	expect_error(DATASET_IP6TRIE, "2001:db8g::\n",
		     "1: \"2001:db8g::\": not an IPv6 address or prefix");
	expect_error(DATASET_IP6TRIE, "192.0.2.1\n",
		     "1: \"192.0.2.1\": not an IPv6 address or prefix");
	expect_error(DATASET_IP6TRIE, "1:2:3:4:5:6:7:8:9\n",
		     "1: \"1:2:3:4:5:6:7:8:9\": not an IPv6 address or prefix");
	expect_error(DATASET_IP6TRIE, "2001:12345\n",
		     "1: \"2001:12345\": not an IPv6 address or prefix");
}
END_TEST

START_TEST(test_dnset_wildcards_and_exclusions)
{
	static const char *const want[] = {
		"example.vn 127.0.1.2|Domain listed: $@2",
		"*.spam.com.vn 127.0.1.2|Domain listed: $@3",
		"both.vn 127.0.1.2|Domain listed: $@4",
		"*.both.vn 127.0.1.2|Domain listed: $@4",
		"!ok.spam.com.vn 127.0.0.2|@5",
		"!x.vn 127.0.0.2|@6",
		"!*.x.vn 127.0.0.2|@6",
		"!*.y.vn 127.0.0.2|@7",
		"xn--vit-nam-zv4c.vn 127.0.0.5|IDN@8",
		"test 127.0.1.2|Domain listed: $@9",
		"upper.vn 127.0.1.2|Domain listed: $@10",
	};
	ck_assert_int_eq(parse_text(DATASET_DNSET,
				    ":127.0.1.2:Domain listed: $\n"
				    "example.vn\n"
				    "*.spam.com.vn\n"
				    ".both.vn\n"
				    "!ok.spam.com.vn\n"
				    "!.x.vn\n"
				    "!*.y.vn\n"
				    "Việt-Nam.vn :5:IDN\n"
				    "test\n"
				    "UPPER.vn.\n"), 0);
	expect_got(11, want);
}
END_TEST

START_TEST(test_dnset_errors)
{
	expect_error(DATASET_DNSET, "ok.vn\na..b\n", "2: a..b: empty label");
	expect_error(DATASET_DNSET, "-a.vn\n", "1: -a.vn: label \"-a\" starts with '-'");
	expect_error(DATASET_DNSET, "*.\n", "1: empty domain name");
	expect_error(DATASET_DNSET, "a*b.vn\n",
		     "1: a*b.vn: character '*' not allowed in a domain name");
	expect_error(DATASET_DNSET, "192.0.2.1\n",
		     "1: \"192.0.2.1\": an all-numeric name looks like an address, not a domain");
	expect_error(DATASET_DNSET, "b\xfc" "ch.vn\n",
		     "1: b\xfc" "ch.vn: not valid UTF-8 (bad byte 0xfc at offset 1)");
}
END_TEST

START_TEST(test_plain_generator_lines)
{
	/* exactly what bench/gen_dnsbl_data.py writes to plain.txt */
	static const char *const want[] = {
		"1.0.1.77 127.0.0.2|listed@1",
		"1.0.16.0/20 127.0.0.3|range@2",
		"2001:c:5c3a:c3bc::/64 127.0.0.2|listed@3",
		"a0bcd.com.vn 127.0.1.2|listed@4",
		"*.a0c1x.xyz 127.0.1.2|listed@5",
	};
	ck_assert_int_eq(parse_text(DATASET_PLAIN,
				    "ip4 1.0.1.77 127.0.0.2 listed\n"
				    "cidr4 1.0.16.0/20 127.0.0.3 range\n"
				    "cidr6 2001:c:5c3a:c3bc::/64 127.0.0.2 listed\n"
				    "domain a0bcd.com.vn 127.0.1.2 listed\n"
				    "domain *.a0c1x.xyz 127.0.1.2 listed\n"), 0);
	expect_got(5, want);
}
END_TEST

START_TEST(test_plain_exclusions_codes_reasons)
{
	static const char *const want[] = {
		"!192.0.2.7 127.0.0.2|@2",
		"!*.ok.vn 127.0.0.4|whitelisted partner@3",
		"2001:db8::1 127.0.0.5|Quảng cáo rác@4",
		"192.0.2.7 127.0.0.3|@5", /* a /32 given as cidr4 is the host */
		"xn--bcher-kva.example 127.0.0.2|# not a comment@6",
	};
	ck_assert_int_eq(parse_text(DATASET_PLAIN,
				    "# comment\n"
				    "ip4 !192.0.2.7 127.0.0.2\n"
				    "domain !*.ok.vn 4   whitelisted partner  \n"
				    "ip6\t2001:db8::1\t5\tQuảng cáo\trác\n"
				    "cidr4 192.0.2.7/32 3\n"
				    "domain bücher.example 2 # not a comment\n"), 0);
	expect_got(5, want);
}
END_TEST

START_TEST(test_plain_errors)
{
	expect_error(DATASET_PLAIN, "ip4 192.0.2.1 2\nip5 192.0.2.1 2\n",
		     "2: unknown kind \"ip5\" (want ip4, cidr4, ip6, cidr6 or domain)");
	expect_error(DATASET_PLAIN, "ip4 192.0.2.1\n",
		     "1: \"ip4\": expected KIND VALUE CODE [REASON]");
	expect_error(DATASET_PLAIN, "domain\n", "1: \"domain\": expected KIND VALUE CODE [REASON]");
	expect_error(DATASET_PLAIN, "ip4 192.0.2.0/24 2\n",
		     "1: \"192.0.2.0/24\": ip4 takes an address; use cidr4 for a prefix");
	expect_error(DATASET_PLAIN, "ip6 2001:db8::/32 2\n",
		     "1: \"2001:db8::/32\": ip6 takes an address; use cidr6 for a prefix");
	expect_error(DATASET_PLAIN, "ip4 2001:db8::1 2\n",
		     "1: \"2001:db8::1\": not an IPv4 address");
	expect_error(DATASET_PLAIN, "cidr6 192.0.2.0/24 2\n",
		     "1: \"192.0.2.0/24\": not an IPv6 prefix");
	expect_error(DATASET_PLAIN, "cidr4 192.0.2.1/24 2\n",
		     "1: 192.0.2.1/24: host bits set (network is 192.0.2.0/24)");
	expect_error(DATASET_PLAIN, "ip4 192.0.2.1 127.0.0.1 x\n",
		     "1: 127.0.0.1: return code 127.0.0.1 is reserved (RFC 5782 2.3: it would "
		     "mean every query is listed)");
	expect_error(DATASET_PLAIN, "domain a..b 2\n", "1: a..b: empty label");
	expect_error(DATASET_PLAIN, "domain 10.0.0.1 2\n",
		     "1: \"10.0.0.1\": an all-numeric name looks like an address, not a domain");
	expect_error(DATASET_PLAIN, "$TTL 1h\n",
		     "1: unknown kind \"$TTL\" (want ip4, cidr4, ip6, cidr6 or domain)");
}
END_TEST

START_TEST(test_callback_stops_parse)
{
	int calls = 0;

	write_file("stop.ip4set", "192.0.2.1\n192.0.2.2\n192.0.2.3\n", 30);
	ck_assert_int_eq(dataset_parse_file(path, DATASET_IP4SET, stop_at_second, &calls, err,
					    sizeof err), 7);
	ck_assert_int_eq(calls, 2);
	/* also mid-way through a range's CIDRs */
	calls = 0;
	write_file("stop2.ip4set", "192.0.2.4-10\n", 13);
	ck_assert_int_eq(dataset_parse_file(path, DATASET_IP4SET, stop_at_second, &calls, err,
					    sizeof err), 7);
	ck_assert_int_eq(calls, 2);
}
END_TEST

START_TEST(test_missing_file_named)
{
	char want[300];

	snprintf(path, sizeof path, "%s/nosuch", tmpdir);
	ck_assert_int_eq(dataset_parse_file(path, DATASET_PLAIN, collect, NULL, err, sizeof err),
			 -1);
	snprintf(want, sizeof want, "%s: No such file or directory", path);
	ck_assert_str_eq(err, want);
}
END_TEST

START_TEST(test_parse_stream_uses_name)
{
	char text[] = "ip4 192.0.2.1 2\nbad\n";
	FILE *f = fmemopen(text, strlen(text), "r");

	ngot = 0;
	ck_assert_int_eq(dataset_parse_stream(f, "feed", DATASET_PLAIN, collect, NULL, err,
					      sizeof err), -1);
	ck_assert_str_eq(err, "feed:2: unknown kind \"bad\" (want ip4, cidr4, ip6, cidr6 or domain)");
	ck_assert_int_eq(ngot, 1);
	fclose(f);
}
END_TEST

/* A mixed set of entries every test of writing uses. */
static void sample_entries(struct listing_entry *e, int *n)
{
	static const char *const keys[] = {
		"192.0.2.7", "192.0.2.0/24", "!192.0.2.9", "0.0.0.0/0", "2001:db8::/32",
		"2001:db8::1", "!2001:db8:0:1::/64", "example.vn", "*.example.vn", "!ok.example.vn",
		"!*.x.vn", "bücher.com.vn", "test",
	};
	static const char *const reasons[] = {
		"Listed: $ see https://bl.test/lookup?$", "range: a:b:c", "", "everything",
		"IPv6", "", "", "Quảng cáo rác", "subdomains", "", "", "# hash ; semi", "t",
	};
	char kerr[256];

	*n = (int)(sizeof keys / sizeof keys[0]);
	for (int i = 0; i < *n; i++) {
		ck_assert_int_eq(listing_parse_key(keys[i], &e[i], kerr, sizeof kerr), 0);
		e[i].code = 0x7f000002u + (uint32_t)(i % 5) * 0x101u;
		strcpy(e[i].reason, reasons[i]);
	}
}

/* Writes the sample in fmt, parses it back, and checks every entry the format
 * holds came back equal: an rbldnsd exclusion carries no value. */
static void check_roundtrip(enum dataset_format fmt, int want_written)
{
	struct listing_entry e[16];
	char want[16][600];
	int n, written = 0;

	sample_entries(e, &n);
	snprintf(path, sizeof path, "%s/rt.%s", tmpdir, dataset_format_name(fmt));
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	for (int i = 0; i < n; i++) {
		int rc = dataset_write_entry(f, fmt, &e[i]);
		ck_assert_int_ge(rc, 0);
		if (rc == 1)
			continue;
		char key[LISTING_KEY_MAX], code[16];
		listing_format_key(&e[i], key, sizeof key);
		if (e[i].exclude && fmt != DATASET_PLAIN)
			snprintf(want[written], sizeof want[0], "%s 127.0.0.2|@%d", key, written + 1);
		else {
			listing_format_code(e[i].code, code, sizeof code);
			snprintf(want[written], sizeof want[0], "%s %s|%s@%d", key, code,
				 e[i].reason, written + 1);
		}
		written++;
	}
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(written, want_written);
	ngot = 0;
	ck_assert_int_eq(dataset_parse_file(path, fmt, collect, NULL, err, sizeof err), 0);
	ck_assert_int_eq(ngot, written);
	for (int i = 0; i < written; i++)
		ck_assert_str_eq(got[i], want[i]);
}

START_TEST(test_roundtrip_plain_all_kinds)
{
	check_roundtrip(DATASET_PLAIN, 13);
}
END_TEST

START_TEST(test_roundtrip_ip4set)
{
	check_roundtrip(DATASET_IP4SET, 4);
}
END_TEST

START_TEST(test_roundtrip_ip4trie)
{
	check_roundtrip(DATASET_IP4TRIE, 4);
}
END_TEST

START_TEST(test_roundtrip_ip6trie)
{
	check_roundtrip(DATASET_IP6TRIE, 3);
}
END_TEST

START_TEST(test_roundtrip_dnset)
{
	check_roundtrip(DATASET_DNSET, 6);
}
END_TEST

START_TEST(test_write_exact_lines)
{
	struct listing_entry e;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	char kerr[256];

	listing_parse_key("192.0.2.0/24", &e, kerr, sizeof kerr);
	e.code = 0x7f000003u;
	strcpy(e.reason, "Range\tlisted: $");
	ck_assert_int_eq(dataset_write_entry(f, DATASET_IP4SET, &e), 0);
	ck_assert_int_eq(dataset_write_entry(f, DATASET_PLAIN, &e), 0);
	ck_assert_int_eq(dataset_write_entry(f, DATASET_IP6TRIE, &e), 1);
	ck_assert_int_eq(dataset_write_entry(f, DATASET_DNSET, &e), 1);
	listing_parse_key("!*.example.vn", &e, kerr, sizeof kerr);
	ck_assert_int_eq(dataset_write_entry(f, DATASET_DNSET, &e), 0);
	ck_assert_int_eq(dataset_write_entry(f, DATASET_PLAIN, &e), 0);
	ck_assert_int_eq(dataset_write_entry(f, DATASET_IP4TRIE, &e), 1);
	listing_parse_key("2001:db8::1", &e, kerr, sizeof kerr);
	ck_assert_int_eq(dataset_write_entry(f, DATASET_IP6TRIE, &e), 0);
	ck_assert_int_eq(dataset_write_entry(f, DATASET_PLAIN, &e), 0);
	ck_assert_int_eq(dataset_write_entry(f, DATASET_IP4SET, &e), 1);
	fclose(f);
	ck_assert_str_eq(buf, "192.0.2.0/24 :127.0.0.3:Range listed: $\n"
			      "cidr4 192.0.2.0/24 127.0.0.3 Range listed: $\n"
			      "!*.example.vn\n"
			      "domain !*.example.vn 127.0.0.2\n"
			      "2001:db8::1 :127.0.0.2:\n"
			      "ip6 2001:db8::1 127.0.0.2\n");
	free(buf);
}
END_TEST

Suite *dataset_suite(void);
Suite *dataset_suite(void)
{
	Suite *s = suite_create("dataset");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_format_names);
	tcase_add_test(tc, test_ip4set_short_forms_and_cidrs);
	tcase_add_test(tc, test_ip4set_default_line_and_values);
	tcase_add_test(tc, test_empty_return_code_rejected);
	tcase_add_test(tc, test_comments_directives_blank_crlf);
	tcase_add_test(tc, test_ip4set_exclusions);
	tcase_add_test(tc, test_ip4set_ranges_split_into_cidrs);
	tcase_add_test(tc, test_ip4set_range_suffix_octet);
	tcase_add_test(tc, test_ip4set_errors_name_file_line);
	tcase_add_test(tc, test_value_errors);
	tcase_add_test(tc, test_line_length_and_nul);
	tcase_add_test(tc, test_last_line_without_newline);
	tcase_add_test(tc, test_ip4trie_cidrs_no_ranges);
	tcase_add_test(tc, test_ip6trie_prefixes);
	tcase_add_test(tc, test_ip6trie_errors);
	tcase_add_test(tc, test_dnset_wildcards_and_exclusions);
	tcase_add_test(tc, test_dnset_errors);
	tcase_add_test(tc, test_plain_generator_lines);
	tcase_add_test(tc, test_plain_exclusions_codes_reasons);
	tcase_add_test(tc, test_plain_errors);
	tcase_add_test(tc, test_callback_stops_parse);
	tcase_add_test(tc, test_missing_file_named);
	tcase_add_test(tc, test_parse_stream_uses_name);
	tcase_add_test(tc, test_roundtrip_plain_all_kinds);
	tcase_add_test(tc, test_roundtrip_ip4set);
	tcase_add_test(tc, test_roundtrip_ip4trie);
	tcase_add_test(tc, test_roundtrip_ip6trie);
	tcase_add_test(tc, test_roundtrip_dnset);
	tcase_add_test(tc, test_write_exact_lines);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(dataset_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
