/* engine_spf: SPF (RFC 7208) of the MAIL FROM and HELO identities for the engine.
 * libspf2 asks its lookups one after another, so it runs on a pooled worker
 * thread while the DNSBL set runs on the caller's; both share the message's deadline and cache.
 * Also writes the Authentication-Results value (RFC 8601). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "engine_int.h"
#include "log.h"
#include "util.h"

static void spf_run(struct engine_run *r)
{
	const struct engine_input *in = r->in;
	char err[200] = "";
	int rc;

	rc = spfcheck_run(r->e->dns, &in->client, in->helo, in->mail_from, r->deadline_ms,
			  in->mail_from != NULL ? &r->spf_mail_from : NULL,
			  r->helo_name[0] != '\0' ? &r->spf_helo : NULL, err, sizeof(err));
	if (rc != 0) {
		util_strlcpy(r->spf_err, err, sizeof(r->spf_err));
		return;
	}
	r->spf_ran = 1;
	r->spf_mail_from_checked = in->mail_from != NULL;
	r->spf_helo_checked = r->helo_name[0] != '\0';
}

/* ---- the worker pool ----
 * One thread created and joined per message cost about a tenth of the milter's
 * CPU under Postfix (clone, exit, and freeing the stack: bench/postfix_bench.sh
 * PERF_CFG=chanrac), so workers are kept and reused.  A worker is added whenever
 * no idle one is waiting for the queued jobs, so there are never more than the
 * messages being checked at once, as with a thread per message; one idle for
 * SPF_IDLE_S seconds exits. */
#define SPF_IDLE_S 30

static struct {
	pthread_mutex_t lock;
	pthread_cond_t work;
	struct engine_spf_job *head, *tail;
	int threads, idle, queued;
} g_pool = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, NULL, 0, 0, 0 };

/* g_pool.idle counts the workers free for a new job: waiting, or created and
 * not yet waiting (so a job queued meanwhile does not create another one). */
static void *spf_worker(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&g_pool.lock);
	for (;;) {
		struct engine_spf_job *job;

		while (g_pool.head == NULL) {
			struct timespec until;

			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += SPF_IDLE_S;
			if (pthread_cond_timedwait(&g_pool.work, &g_pool.lock, &until) == ETIMEDOUT &&
			    g_pool.head == NULL) {
				g_pool.idle--;
				g_pool.threads--;
				pthread_mutex_unlock(&g_pool.lock);
				return NULL;
			}
		}
		job = g_pool.head;
		g_pool.head = job->next;
		if (g_pool.head == NULL)
			g_pool.tail = NULL;
		g_pool.queued--;
		g_pool.idle--;
		pthread_mutex_unlock(&g_pool.lock);
		spf_run(job->r);
		pthread_mutex_lock(&g_pool.lock);
		job->done = 1;
		/* under the lock: the waiter frees the job only after we let go */
		pthread_cond_signal(&job->done_cv);
		g_pool.idle++;
	}
}

/* With the pool locked: one more worker, free at once; 0 on success. */
static int spf_add_worker(void)
{
	pthread_attr_t attr;
	pthread_t t;
	int rc;

	if (pthread_attr_init(&attr) != 0)
		return -1;
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&t, &attr, spf_worker, NULL);
	pthread_attr_destroy(&attr);
	if (rc != 0)
		return -1;
	g_pool.threads++;
	g_pool.idle++;
	return 0;
}

/* The identities SPF will check; both "" when there is nothing to check. */
static void spf_identities(struct engine_run *r)
{
	const struct engine_input *in = r->in;
	const char *at;
	struct cr_addr lit;

	r->helo_name[0] = '\0';
	r->spf_mail_from_domain[0] = '\0';
	/* spfcheck gives "none" to an address literal or a dotless HELO: not reported */
	if (in->helo == NULL || in->helo[0] == '[' || addr_parse(in->helo, &lit, NULL, 0) == 0 ||
	    dname_normalise(in->helo, r->helo_name, sizeof(r->helo_name), NULL, 0) != 0 ||
	    strchr(r->helo_name, '.') == NULL)
		r->helo_name[0] = '\0';
	if (in->mail_from == NULL)
		return;
	/* RFC 7208 2.4: the null sender is checked as postmaster@HELO */
	if (in->mail_from[0] == '\0')
		util_strlcpy(r->spf_mail_from_domain, r->helo_name, sizeof(r->spf_mail_from_domain));
	else if ((at = strrchr(in->mail_from, '@')) == NULL ||
		 dname_normalise(at + 1, r->spf_mail_from_domain, sizeof(r->spf_mail_from_domain),
				 NULL, 0) != 0)
		r->spf_mail_from_domain[0] = '\0';
}

