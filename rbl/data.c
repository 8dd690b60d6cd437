/* data: chanrac-rbld's data generations — file sources loaded (and reloaded on
 * SIGHUP), Redis lists loaded in full and then followed on the change stream —
 * each built aside and swapped in with one atomic pointer store.  The network
 * thread never waits: the old generation is freed after it has moved on. */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "rbld.h"
#include "store.h"
#include "util.h"

#define CHANGES_PER_READ 10000
#define PENDING_MAX 20000
#define READ_BLOCK_MS 100

struct pending_op {
	uint32_t src;
	int del;
	struct listing_entry e;
};

struct rbld_loader {
	pthread_t thread;
	int started;
	cr_store *store;
	char pos[STORE_POS_MAX];
	int synced;           /* the Redis sources hold a full snapshot + stream */
	int need_sync;
	int64_t next_try_ms, backoff_ms;
	const char **lists;   /* NULL-terminated Redis list names of the sources */
	struct pending_op *pend;
	size_t npend, cappend;
	int64_t pend_since_ms;
	uint64_t next_gen;
	uint32_t last_serial;
};

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static struct rbld_data *data_alloc(size_t nsrc)
{
	return calloc(1, sizeof(struct rbld_data) + nsrc * sizeof(rblindex *));
}

/* A new generation sharing every index of the current one. */
static struct rbld_data *data_copy(struct rbld *r)
{
	const struct rbld_data *cur = atomic_load(&r->data);
	struct rbld_data *d = data_alloc(r->nsrc);
	uint32_t now = (uint32_t)util_now();

	if (d == NULL)
		return NULL;
	memcpy(d->ix, cur->ix, r->nsrc * sizeof(rblindex *));
	d->nsrc = r->nsrc;
	d->gen = ++r->loader->next_gen;
	/* RFC 1982 serial: the time of the change, but always moving forward. */
	d->serial = now > r->loader->last_serial ? now : r->loader->last_serial + 1;
	r->loader->last_serial = d->serial;
	return d;
}

/* Swaps nd in and frees what only the old generation used once the reader has
 * left it (it announces the generation it holds in reader_gen). */
static void publish(struct rbld *r, struct rbld_data *nd)
{
	struct rbld_data *old = atomic_exchange(&r->data, nd);
	size_t i;

	if (old == NULL)
		return;
	for (;;) {
		uint64_t g = atomic_load(&r->reader_gen);
		if (g == RBLD_READER_IDLE || (g != RBLD_READER_BUSY && g >= nd->gen))
			break;
		sleep_ms(1);
	}
	for (i = 0; i < old->nsrc; i++)
		if (old->ix[i] != nd->ix[i])
			rblindex_free(old->ix[i]);
	free(old);
}

const struct rbld_data *rbld_data_enter(struct rbld *r)
{
	const struct rbld_data *d;

	atomic_store(&r->reader_gen, RBLD_READER_BUSY);
	d = atomic_load(&r->data);
	atomic_store(&r->reader_gen, d->gen);
	return d;
}

void rbld_data_leave(struct rbld *r)
{
	atomic_store(&r->reader_gen, RBLD_READER_IDLE);
}

/* ---- files ---- */

static int add_entry_fn(void *ud, const struct listing_entry *e, unsigned line)
{
	(void)line;
	return rblindex_builder_add(ud, e) < 0 ? -2 : 0;
}

