/* Tests for store_change_decode (lib/store.c): change-stream entries as Redis sends
 * them (RESP, turned into replies by hiredis's own reader, no server needed) —
 * add/del/load, entries that are not ours, and malformed shapes. */
#include <check.h>
#include <hiredis/hiredis.h>
#include <stdlib.h>
#include <string.h>

#include "listing.h"
#include "log.h"
#include "store.h"

/* Parses one RESP reply from text; the caller frees it. */
static redisReply *resp(const char *text, size_t len)
{
	redisReader *rd = redisReaderCreate();
	void *r = NULL;

	ck_assert_ptr_nonnull(rd);
	ck_assert_int_eq(redisReaderFeed(rd, text, len), REDIS_OK);
	ck_assert_int_eq(redisReaderGetReply(rd, &r), REDIS_OK);
	ck_assert_ptr_nonnull(r);
	redisReaderFree(rd);
	return r;
}
#define RESP(lit) resp(lit, sizeof(lit) - 1)

static int decode(redisReply *r, struct store_change *ch)
{
	int rc = store_change_decode(r, ch);
	freeReplyObject(r);
	return rc;
}

START_TEST(test_add)
{
	struct store_change ch;
	ck_assert_int_eq(decode(RESP("*2\r\n$15\r\n1700000000000-0\r\n*8\r\n"
				     "$2\r\nop\r\n$3\r\nadd\r\n$4\r\nlist\r\n$4\r\nspam\r\n"
				     "$3\r\nkey\r\n$9\r\n192.0.2.7\r\n"
				     "$3\r\nval\r\n$36\r\nv1\t127.0.0.3\t1700000000\t0\tcli\tspam $\r\n"),
				&ch), 0);
	ck_assert_int_eq(ch.op, STORE_CHANGE_ADD);
	ck_assert_str_eq(ch.pos, "1700000000000-0");
	ck_assert_str_eq(ch.list, "spam");
	ck_assert_int_eq(ch.entry.kind, LISTING_ADDR);
	ck_assert_uint_eq(ch.entry.code, 0x7f000003u);
	ck_assert_str_eq(ch.entry.reason, "spam $");
	ck_assert_str_eq(ch.entry.source, "cli");
}
END_TEST

START_TEST(test_del_and_load)
{
	struct store_change ch;
	ck_assert_int_eq(decode(RESP("*2\r\n$3\r\n5-1\r\n*6\r\n$2\r\nop\r\n$3\r\ndel\r\n"
				     "$4\r\nlist\r\n$4\r\nspam\r\n$3\r\nkey\r\n$12\r\n*.example.vn\r\n"),
				&ch), 0);
	ck_assert_int_eq(ch.op, STORE_CHANGE_DEL);
	ck_assert_int_eq(ch.entry.kind, LISTING_WILDCARD);
	ck_assert_str_eq(ch.entry.name, "example.vn");
	ck_assert_int_eq(decode(RESP("*2\r\n$3\r\n6-0\r\n*4\r\n$2\r\nop\r\n$4\r\nload\r\n"
				     "$4\r\nlist\r\n$5\r\nallow\r\n"),
				&ch), 0);
	ck_assert_int_eq(ch.op, STORE_CHANGE_LOAD);
	ck_assert_str_eq(ch.list, "allow");
	ck_assert_str_eq(ch.pos, "6-0");
}
END_TEST

START_TEST(test_not_ours_is_skipped)
{
	struct store_change ch;
	/* Unknown op, missing list, bad key, add without a value, a bad value, an
	 * odd field count, non-string values: -1, with the position still set. */
	ck_assert_int_eq(decode(RESP("*2\r\n$3\r\n7-0\r\n*4\r\n$2\r\nop\r\n$3\r\nset\r\n"
				     "$4\r\nlist\r\n$4\r\nspam\r\n"), &ch), -1);
	ck_assert_str_eq(ch.pos, "7-0");
	ck_assert_int_eq(decode(RESP("*2\r\n$3\r\n7-1\r\n*2\r\n$2\r\nop\r\n$4\r\nload\r\n"), &ch),
			 -1);
	ck_assert_int_eq(decode(RESP("*2\r\n$3\r\n7-2\r\n*6\r\n$2\r\nop\r\n$3\r\ndel\r\n"
				     "$4\r\nlist\r\n$4\r\nspam\r\n$3\r\nkey\r\n$12\r\n192.0.2.0/99\r\n"),
				&ch), -1);
	ck_assert_int_eq(decode(RESP("*2\r\n$3\r\n7-3\r\n*6\r\n$2\r\nop\r\n$3\r\nadd\r\n"
				     "$4\r\nlist\r\n$4\r\nspam\r\n$3\r\nkey\r\n$9\r\n192.0.2.7\r\n"),
				&ch), -1);
	ck_assert_int_eq(decode(RESP("*2\r\n$3\r\n7-4\r\n*8\r\n$2\r\nop\r\n$3\r\nadd\r\n"
				     "$4\r\nlist\r\n$4\r\nspam\r\n$3\r\nkey\r\n$9\r\n192.0.2.7\r\n"
				     "$3\r\nval\r\n$5\r\nv1\tzz\r\n"), &ch), -1);
	ck_assert_int_eq(decode(RESP("*2\r\n$3\r\n7-5\r\n*3\r\n$2\r\nop\r\n$4\r\nload\r\n"
				     "$4\r\nlist\r\n"), &ch), -1);
	ck_assert_int_eq(decode(RESP("*2\r\n$3\r\n7-6\r\n*4\r\n$2\r\nop\r\n:1\r\n"
				     "$4\r\nlist\r\n$-1\r\n"), &ch), -1);
	/* A list name too long for any list is not ours either. */
	ck_assert_int_eq(decode(RESP("*2\r\n$3\r\n7-7\r\n*4\r\n$2\r\nop\r\n$4\r\nload\r\n$4\r\nlist\r\n"
				     "$70\r\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n"),
				&ch), -1);
	/* Fields past the array are never read: no value after the last name. */
	ck_assert_int_eq(decode(RESP("*2\r\n$3\r\n7-8\r\n*1\r\n$2\r\nop\r\n"), &ch), -1);
	ck_assert_int_eq(decode(RESP("*2\r\n$3\r\n7-9\r\n$2\r\nop\r\n"), &ch), -1);
}
END_TEST

START_TEST(test_malformed_entry)
{
	struct store_change ch;
	ck_assert_int_eq(decode(RESP("$3\r\n1-0\r\n"), &ch), -2);
	ck_assert_int_eq(decode(RESP("*0\r\n"), &ch), -2);
	ck_assert_int_eq(decode(RESP("*1\r\n$3\r\n1-0\r\n"), &ch), -2);
	ck_assert_int_eq(decode(RESP("*2\r\n:1\r\n*0\r\n"), &ch), -2);
	ck_assert_int_eq(decode(RESP("*3\r\n$3\r\n1-0\r\n*0\r\n*0\r\n"), &ch), -2);
	ck_assert_int_eq(decode(RESP("*-1\r\n"), &ch), -2);
}
END_TEST

int main(void)
{
	log_open("test_store_decode", 0, LOG_LEVEL_ERR);
	Suite *s = suite_create("store_decode");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_add);
	tcase_add_test(tc, test_del_and_load);
	tcase_add_test(tc, test_not_ours_is_skipped);
	tcase_add_test(tc, test_malformed_entry);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
