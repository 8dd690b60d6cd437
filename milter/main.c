/* chanrac-milter: the Postfix/Sendmail mail filter over the check engine.
 * main: options, configuration, start-up order (engine, socket, detach, pid
 * file, drop root, stats writer, serve), reload on SIGUSR1 and shutdown. */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "metrics.h"
#include "milter.h"
#include "util.h"

static const char *g_conf_path; /* -c, for reload */

static void usage(FILE *f)
{
	fprintf(f, "usage: chanrac-milter [-c CONFIG] [-f | -d] [-t]\n"
		   "  -c CONFIG  configuration file (default %s)\n"
		   "  -f         stay in the foreground (overrides [milter] daemon)\n"
		   "  -d         detach into the background\n"
		   "  -t         check the configuration, then exit\n"
		   "Signals: SIGUSR1 reloads the configuration; SIGTERM, SIGINT and SIGHUP\n"
		   "stop (libmilter's handling).\n",
		CONF_DEFAULT_PATH);
}




/* "unix:/path" or "local:/path" -> "/path"; NULL for inet sockets. */
static const char *unix_path(const char *spec)
{
	if (strncmp(spec, "unix:", 5) == 0)
		return spec + 5;
	if (strncmp(spec, "local:", 6) == 0)
		return spec + 6;
	if (spec[0] == '/')
		return spec;
	return NULL;
}

/* [milter] socket_mode: 0..0777 in octal, or -1 with err. */
static long socket_mode(const char *mode_text, char *err, size_t errlen)
{
	char *end;
	long mode = strtol(mode_text, &end, 8);

	if (*mode_text == '\0' || *end != '\0' || mode < 0 || mode > 0777) {
		util_errf(err, errlen, "[milter] socket_mode \"%s\": not an octal mode", mode_text);
		return -1;
	}
	return mode;
}

/* Checks a libmilter socket spec before libmilter sees it (it only fails,
 * later, with no reason): unix:/PATH, local:/PATH or /PATH (with a usable
 * socket_mode), inet:PORT[@HOST] or inet6:PORT[@HOST], PORT a number in
 * 1..65535 or a TCP service name, HOST an address of the family (bare or in
 * brackets) or a name. */
static int socket_check(const char *spec, const char *mode_text, char *err, size_t errlen)
{
	const char *path = unix_path(spec), *port, *at;
	char pbuf[64], *end;
	size_t plen;
	long p;
	int v6;

	if (path != NULL) {
		if (path[0] != '/' || strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
			util_errf(err, errlen, "[milter] socket \"%s\": the path must be absolute "
				  "and under %zu bytes", spec,
				  sizeof(((struct sockaddr_un *)0)->sun_path));
			return -1;
		}
		return socket_mode(mode_text, err, errlen) < 0 ? -1 : 0;
	}
	if (strncmp(spec, "inet:", 5) != 0 && strncmp(spec, "inet6:", 6) != 0) {
		util_errf(err, errlen, "[milter] socket \"%s\": not unix:/PATH, local:/PATH, "
			  "inet:PORT@HOST or inet6:PORT@HOST", spec);
		return -1;
	}
	v6 = spec[4] == '6';
	port = spec + (v6 ? 6 : 5);
	at = strchr(port, '@');
	plen = at ? (size_t)(at - port) : strlen(port);
	if (plen == 0 || plen >= sizeof pbuf)
		goto bad_port;
	memcpy(pbuf, port, plen);
	pbuf[plen] = '\0';
	errno = 0;
	p = strtol(pbuf, &end, 10);
	if (*end == '\0' ? (errno || p < 1 || p > 65535) : getservbyname(pbuf, "tcp") == NULL)
		goto bad_port;
	if (at != NULL) {
		unsigned char a[16];
		char hb[INET6_ADDRSTRLEN];
		const char *h = at + 1;
		size_t hl = strlen(h);
		int addr = inet_pton(v6 ? AF_INET6 : AF_INET, h, a) == 1;

		/* libmilter also takes an address in brackets: [192.0.2.1] */
		if (!addr && hl > 2 && h[0] == '[' && h[hl - 1] == ']' && hl - 2 < sizeof hb) {
			memcpy(hb, h + 1, hl - 2);
			hb[hl - 2] = '\0';
			addr = inet_pton(v6 ? AF_INET6 : AF_INET, hb, a) == 1;
		}

		/* a name: letters, digits, dots and hyphens, not all digits and dots */
		if (!addr && (strspn(h, "abcdefghijklmnopqrstuvwxyz"
					"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") != strlen(h) ||
			      strspn(h, "0123456789.") == strlen(h))) {
			util_errf(err, errlen, "[milter] socket \"%s\": \"%s\" is not an IPv%c "
				  "address or a host name", spec, h, v6 ? '6' : '4');
			return -1;
		}
	}
	return 0;
bad_port:
	util_errf(err, errlen, "[milter] socket \"%s\": the port must be 1..65535 or a "
		  "service name", spec);
	return -1;
}

