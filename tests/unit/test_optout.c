/* Tests for lib/optout.c (and lib/kv.c under it) against a private redis-server:
 * normalising recipients and advertisers, add / duplicate / confirm / del / list,
 * the per-recipient check (advertiser vs all, the earlier wins), key parts, and a
 * dead server (unavailable, then the connect back-off). */
#include <check.h>
#include <stdarg.h>

#include "kv.h"
#include "optout.h"
#include "redis_helper.h"
#include "util.h"

static cr_kv *kv_of(void)
{
	char err[256];
	cr_conf *c = th_conf(NULL);
	cr_kv *kv;

	ck_assert_ptr_nonnull(c);
	kv = kv_open(c, 500, err, sizeof err);
	ck_assert_msg(kv != NULL, "%s", err);
	conf_free(c);
	return kv;
}

static void setup(void)
{
	th_flush();
}

static long long add(cr_kv *kv, const char *rcpt, const char *adv, const char *channel,
		     int64_t at, int expect)
{
	struct optout o = { 0 };
	char err[256];

	util_strlcpy(o.rcpt, rcpt, sizeof o.rcpt);
	util_strlcpy(o.advertiser, adv, sizeof o.advertiser);
	util_strlcpy(o.channel, channel, sizeof o.channel);
	util_strlcpy(o.source, "test\tsource", sizeof o.source);
	o.at = at;
	o.added = at + 1;
	ck_assert_int_eq(optout_add(kv, &o, err, sizeof err), expect);
	return o.id;
}

START_TEST(test_key_part_lowercases_and_refuses)
{
	char out[32];
	ck_assert_int_eq(kv_key_part("An@Example.VN", out, sizeof out), 0);
	ck_assert_str_eq(out, "an@example.vn");
	ck_assert_int_eq(kv_key_part("user:with:colons", out, sizeof out), 0);
	ck_assert_int_eq(kv_key_part("", out, sizeof out), -1);
	ck_assert_int_eq(kv_key_part("a b", out, sizeof out), -1);
	ck_assert_int_eq(kv_key_part("a{b}", out, sizeof out), -1);
	ck_assert_int_eq(kv_key_part("a\nb", out, sizeof out), -1);
	ck_assert_int_eq(kv_key_part("0123456789012345678901234567890123456789", out, sizeof out), -1);
}
END_TEST

START_TEST(test_normalise_rcpt_and_advertiser)
{
	char out[400], err[256];
	ck_assert_int_eq(optout_normalise_rcpt("<An.Nguyen@Example.VN>", out, sizeof out, err,
					       sizeof err), 0);
	ck_assert_str_eq(out, "an.nguyen@example.vn");
	ck_assert_int_eq(optout_normalise_rcpt("no-at-sign", out, sizeof out, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "recipient 'no-at-sign': not an email address"));
	ck_assert_int_eq(optout_normalise_rcpt("a@", out, sizeof out, err, sizeof err), -1);
	ck_assert_int_eq(optout_normalise_rcpt("a@bad domain", out, sizeof out, err, sizeof err), -1);
	ck_assert_int_eq(optout_normalise_rcpt("a b@example.vn", out, sizeof out, err, sizeof err), -1);
	ck_assert_int_eq(optout_normalise_advertiser("Mail.Shop.Example.COM.VN", out, sizeof out, err,
						     sizeof err), 0);
	ck_assert_str_eq(out, "example.com.vn");
	ck_assert_int_eq(optout_normalise_advertiser("*", out, sizeof out, err, sizeof err), 0);
	ck_assert_str_eq(out, "*");
	ck_assert_int_eq(optout_normalise_advertiser("localhost", out, sizeof out, err, sizeof err), -1);
	ck_assert_int_eq(optout_normalise_advertiser("bad_dom ain", out, sizeof out, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "advertiser 'bad_dom ain'"));
	ck_assert(optout_valid_channel("web") && optout_valid_channel("email") &&
		  optout_valid_channel("phone"));
	ck_assert(!optout_valid_channel("fax") && !optout_valid_channel(NULL) &&
		  !optout_valid_channel("Web"));
}
END_TEST

