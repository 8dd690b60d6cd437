/* engine_helper: an engine over the private Redis of redis_helper.h and one
 * engine_check of a message, for the tests of the rules that keep state there
 * (R5, R7, R8, P4).  Header-only, included after redis_helper.h. */
#ifndef CHANRAC_TEST_ENGINE_HELPER_H
#define CHANRAC_TEST_ENGINE_HELPER_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "msg.h"
#include "redis_helper.h"
#include "util.h"

/* An engine of th_conf with thresholds 5 / 8 / 12, a 1 s deadline, then base
 * and extra (either may be NULL). */
static __attribute__((unused)) cr_engine *th_engine(const char *base, const char *extra)
{
	char err[512], more[1024];
	cr_conf *c;
	cr_engine *e;

	snprintf(more, sizeof more,
		 "[engine]\ndeadline = 1s\ntag_score = 5\nquarantine_score = 8\nreject_score = 12\n"
		 "%s%s", base ? base : "", extra ? extra : "");
	c = th_conf(more);
	ck_assert_ptr_nonnull(c);
	e = engine_new(c, err, sizeof err);
	ck_assert_msg(e != NULL, "%s", err);
	conf_free(c);
	return e;
}

/* The verdict (malloc'd) on text sent from mail_from to the n rcpts, outbound
 * when sasl_user is set, as queue id TESTQ, within 1 s. */
static __attribute__((unused)) struct engine_verdict *
th_check(cr_engine *e, const char *text, const char *mail_from, const char *const *rcpts,
	 size_t n, const char *sasl_user, int dry_run)
{
	struct engine_verdict *v = malloc(sizeof *v);
	struct engine_input in = { 0 };
	char err[256];
	cr_msg *m = msg_parse_buffer(text, strlen(text), NULL, err, sizeof err);

	ck_assert_ptr_nonnull(v);
	ck_assert_ptr_nonnull(m);
	in.mail_from = mail_from;
	in.rcpts = rcpts;
	in.nrcpts = n;
	in.sasl_user = sasl_user;
	in.queue_id = "TESTQ";
	in.dry_run = dry_run;
	engine_check(e, &in, m, util_mono_ms() + 1000, v);
	msg_free(m);
	return v;
}

#endif