static rblindex *load_file(const struct rbld_source *s, char *err, size_t errlen)
{
	rblindex_builder *b = rblindex_builder_new();
	int64_t t0 = util_mono_ms();
	rblindex *ix;
	int rc;

	if (b == NULL) {
		util_errf(err, errlen, "%s: out of memory", s->path);
		return NULL;
	}
	rc = dataset_parse_file(s->path, s->fmt, add_entry_fn, b, err, errlen);
	if (rc != 0) {
		if (rc == -2)
			util_errf(err, errlen, "%s: out of memory", s->path);
		rblindex_builder_free(b);
		return NULL;
	}
	ix = rblindex_build(b, util_now(), err, errlen);
	if (ix != NULL) {
		struct rblindex_stats st;
		rblindex_stats(ix, &st);
		log_info("loaded %s %s: %zu entries (%zu IPv4 hosts, %zu IPv4 prefixes, %zu IPv6 "
			 "prefixes, %zu names), %zu KiB in %lld ms",
			 dataset_format_name(s->fmt), s->path, rblindex_count(ix), st.v4_hosts,
			 st.v4_prefixes, st.v6_prefixes, st.names, st.bytes / 1024,
			 (long long)(util_mono_ms() - t0));
	}
	return ix;
}

/* Reloads every file; a file that fails keeps its old index.  Returns the number
 * of failures. */
static int reload_files(struct rbld *r)
{
	struct rbld_data *nd = data_copy(r);
	size_t i;
	int failed = 0, loaded = 0;

	if (nd == NULL)
		return 1;
	for (i = 0; i < r->nsrc; i++) {
		char err[512];
		rblindex *ix;

		if (r->src[i].redis)
			continue;
		ix = load_file(&r->src[i], err, sizeof err);
		if (ix == NULL) {
			log_err("reload failed, keeping the old data of %s: %s", r->src[i].path, err);
			failed++;
			continue;
		}
		nd->ix[i] = ix;
		loaded++;
	}
	publish(r, nd);
	log_info("reload: %d file(s) loaded, %d kept old data", loaded, failed);
	return failed;
}

/* ---- Redis ---- */

static int src_of_list(const struct rbld *r, const char *list)
{
	size_t i;

	for (i = 0; i < r->nsrc; i++)
		if (r->src[i].redis && strcmp(r->src[i].list, list) == 0)
			return (int)i;
	return -1;
}

struct sync_ctx {
	struct rbld *r;
	rblindex_builder **b;
	size_t entries;
	int oom;
};

static int sync_fn(void *ud, const char *list, const struct listing_entry *e)
{
	struct sync_ctx *c = ud;
	int k = src_of_list(c->r, list);

	if (k < 0)
		return 0;
	if (rblindex_builder_add(c->b[k], e) < 0) {
		c->oom = 1;
		return 1;
	}
	c->entries++;
	return 0;
}

static void write_snapshots(struct rbld *r, const struct rbld_data *d);

/* Loads every Redis list in full (one consistent snapshot) and swaps it in. */
static int full_sync(struct rbld *r)
{
	struct rbld_loader *L = r->loader;
	struct sync_ctx c = { r, NULL, 0, 0 };
	struct rbld_data *nd;
	int64_t t0 = util_mono_ms(), now = util_now();
	char pos[STORE_POS_MAX];
	size_t i;
	int rc, failed = 0;
	int64_t t_snap;

	c.b = calloc(r->nsrc, sizeof(rblindex_builder *));
	if (c.b == NULL)
		return -1;
	for (i = 0; i < r->nsrc; i++)
		if (r->src[i].redis && (c.b[i] = rblindex_builder_new()) == NULL)
			c.oom = 1;
	rc = c.oom ? -1 : store_snapshot(L->store, L->lists, sync_fn, &c, pos);
	t_snap = util_mono_ms() - t0;
	if (rc < 0 || c.oom) {
		log_err("full load from Redis failed, keeping the old data: %s",
			c.oom ? "out of memory" : store_error(L->store));
		for (i = 0; i < r->nsrc; i++)
			rblindex_builder_free(c.b[i]);
		free(c.b);
		return rc < 0 ? rc : -1;
	}
	nd = data_copy(r);
	for (i = 0; i < r->nsrc; i++) {
		char err[256];
		rblindex *ix;

		if (!r->src[i].redis)
			continue;
		if (nd == NULL || failed) {
			rblindex_builder_free(c.b[i]);
			continue;
		}
		ix = rblindex_build(c.b[i], now, err, sizeof err);
		if (ix == NULL) {
			log_err("full load: list %s: %s", r->src[i].list, err);
			failed = 1;
			continue;
		}
		nd->ix[i] = ix;
	}
	free(c.b);
	if (nd == NULL)
		return -1;
	if (failed) {
		const struct rbld_data *cur = atomic_load(&r->data);
		for (i = 0; i < r->nsrc; i++)
			if (nd->ix[i] != cur->ix[i])
				rblindex_free(nd->ix[i]);
		free(nd);
		return -1;
	}
	publish(r, nd);
	util_strlcpy(L->pos, pos, sizeof L->pos);
	L->synced = 1;
	L->need_sync = 0;
	L->npend = 0;
	/* The snapshot's reply objects are gone: give their pages back. */
	malloc_trim(0);
	log_info("loaded %zu entries from Redis in %lld ms (%lld ms reading the snapshot; "
		 "stream position %s)", c.entries, (long long)(util_mono_ms() - t0),
		 (long long)t_snap, pos);
	write_snapshots(r, atomic_load(&r->data));
	return 0;
}