int engine_spf_start(struct engine_run *r, struct engine_spf_job *job)
{
	spf_identities(r);
	if (!r->in->have_client || (r->in->mail_from == NULL && r->helo_name[0] == '\0'))
		return 0;
	job->r = r;
	job->next = NULL;
	job->done = 0;
	if (pthread_cond_init(&job->done_cv, NULL) != 0)
		return -1;
	pthread_mutex_lock(&g_pool.lock);
	if (g_pool.idle <= g_pool.queued && spf_add_worker() != 0 && g_pool.threads == 0) {
		/* no thread: still check, after the DNSBL set, under the same deadline */
		pthread_mutex_unlock(&g_pool.lock);
		pthread_cond_destroy(&job->done_cv);
		return -1;
	}
	if (g_pool.tail != NULL)
		g_pool.tail->next = job;
	else
		g_pool.head = job;
	g_pool.tail = job;
	g_pool.queued++;
	pthread_cond_signal(&g_pool.work);
	pthread_mutex_unlock(&g_pool.lock);
	return 1;
}

void engine_spf_finish(struct engine_run *r, struct engine_spf_job *job, int started)
{
	if (started == 1) {
		pthread_mutex_lock(&g_pool.lock);
		while (!job->done)
			pthread_cond_wait(&job->done_cv, &g_pool.lock);
		pthread_mutex_unlock(&g_pool.lock);
		pthread_cond_destroy(&job->done_cv);
	} else if (started == -1) {
		spf_run(r);
	}
	if (r->spf_err[0] != '\0')
		log_warn("%s: engine: %s", r->in->queue_id ? r->in->queue_id : "-", r->spf_err);
}

static const char *const spf_rules[ENGINE_W_SPF_COUNT] = {
	[SPFCHECK_NONE] = "SPF_NONE",           [SPFCHECK_NEUTRAL] = "SPF_NEUTRAL",
	[SPFCHECK_PASS] = "SPF_PASS",           [SPFCHECK_FAIL] = "SPF_FAIL",
	[SPFCHECK_SOFTFAIL] = "SPF_SOFTFAIL",   [SPFCHECK_TEMPERROR] = "SPF_TEMPERROR",
	[SPFCHECK_PERMERROR] = "SPF_PERMERROR",
};

void engine_spf_score(struct engine_run *r)
{
	char ip[ADDR_TEXT_MAX];
	const char *dom;

	if (!r->spf_ran)
		return;
	addr_format(&r->in->client, ip, sizeof(ip));
	if (r->spf_mail_from_checked) {
		const struct spfcheck_outcome *o = &r->spf_mail_from;
		unsigned res = (unsigned)o->result;
		if (res < ENGINE_W_SPF_COUNT) {
			dom = r->spf_mail_from_domain[0] ? r->spf_mail_from_domain : "(no domain)";
			if (o->explanation[0] != '\0')
				engine_add_hit(r, spf_rules[res], r->e->spf_weight[res],
					       "SPF %s for mail from %s, client %s: %s",
					       spfcheck_result_name(o->result), dom, ip, o->explanation);
			else
				engine_add_hit(r, spf_rules[res], r->e->spf_weight[res],
					       "SPF %s for mail from %s, client %s",
					       spfcheck_result_name(o->result), dom, ip);
		}
	}
	if (r->spf_helo_checked) {
		const struct spfcheck_outcome *o = &r->spf_helo;
		if (o->result == SPFCHECK_FAIL)
			engine_add_hit(r, "HELO_SPF_FAIL", r->e->helo_spf_fail,
				       "SPF fail for HELO %s, client %s", r->helo_name, ip);
		else if (o->result == SPFCHECK_SOFTFAIL)
			engine_add_hit(r, "HELO_SPF_SOFTFAIL", r->e->helo_spf_softfail,
				       "SPF softfail for HELO %s, client %s", r->helo_name, ip);
	}
}

/* RFC 8601: "authserv-id; spf=pass smtp.mailfrom=example.vn; spf=none
 * smtp.helo=mta.example.vn", or "authserv-id; none" when nothing was checked.
 * The property values are normalised domain names, so they need no quoting. */
void engine_spf_auth_results(struct engine_run *r)
{
	char *buf = r->v->hdr_auth_results;
	size_t len = sizeof(r->v->hdr_auth_results), used = 0, col = 24;
	char item[DNAME_MAX + 64];
	int any = 0;

	buf[0] = '\0';
	engine_fold_append(buf, len, &used, &col, "", r->e->authserv_id);
	if (r->spf_ran && r->spf_mail_from_checked && r->spf_mail_from_domain[0] != '\0') {
		snprintf(item, sizeof(item), "spf=%s smtp.mailfrom=%s",
			 spfcheck_result_name(r->spf_mail_from.result), r->spf_mail_from_domain);
		engine_fold_append(buf, len, &used, &col, "; ", item);
		any = 1;
	}
	if (r->spf_ran && r->spf_helo_checked) {
		snprintf(item, sizeof(item), "spf=%s smtp.helo=%s",
			 spfcheck_result_name(r->spf_helo.result), r->helo_name);
		engine_fold_append(buf, len, &used, &col, "; ", item);
		any = 1;
	}
	if (!any)
		engine_fold_append(buf, len, &used, &col, "; ", "none");
}