/* Owner and mode of a unix socket, so the MTA's user (in our group) can use it. */
static int socket_access(const char *path, const char *mode_text, const char *user, char *err,
			 size_t errlen)
{
	long mode = socket_mode(mode_text, err, errlen);
	struct passwd *pw;

	if (mode < 0)
		return -1;
	if (chmod(path, (mode_t)mode) < 0) {
		util_errf(err, errlen, "socket %s: chmod: %s", path, strerror(errno));
		return -1;
	}
	if (geteuid() == 0 && user != NULL && *user && (pw = getpwnam(user)) != NULL &&
	    chown(path, pw->pw_uid, pw->pw_gid) < 0) {
		util_errf(err, errlen, "socket %s: chown %s: %s", path, user, strerror(errno));
		return -1;
	}
	return 0;
}

/* TCP_NODELAY on libmilter's listening socket (Linux hands it on to every
 * accepted connection).  libmilter writes a verdict as several small packets
 * (each added header, then the reply); with Nagle's algorithm all but the first
 * wait for the MTA's delayed ACK, about 40 ms per message on Linux, which
 * capped Postfix at a few hundred messages/s over inet milter sockets
 * (bench/postfix_bench.sh, doc/benchmarks.md).  libmilter does not expose the
 * socket, so set it on every listening TCP socket the process has by now
 * (libmilter's; the option harms no other). */
static void listener_nodelay(void)
{
	for (int fd = 0; fd < 1024; fd++) {
		int v = 0, one = 1;
		socklen_t len = sizeof v;

		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) < 0 || !v)
			continue;
		len = sizeof v;
		if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &len) < 0 ||
		    (v != AF_INET && v != AF_INET6))
			continue;
		if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0)
			log_warn("milter socket: TCP_NODELAY: %s", strerror(errno));
	}
}

static cr_conf *load_conf(const char *path, char *err, size_t errlen)
{
	return conf_open(path, err, errlen);
}

/* ---------------------------------------------------------------- reload */

static pthread_t g_reload_thread;
static volatile sig_atomic_t g_reload_stop; /* set by main before it wakes the thread */

/* Waits for SIGUSR1 (blocked in every thread, so only sigwait sees it) and
 * rebuilds the engine from the configuration file; on any error the running
 * engine stays.  Keys outside [engine]/[dnsbl]/[log] level need a restart. */
static void *reload_thread(void *arg)
{
	sigset_t set;
	int sig;

	(void)arg;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	for (;;) {
		char err[1024];
		cr_conf *conf;
		cr_engine *e;
		int lvl;

		if (sigwait(&set, &sig) != 0 || g_reload_stop)
			break;
		conf = load_conf(g_conf_path, err, sizeof err);
		if (conf == NULL) {
			log_err("reload: %s; keeping the running configuration", err);
			continue;
		}
		e = engine_new(conf, err, sizeof err);
		if (e == NULL) {
			log_err("reload: %s; keeping the running configuration", err);
			conf_free(conf);
			continue;
		}
		lvl = log_level_parse(conf_str(conf, "log", "level"));
		if (lvl >= 0)
			log_set_level((enum log_level)lvl);
		milter_engine_swap(e);
		log_info("reload: configuration %s loaded", conf_source(conf));
		conf_free(conf);
	}
	return NULL;
}