static int change_fn(void *ud, const struct store_change *ch)
{
	struct rbld *r = ud;
	struct rbld_loader *L = r->loader;
	int k;

	if (ch->op == STORE_CHANGE_LOAD) {
		if (src_of_list(r, ch->list) >= 0)
			L->need_sync = 1; /* a whole-list import: reload in full */
		return 0;
	}
	k = src_of_list(r, ch->list);
	if (k < 0)
		return 0;
	if (L->npend == L->cappend) {
		size_t nc = L->cappend ? L->cappend * 2 : 64;
		struct pending_op *p = realloc(L->pend, nc * sizeof(*p));
		if (p == NULL) {
			L->need_sync = 1;
			return 0;
		}
		L->pend = p;
		L->cappend = nc;
	}
	if (L->npend == 0)
		L->pend_since_ms = util_mono_ms();
	L->pend[L->npend].src = (uint32_t)k;
	L->pend[L->npend].del = ch->op == STORE_CHANGE_DEL;
	L->pend[L->npend].e = ch->entry;
	L->npend++;
	return 0;
}

/* Rebuilds each list touched by the pending changes (old index + changes in
 * stream order) and swaps them in together. */
static void apply_pending(struct rbld *r)
{
	struct rbld_loader *L = r->loader;
	struct rbld_data *nd = data_copy(r);
	int64_t t0 = util_mono_ms(), now = util_now();
	size_t i, k, nlists = 0;

	if (nd == NULL)
		return;
	for (k = 0; k < r->nsrc; k++) {
		rblindex_builder *b = NULL;
		char err[256];
		rblindex *ix;

		for (i = 0; i < L->npend; i++) {
			if (L->pend[i].src != k)
				continue;
			if (b == NULL && ((b = rblindex_builder_new()) == NULL ||
					  rblindex_builder_add_index(b, nd->ix[k]) < 0))
				goto oom;
			if ((L->pend[i].del ? rblindex_builder_del(b, &L->pend[i].e)
					    : rblindex_builder_add(b, &L->pend[i].e)) < 0)
				goto oom;
		}
		if (b == NULL)
			continue;
		ix = rblindex_build(b, now, err, sizeof err);
		if (ix == NULL)
			goto oom_built;
		nd->ix[k] = ix;
		nlists++;
		continue;
oom:
		rblindex_builder_free(b);
oom_built:
		log_err("applying changes: out of memory; will reload in full");
		/* Free what this round built, keep the published data. */
		{
			const struct rbld_data *cur = atomic_load(&r->data);
			for (i = 0; i < r->nsrc; i++)
				if (nd->ix[i] != cur->ix[i])
					rblindex_free(nd->ix[i]);
		}
		free(nd);
		L->need_sync = 1;
		L->npend = 0;
		return;
	}
	publish(r, nd);
	log_debug("applied %zu change(s) to %zu list(s) in %lld ms", L->npend, nlists,
		  (long long)(util_mono_ms() - t0));
	L->npend = 0;
}

