/* chanrac-rbld: authoritative DNSBL responder (RFC 5782) for the shared blacklist.
 * main: options, configuration, start-up order (bind, load, detach, pid file, drop
 * root, loader thread, serve), signals, and --dump-stats. */
#include <errno.h>
#include <stddef.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "metrics.h"
#include "rbld.h"
#include "util.h"

static struct rbld g_rbld; /* reached from the signal handlers */

static void on_stop(int sig)
{
	(void)sig;
	atomic_store(&g_rbld.stop, 1);
}

static void on_hup(int sig)
{
	(void)sig;
	atomic_store(&g_rbld.hup, 1);
}

/* Start-up errors go to the log and, while a terminal may be watching (before
 * detaching), to standard error as well. */
static int g_to_syslog;

static void start_error(const char *msg)
{
	log_err("%s", msg);
	if (g_to_syslog)
		fprintf(stderr, "chanrac-rbld: %s\n", msg);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: chanrac-rbld [-c CONFIG] [-f | -d] [-t]\n"
		   "       chanrac-rbld [-c CONFIG] --dump-stats\n"
		   "  -c CONFIG     configuration file (default %s)\n"
		   "  -f            stay in the foreground (overrides [rbld] daemon)\n"
		   "  -d            detach into the background\n"
		   "  -t            check the configuration and data files, then exit\n"
		   "  --dump-stats  print the running server's counters (status socket)\n",
		CONF_DEFAULT_PATH);
}

/* The Prometheus endpoint's view of the published counters. */
static void fill_metrics(void *arg, struct metrics_buf *b)
{
	static const struct {
		const char *name, *help;
		size_t off;
	} fields[] = {
		{ "chanrac_rbld_queries_total", "DNS queries answered or dropped, by zone.",
		  offsetof(struct rbld_counters, queries) },
		{ "chanrac_rbld_listed_total", "Answers naming at least one listing.",
		  offsetof(struct rbld_counters, listed) },
		{ "chanrac_rbld_nxdomain_total", "NXDOMAIN answers.",
		  offsetof(struct rbld_counters, nxdomain) },
		{ "chanrac_rbld_nodata_total", "NOERROR/NODATA answers.",
		  offsetof(struct rbld_counters, nodata) },
		{ "chanrac_rbld_refused_total", "REFUSED answers (outside every zone, or ACL).",
		  offsetof(struct rbld_counters, refused) },
		{ "chanrac_rbld_formerr_total", "FORMERR, NOTIMP and BADVERS answers.",
		  offsetof(struct rbld_counters, formerr) },
		{ "chanrac_rbld_ratelimited_total", "Queries dropped or slipped by the rate limit.",
		  offsetof(struct rbld_counters, ratelimited) },
		{ "chanrac_rbld_tcp_total", "Queries over TCP.", offsetof(struct rbld_counters, tcp) },
		{ "chanrac_rbld_truncated_total", "UDP answers sent with TC=1.",
		  offsetof(struct rbld_counters, truncated) },
	};
	struct rbld *r = arg;
	size_t nz = r->nzones;
	struct rbld_counters *copy = calloc(nz + 1, sizeof *copy);
	char esc[512], labels[600];

	if (copy == NULL) {
		b->oom = 1;
		return;
	}
	pthread_mutex_lock(&r->pub_lock);
	memcpy(copy, r->pub, (nz + 1) * sizeof *copy);
	pthread_mutex_unlock(&r->pub_lock);
	for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++) {
		for (size_t i = 0; i <= nz; i++) {
			uint64_t v;
			memcpy(&v, (const char *)&copy[i] + fields[f].off, sizeof v);
			snprintf(labels, sizeof labels, "zone=\"%s\"",
				 metrics_label_escape(i < nz ? r->zones[i].name : "*", esc, sizeof esc));
			metrics_add(b, fields[f].name, "counter", i == 0 ? fields[f].help : NULL, labels,
				    (double)v);
		}
	}
	free(copy);
	metrics_add(b, "chanrac_rbld_redis_up", "gauge",
		    "1 while the Redis change stream is followed, else 0.", NULL,
		    atomic_load(&r->redis_up) ? 1 : 0);
	metrics_add(b, "chanrac_rbld_zones", "gauge", "Zones served.", NULL, (double)nz);
}

static int dump_stats(const cr_conf *c)
{
	const char *path = conf_str(c, "rbld", "status_socket");
	struct sockaddr_un sun;
	char buf[4096];
	ssize_t n;
	int fd;

	if (path == NULL || *path == '\0') {
		fprintf(stderr, "chanrac-rbld: [rbld] status_socket is not set in %s\n",
			conf_source(c));
		return 1;
	}
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	util_strlcpy(sun.sun_path, path, sizeof sun.sun_path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof sun) < 0) {
		fprintf(stderr, "chanrac-rbld: status socket %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return 1;
	}
	while ((n = read(fd, buf, sizeof buf)) > 0)
		fwrite(buf, 1, (size_t)n, stdout);
	close(fd);
	return 0;
}