START_TEST(test_add_get_duplicate_confirm_del)
{
	cr_kv *kv = kv_of();
	struct optout o;
	char err[256];
	long long id = add(kv, "an@example.vn", "example.vn", "web", 1000, OPTOUT_OK);

	ck_assert_int_eq(id, 1);
	ck_assert_int_eq(optout_get(kv, 1, &o, err, sizeof err), OPTOUT_OK);
	ck_assert_str_eq(o.rcpt, "an@example.vn");
	ck_assert_str_eq(o.advertiser, "example.vn");
	ck_assert_str_eq(o.channel, "web");
	ck_assert_str_eq(o.source, "test source"); /* control characters cleaned */
	ck_assert_int_eq(o.at, 1000);
	ck_assert_int_eq(o.added, 1001);
	ck_assert_int_eq(o.confirmed, 0);
	/* the same recipient and advertiser again: the existing request */
	ck_assert_int_eq(add(kv, "an@example.vn", "example.vn", "email", 2000, OPTOUT_EXISTS), 1);
	ck_assert_int_eq(add(kv, "an@example.vn", "*", "phone", 3000, OPTOUT_OK), 2);
	ck_assert_int_eq(optout_confirm(kv, 1, 1500, err, sizeof err), OPTOUT_OK);
	ck_assert_int_eq(optout_get(kv, 1, &o, err, sizeof err), OPTOUT_OK);
	ck_assert_int_eq(o.confirmed, 1500);
	ck_assert_int_eq(optout_confirm(kv, 9, 1500, err, sizeof err), OPTOUT_NOTFOUND);
	ck_assert_int_eq(optout_del(kv, 1, err, sizeof err), OPTOUT_OK);
	ck_assert_int_eq(optout_del(kv, 1, err, sizeof err), OPTOUT_NOTFOUND);
	ck_assert_int_eq(optout_get(kv, 1, &o, err, sizeof err), OPTOUT_NOTFOUND);
	ck_assert_int_eq(th_int("HEXISTS cr:{oo}:rcpt:an@example.vn %s", "example.vn"), 0);
	ck_assert_int_eq(th_int("HEXISTS cr:{oo}:rcpt:an@example.vn %s", "*"), 1);
	ck_assert_int_eq(th_int("ZCARD %s", "cr:{oo}:all"), 1);
	kv_close(kv);
}
END_TEST

struct listed {
	char text[512];
	int n;
};

static int collect(void *ud, const struct optout *o)
{
	struct listed *l = ud;
	size_t u = strlen(l->text);
	snprintf(l->text + u, sizeof l->text - u, "%lld:%s:%s;", o->id, o->rcpt, o->advertiser);
	l->n++;
	return 0;
}

START_TEST(test_list_by_time_and_recipient)
{
	cr_kv *kv = kv_of();
	struct listed l = { "", 0 };
	char err[256];

	add(kv, "b@example.vn", "shop.vn", "web", 3000, OPTOUT_OK);
	add(kv, "a@example.vn", "*", "email", 1000, OPTOUT_OK);
	add(kv, "b@example.vn", "other.vn", "phone", 2000, OPTOUT_OK);
	ck_assert_int_eq(optout_list(kv, NULL, collect, &l, err, sizeof err), 3);
	ck_assert_str_eq(l.text, "2:a@example.vn:*;3:b@example.vn:other.vn;1:b@example.vn:shop.vn;");
	memset(&l, 0, sizeof l);
	ck_assert_int_eq(optout_list(kv, "b@example.vn", collect, &l, err, sizeof err), 2);
	ck_assert_str_eq(l.text, "3:b@example.vn:other.vn;1:b@example.vn:shop.vn;");
	kv_close(kv);
}
END_TEST

START_TEST(test_check_per_recipient)
{
	cr_kv *kv = kv_of();
	struct optout_hit h[4];
	const char *rcpts[4] = { "a@example.vn", "B@Example.VN", "c@example.vn", "bad rcpt" };
	char err[256];

	add(kv, "a@example.vn", "shop.vn", "web", 5000, OPTOUT_OK);
	add(kv, "b@example.vn", "shop.vn", "web", 5000, OPTOUT_OK);
	add(kv, "b@example.vn", "*", "email", 4000, OPTOUT_OK);
	ck_assert_int_eq(optout_check(kv, "shop.vn", rcpts, 4, h, err, sizeof err), 0);
	ck_assert_int_eq(h[0].id, 1);
	ck_assert_int_eq(h[0].at, 5000);
	ck_assert_int_eq(h[0].all, 0);
	/* the earlier of the advertiser's and the "all" request */
	ck_assert_int_eq(h[1].id, 3);
	ck_assert_int_eq(h[1].at, 4000);
	ck_assert_int_eq(h[1].all, 1);
	ck_assert_int_eq(h[2].id, 0);
	ck_assert_int_eq(h[3].id, 0);
	ck_assert_int_eq(optout_check(kv, "other.vn", rcpts, 4, h, err, sizeof err), 0);
	ck_assert_int_eq(h[0].id, 0);
	ck_assert_int_eq(h[1].id, 3);
	kv_close(kv);
}
END_TEST

START_TEST(test_check_recipient_extension)
{
	cr_kv *kv = kv_of();
	struct optout_hit h[3];
	const char *rcpts[3] = { "an+shop@example.vn", "+x@example.vn", "binh+a+b@example.vn" };
	char err[256];

	add(kv, "an@example.vn", "shop.vn", "web", 5000, OPTOUT_OK);
	add(kv, "an+shop@example.vn", "*", "web", 6000, OPTOUT_OK);
	add(kv, "binh@example.vn", "*", "email", 7000, OPTOUT_OK);
	ck_assert_int_eq(optout_check_delim(kv, "shop.vn", rcpts, 3, '+', h, err, sizeof err), 0);
	/* the base address's request is earlier than the extension's own */
	ck_assert_int_eq(h[0].id, 1);
	ck_assert_int_eq(h[0].all, 0);
	/* an empty base is not looked up */
	ck_assert_int_eq(h[1].id, 0);
	ck_assert_int_eq(h[2].id, 3);
	ck_assert_int_eq(h[2].all, 1);
	/* off: as given only */
	ck_assert_int_eq(optout_check_delim(kv, "shop.vn", rcpts, 3, '\0', h, err, sizeof err), 0);
	ck_assert_int_eq(h[0].id, 2);
	ck_assert_int_eq(h[2].id, 0);
	kv_close(kv);
}
END_TEST