/* ---- snapshots (served when Redis is down at start) ---- */

struct snap_ctx {
	FILE *f;
	int err;
};

static int snap_fn(void *ud, const struct listing_entry *e)
{
	struct snap_ctx *c = ud;

	if (dataset_write_entry(c->f, DATASET_PLAIN, e) < 0) {
		c->err = 1;
		return 1;
	}
	return 0;
}

static void snapshot_path(const struct rbld *r, const char *list, char *buf, size_t len,
			  int tmp)
{
	snprintf(buf, len, "%s/%s.snapshot%s", conf_str(r->conf, "rbld", "snapshot_dir"), list,
		 tmp ? ".tmp" : "");
}

static void write_snapshots(struct rbld *r, const struct rbld_data *d)
{
	const char *dir = conf_str(r->conf, "rbld", "snapshot_dir");
	size_t i;

	if (dir == NULL || *dir == '\0')
		return;
	for (i = 0; i < r->nsrc; i++) {
		char tmp[4200], path[4200];
		struct snap_ctx c = { NULL, 0 };

		if (!r->src[i].redis)
			continue;
		snapshot_path(r, r->src[i].list, tmp, sizeof tmp, 1);
		snapshot_path(r, r->src[i].list, path, sizeof path, 0);
		c.f = fopen(tmp, "w");
		if (c.f == NULL) {
			log_warn("snapshot %s: %s", tmp, strerror(errno));
			continue;
		}
		rblindex_foreach(d->ix[i], snap_fn, &c);
		if (fclose(c.f) != 0 || c.err || rename(tmp, path) != 0) {
			log_warn("snapshot %s: write failed", path);
			unlink(tmp);
		}
	}
}

static void load_snapshots(struct rbld *r, struct rbld_data *d)
{
	const char *dir = conf_str(r->conf, "rbld", "snapshot_dir");
	size_t i;

	if (dir == NULL || *dir == '\0')
		return;
	for (i = 0; i < r->nsrc; i++) {
		struct rbld_source s;
		char err[512];
		rblindex *ix;

		if (!r->src[i].redis)
			continue;
		memset(&s, 0, sizeof s);
		s.fmt = DATASET_PLAIN;
		snapshot_path(r, r->src[i].list, s.path, sizeof s.path, 0);
		if (access(s.path, R_OK) != 0)
			continue;
		ix = load_file(&s, err, sizeof err);
		if (ix == NULL) {
			log_warn("snapshot not used: %s", err);
			continue;
		}
		rblindex_free(d->ix[i]);
		d->ix[i] = ix;
		log_info("serving the last snapshot of list %s until Redis answers", s.path);
	}
}

/* ---- start-up and the loader thread ---- */

static int redis_try(struct rbld *r)
{
	struct rbld_loader *L = r->loader;
	char err[512];
	int st = 0;

	L->store = store_open(r->conf, &st, err, sizeof err);
	if (L->store == NULL) {
		int64_t max = conf_ms(r->conf, "rbld", "redis_retry_max");

		log_warn("Redis unavailable, retrying in %lld ms: %s", (long long)L->backoff_ms, err);
		L->next_try_ms = util_mono_ms() + L->backoff_ms;
		L->backoff_ms = L->backoff_ms * 2 > max ? max : L->backoff_ms * 2;
		return -1;
	}
	if (full_sync(r) < 0) {
		store_close(L->store);
		L->store = NULL;
		L->next_try_ms = util_mono_ms() + L->backoff_ms;
		return -1;
	}
	L->backoff_ms = 250;
	atomic_store(&r->redis_up, 1);
	return 0;
}