int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dump-stats", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *conf_path = NULL;
	int fg = 0, bg = 0, check = 0, stats = 0, opt, lvl, rc = 0;
	char err[1024];
	struct rbld *r = &g_rbld;
	rbld_net *net = NULL;
	cr_conf *conf;
	struct sigaction sa;
	const char *pidfile, *mlisten;
	cr_metrics *metrics = NULL;

	/* A fixed mmap threshold: the big arrays of an index live in their own
	 * mappings and go back to the system when a reload frees them, so the
	 * resident size stays that of the data served. */
	mallopt(M_MMAP_THRESHOLD, 256 * 1024);
	while ((opt = getopt_long(argc, argv, "c:fdth", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': conf_path = optarg; break;
		case 'f': fg = 1; break;
		case 'd': bg = 1; break;
		case 't': check = 1; break;
		case 'S': stats = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	conf = conf_open(conf_path, err, sizeof err);
	if (conf == NULL) {
		fprintf(stderr, "chanrac-rbld: %s\n", err);
		return 1;
	}
	if (stats) {
		rc = dump_stats(conf);
		conf_free(conf);
		return rc;
	}
	lvl = log_level_parse(conf_str(conf, "log", "level"));
	g_to_syslog = conf_bool(conf, "log", "syslog") && !check;
	log_open("chanrac-rbld", g_to_syslog, lvl < 0 ? LOG_LEVEL_INFO : (enum log_level)lvl);
	r->conf = conf;
	atomic_store(&r->reader_gen, RBLD_READER_IDLE);
	if (rbld_zones_setup(r, err, sizeof err) < 0) {
		start_error(err);
		rc = 1;
		goto out;
	}
	/* -t: what binding and dropping root would refuse, without doing either */
	if (check && (rbld_net_check(conf, err, sizeof err) < 0 ||
		      daemon_check_user("rbld", conf_str(conf, "rbld", "user"), err, sizeof err) < 0)) {
		start_error(err);
		rc = 1;
		goto out;
	}
	if (!check && (net = rbld_net_open(r, err, sizeof err)) == NULL) {
		start_error(err);
		rc = 1;
		goto out;
	}
	if (rbld_data_init(r, err, sizeof err) < 0) {
		start_error(err);
		rc = 1;
		goto out;
	}
	if (check) {
		printf("chanrac-rbld: %s: %zu zone(s), %zu source(s): OK\n", conf_source(conf),
		       r->nzones, r->nsrc);
		goto out;
	}
	if (!fg && (bg || conf_bool(conf, "rbld", "daemon"))) {
		int d = daemon_detach(err, sizeof err);
		if (d < 0) {
			start_error(err);
			rc = 1;
			goto out;
		}
		if (d > 0) {
			/* The parent: the sockets and the status socket's file belong
			 * to the child now; free our copies without unlinking. */
			rbld_net_release(net);
			net = NULL;
			rc = 0;
			goto out;
		}
	}
	/* After detaching (threads do not survive fork), before dropping root
	 * (the address may be a privileged port).  Metrics are optional: a
	 * failure is logged and the responder serves on without them. */
	r->pub = calloc(r->nzones + 1, sizeof *r->pub);
	pthread_mutex_init(&r->pub_lock, NULL);
	mlisten = conf_str(conf, "rbld", "metrics_listen");
	if (r->pub != NULL && mlisten != NULL && *mlisten) {
		metrics = metrics_start(mlisten, fill_metrics, r, err, sizeof err);
		if (metrics == NULL)
			log_warn("[rbld] metrics_listen: %s; serving without metrics", err);
		else
			log_info("metrics on http://%s/metrics", mlisten);
	}
	pidfile = conf_str(conf, "rbld", "pid_file");
	if (daemon_write_pid(pidfile, err, sizeof err) < 0 ||
	    daemon_drop_root("rbld", conf_str(conf, "rbld", "user"), err, sizeof err) < 0) {
		log_err("%s", err);
		rc = 1;
		goto out;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_hup;
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (rbld_loader_start(r, err, sizeof err) < 0) {
		log_err("%s", err);
		rc = 1;
		goto out;
	}
	log_info("serving %zu zone(s) from %zu source(s)", r->nzones, r->nsrc);
	rc = rbld_net_run(net) < 0 ? 1 : 0;
	log_info("stopping");
	if (pidfile && *pidfile)
		unlink(pidfile);
out:
	metrics_stop(metrics);
	rbld_loader_stop(r);
	rbld_net_close(net);
	rbld_zones_free(r);
	free(r->pub);
	conf_free(conf);
	return rc;
}