START_TEST(test_pooled_connection_killed_is_replaced)
{
	cr_kv *kv = kv_of();
	struct optout_hit h[1];
	const char *rcpts[1] = { "a@example.vn" };
	char err[256];
	redisReply *r;

	add(kv, "a@example.vn", "*", "web", 1000, OPTOUT_OK);
	/* the server drops every client connection (a restart, a timeout) */
	r = th_raw("CLIENT KILL TYPE normal");
	ck_assert_ptr_nonnull(r);
	ck_assert_int_ge(r->integer, 1);
	freeReplyObject(r);
	ck_assert_int_eq(optout_check(kv, "shop.vn", rcpts, 1, h, err, sizeof err), 0);
	ck_assert_int_eq(h[0].id, 1);
	kv_close(kv);
}
END_TEST

START_TEST(test_hung_server_times_out_then_backoff)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof sa;
	struct optout_hit h[1];
	const char *rcpts[1] = { "a@example.vn" };
	char err[256], text[200];
	int64_t t0, took;
	cr_conf *c;
	cr_kv *kv;
	/* listens but never answers: connect succeeds, every command times out */
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	ck_assert_int_eq(listen(fd, 8), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	snprintf(text, sizeof text, "[redis]\nhost = 127.0.0.1\nport = %d\n", ntohs(sa.sin_port));
	c = conf_load_string(text, "t.conf", err, sizeof err);
	ck_assert_ptr_nonnull(c);
	kv = kv_open(c, 200, err, sizeof err);
	ck_assert_ptr_nonnull(kv);
	t0 = util_mono_ms();
	ck_assert_int_eq(optout_check(kv, "shop.vn", rcpts, 1, h, err, sizeof err),
			 OPTOUT_EUNAVAIL);
	took = util_mono_ms() - t0;
	ck_assert_msg(took >= 150 && took < 2000, "took %lld ms", (long long)took);
	ck_assert_msg(strstr(err, "timed out") != NULL, "%s", err);
	/* the next call does not wait again */
	t0 = util_mono_ms();
	ck_assert_int_eq(optout_check(kv, "shop.vn", rcpts, 1, h, err, sizeof err),
			 OPTOUT_EUNAVAIL);
	ck_assert_int_lt(util_mono_ms() - t0, 100);
	ck_assert_ptr_nonnull(strstr(err, "unavailable (retrying shortly)"));
	kv_close(kv);
	conf_free(c);
	close(fd);
}
END_TEST

START_TEST(test_dead_server_unavailable_then_backoff)
{
	char err[256], text[200];
	struct optout_hit h[1];
	const char *rcpts[1] = { "a@example.vn" };
	cr_conf *c;
	cr_kv *kv;
	int64_t t0;

	snprintf(text, sizeof text, "[redis]\nhost = 127.0.0.1\nport = %d\n", th_free_port());
	c = conf_load_string(text, "t.conf", err, sizeof err);
	ck_assert_ptr_nonnull(c);
	kv = kv_open(c, 200, err, sizeof err);
	ck_assert_ptr_nonnull(kv);
	ck_assert_int_eq(optout_check(kv, "shop.vn", rcpts, 1, h, err, sizeof err),
			 OPTOUT_EUNAVAIL);
	ck_assert_ptr_nonnull(strstr(err, "redis 127.0.0.1:"));
	/* within the back-off no new connect is tried */
	t0 = util_mono_ms();
	ck_assert_int_eq(optout_check(kv, "shop.vn", rcpts, 1, h, err, sizeof err),
			 OPTOUT_EUNAVAIL);
	ck_assert_ptr_nonnull(strstr(err, "unavailable (retrying shortly)"));
	ck_assert_int_lt(util_mono_ms() - t0, 100);
	kv_close(kv);
	conf_free(c);
}
END_TEST

int main(void)
{
	const TTest *tests[] = {
		test_key_part_lowercases_and_refuses,
		test_normalise_rcpt_and_advertiser,
		test_add_get_duplicate_confirm_del,
		test_list_by_time_and_recipient,
		test_check_per_recipient,
		test_check_recipient_extension,
		test_pooled_connection_killed_is_replaced,
		test_hung_server_times_out_then_backoff,
		test_dead_server_unavailable_then_backoff,
	};

	return th_redis_main("optout", setup, tests, sizeof tests / sizeof tests[0]);
}