int rbld_data_init(struct rbld *r, char *err, size_t errlen)
{
	struct rbld_loader *L = calloc(1, sizeof(*L));
	struct rbld_data *d = data_alloc(r->nsrc);
	size_t i, nl = 0;

	if (L == NULL || d == NULL) {
		free(L);
		free(d);
		util_errf(err, errlen, "out of memory");
		return -1;
	}
	r->loader = L;
	L->backoff_ms = 250;
	L->lists = calloc(r->nsrc + 1, sizeof(char *));
	if (L->lists == NULL)
		return -1;
	d->nsrc = r->nsrc;
	d->gen = ++L->next_gen;
	d->serial = L->last_serial = (uint32_t)util_now();
	for (i = 0; i < r->nsrc; i++) {
		if (r->src[i].redis) {
			L->lists[nl++] = r->src[i].list;
			d->ix[i] = rblindex_empty();
		} else {
			d->ix[i] = load_file(&r->src[i], err, errlen);
		}
		if (d->ix[i] == NULL) {
			while (i-- > 0)
				rblindex_free(d->ix[i]);
			free(d);
			return -1;
		}
	}
	if (nl > 0)
		load_snapshots(r, d);
	atomic_store(&r->data, d);
	atomic_store(&r->reader_gen, RBLD_READER_IDLE);
	if (nl > 0)
		redis_try(r);
	return 0;
}

static void *loader_main(void *arg)
{
	struct rbld *r = arg;
	struct rbld_loader *L = r->loader;
	int64_t merge_ms = conf_ms(r->conf, "rbld", "merge_interval");
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL); /* signals go to the network thread */
	while (!atomic_load(&r->stop)) {
		if (atomic_exchange(&r->hup, 0))
			reload_files(r);
		if (L->lists[0] == NULL) {
			sleep_ms(100);
			continue;
		}
		if (L->store == NULL) {
			if (util_mono_ms() >= L->next_try_ms)
				redis_try(r);
			else
				sleep_ms(50);
			continue;
		}
		if (L->need_sync) {
			if (full_sync(r) < 0) {
				store_close(L->store);
				L->store = NULL;
				atomic_store(&r->redis_up, 0);
			}
			continue;
		}
		{
			int rc = store_changes_read(L->store, L->pos,
						    L->npend ? 0 : READ_BLOCK_MS, CHANGES_PER_READ,
						    change_fn, r);
			if (rc == STORE_EGAP) {
				log_warn("change stream gap after %s: reloading in full", L->pos);
				L->need_sync = 1;
				continue;
			}
			if (rc < 0) {
				log_warn("Redis: %s; serving the data held, reconnecting",
					 store_error(L->store));
				store_close(L->store);
				L->store = NULL;
				atomic_store(&r->redis_up, 0);
				L->npend = 0;
				L->next_try_ms = util_mono_ms() + L->backoff_ms;
				continue;
			}
		}
		if (L->npend > 0 && !L->need_sync &&
		    (L->npend >= PENDING_MAX || util_mono_ms() - L->pend_since_ms >= merge_ms))
			apply_pending(r);
		else if (L->npend > 0)
			sleep_ms(10);
	}
	return NULL;
}

int rbld_loader_start(struct rbld *r, char *err, size_t errlen)
{
	int rc = pthread_create(&r->loader->thread, NULL, loader_main, r);

	if (rc != 0) {
		util_errf(err, errlen, "cannot start the loader thread: %s", strerror(rc));
		return -1;
	}
	r->loader->started = 1;
	return 0;
}

void rbld_loader_stop(struct rbld *r)
{
	struct rbld_loader *L = r->loader;
	struct rbld_data *d;
	size_t i;

	if (L == NULL)
		return;
	atomic_store(&r->stop, 1);
	if (L->started)
		pthread_join(L->thread, NULL);
	if (L->store)
		store_close(L->store);
	d = atomic_exchange(&r->data, NULL);
	if (d != NULL) {
		for (i = 0; i < d->nsrc; i++)
			rblindex_free(d->ix[i]);
		free(d);
	}
	free(L->pend);
	free(L->lists);
	free(L);
	r->loader = NULL;
}