/* ---------------------------------------------------------------- main */

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int fg = 0, bg = 0, check = 0, opt, lvl, rc = 1, reload_started = 0;
	char err[1024];
	cr_conf *conf;
	cr_engine *engine = NULL;
	cr_stats *stats = NULL;
	const char *sock, *pidfile = NULL, *user, *mlisten;
	cr_metrics *metrics = NULL;
	sigset_t set;
	int64_t timeout_ms;

	while ((opt = getopt_long(argc, argv, "c:fdth", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': g_conf_path = optarg; break;
		case 'f': fg = 1; break;
		case 'd': bg = 1; break;
		case 't': check = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	conf = load_conf(g_conf_path, err, sizeof err);
	if (conf == NULL) {
		fprintf(stderr, "chanrac-milter: %s\n", err);
		return 1;
	}
	lvl = log_level_parse(conf_str(conf, "log", "level"));
	log_open("chanrac-milter", conf_bool(conf, "log", "syslog") && !check,
		 lvl < 0 ? LOG_LEVEL_INFO : (enum log_level)lvl);

	/* Before any thread exists: libmilter's signal thread sigwaits for HUP,
	 * TERM and INT, our reload thread for USR1; no other thread may take them. */
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* Validate the whole configuration before touching the socket. */
	engine = engine_new(conf, err, sizeof err);
	if (engine == NULL) {
		log_err("%s: %s", conf_source(conf), err);
		goto out;
	}
	if (conf_bool(conf, "milter", "stats") &&
	    (stats = stats_new(conf, err, sizeof err)) == NULL) {
		log_err("%s: %s", conf_source(conf), err);
		goto out;
	}
	sock = conf_str(conf, "milter", "socket");
	if (sock == NULL || *sock == '\0') {
		log_err("%s: [milter] socket: empty", conf_source(conf));
		goto out;
	}
	if (socket_check(sock, conf_str(conf, "milter", "socket_mode"), err, sizeof err) < 0) {
		log_err("%s: %s", conf_source(conf), err);
		goto out;
	}
	/* -t: what dropping root would refuse, without doing it */
	if (check && daemon_check_user("milter", conf_str(conf, "milter", "user"), err,
				       sizeof err) < 0) {
		log_err("%s: %s", conf_source(conf), err);
		goto out;
	}
	if (check) {
		printf("chanrac-milter: %s: OK (socket %s)\n", conf_source(conf), sock);
		rc = 0;
		goto out;
	}
	timeout_ms = conf_ms(conf, "milter", "timeout");
	if (smfi_register(milter_desc) == MI_FAILURE) {
		log_err("smfi_register failed");
		goto out;
	}
	if (smfi_setconn((char *)sock) == MI_FAILURE ||
	    smfi_settimeout((int)((timeout_ms + 999) / 1000)) == MI_FAILURE ||
	    smfi_setbacklog((int)conf_int(conf, "milter", "backlog")) == MI_FAILURE) {
		log_err("[milter] socket %s: not usable by libmilter", sock);
		goto out;
	}
	if (smfi_opensocket(1) == MI_FAILURE) {
		log_err("[milter] socket %s: cannot listen (in use, bad address or no permission)",
			sock);
		goto out;
	}
	listener_nodelay();
	user = conf_str(conf, "milter", "user");
	if (unix_path(sock) != NULL &&
	    socket_access(unix_path(sock), conf_str(conf, "milter", "socket_mode"), user, err,
			  sizeof err) < 0) {
		log_err("%s", err);
		goto out;
	}
	if (!fg && (bg || conf_bool(conf, "milter", "daemon"))) {
		int d = daemon_detach(err, sizeof err);
		if (d < 0) {
			log_err("%s", err);
			goto out;
		}
		if (d > 0)
			_exit(0); /* the parent; libmilter's socket is the child's now */
	}
	/* After detaching (threads do not survive fork), before dropping root.
	 * Optional: a failure is logged and mail is checked without metrics. */
	mlisten = conf_str(conf, "milter", "metrics_listen");
	if (mlisten != NULL && *mlisten) {
		metrics = metrics_start(mlisten, milter_metrics, NULL, err, sizeof err);
		if (metrics == NULL)
			log_warn("[milter] metrics_listen: %s; running without metrics", err);
		else
			log_info("metrics on http://%s/metrics", mlisten);
	}
	pidfile = conf_str(conf, "milter", "pid_file");
	if (daemon_write_pid(pidfile, err, sizeof err) < 0 ||
	    daemon_drop_root("milter", user, err, sizeof err) < 0) {
		log_err("%s", err);
		pidfile = NULL;
		goto out;
	}
	if (stats != NULL && stats_start(stats, err, sizeof err) < 0) {
		log_err("%s", err);
		goto out;
	}
	milter_setup(engine, stats, (int)conf_int(conf, "milter", "max_sessions"));
	engine = NULL; /* owned by the callbacks now */
	if (pthread_create(&g_reload_thread, NULL, reload_thread, NULL) == 0)
		reload_started = 1;
	else
		log_warn("no reload thread: SIGUSR1 will be ignored");
	log_info("listening on %s (budget per message from [engine] deadline, max_sessions "
		 "%lld, stats %s)",
		 sock, (long long)conf_int(conf, "milter", "max_sessions"),
		 stats != NULL ? "on" : "off");
	rc = smfi_main() == MI_SUCCESS ? 0 : 1;
	log_info("stopping");
	if (reload_started) {
		g_reload_stop = 1;
		pthread_kill(g_reload_thread, SIGUSR1);
		pthread_join(g_reload_thread, NULL);
	}
	milter_shutdown();
out:
	metrics_stop(metrics);
	stats_free(stats);
	engine_free(engine);
	if (pidfile != NULL && *pidfile)
		unlink(pidfile);
	conf_free(conf);
	return rc;
}
