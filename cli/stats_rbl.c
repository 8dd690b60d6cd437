/* chanrac stats rbl: chanrac-rbld's per-zone counters (queries, listed, NXDOMAIN,
 * NODATA, refused, FORMERR, rate-limited, TCP, truncated), read from its status
 * socket ([rbld] status_socket; format in doc/chanrac-rbld.md). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli.h"
#include "json.h"
#include "util.h"

#define STATUS_READ_MAX (1 << 20)
#define STATUS_TIMEOUT_MS 3000
#define ZONE_NAME_MAX 256

/* Counters of one "zone" line, in the order they are printed. */
static const char *const counter_names[] = {
	"queries", "listed", "nxdomain", "nodata", "refused",
	"formerr", "ratelimited", "tcp", "truncated",
};
#define NCOUNTERS (sizeof counter_names / sizeof counter_names[0])

struct zone_line {
	char name[ZONE_NAME_MAX];
	unsigned long long v[NCOUNTERS];
};

struct status {
	unsigned long long gen, serial;
	char redis[16];
	struct zone_line *zones; /* the "*" total is the last one */
	size_t nzones;
};

/* Reads everything the server sends on one connection; NULL with *why set. */
static char *status_fetch(const char *path, const char **why)
{
	struct sockaddr_un sun;
	char *buf = NULL;
	size_t len = 0;
	int64_t deadline = util_mono_ms() + STATUS_TIMEOUT_MS;
	int fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		*why = "path too long";
		return NULL;
	}
	memcpy(sun.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof sun) < 0) {
		*why = strerror(errno);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	buf = malloc(STATUS_READ_MAX + 1);
	if (buf == NULL) {
		*why = "out of memory";
		close(fd);
		return NULL;
	}
	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		int64_t left = deadline - util_mono_ms();
		ssize_t r;

		if (left <= 0 || poll(&p, 1, (int)left) <= 0) {
			*why = "no answer in time";
			goto fail;
		}
		r = read(fd, buf + len, STATUS_READ_MAX - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			*why = strerror(errno);
			goto fail;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len == STATUS_READ_MAX) {
			*why = "answer too long";
			goto fail;
		}
	}
	close(fd);
	buf[len] = '\0';
	return buf;
fail:
	close(fd);
	free(buf);
	return NULL;
}

static int parse_u64(const char *s, unsigned long long *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno || *end ? -1 : 0;
}

/* Parses the status text; -1 with the offending line in *bad. */
static int status_parse(char *text, struct status *st, const char **bad)
{
	char *save = NULL, *line;
	int have_data = 0;

	memset(st, 0, sizeof *st);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *ws = NULL, *w = strtok_r(line, " ", &ws);

		*bad = line;
		if (w == NULL)
			continue;
		if (strcmp(w, "data") == 0) {
			while ((w = strtok_r(NULL, " ", &ws)) != NULL) {
				if (strncmp(w, "gen=", 4) == 0) {
					if (parse_u64(w + 4, &st->gen) < 0)
						return -1;
				} else if (strncmp(w, "serial=", 7) == 0) {
					if (parse_u64(w + 7, &st->serial) < 0)
						return -1;
				} else if (strncmp(w, "redis=", 6) == 0) {
					util_strlcpy(st->redis, w + 6, sizeof st->redis);
				}
			}
			have_data = 1;
		} else if (strcmp(w, "zone") == 0) {
			struct zone_line *z, *nz;
			char *name = strtok_r(NULL, " ", &ws);

			if (name == NULL || strlen(name) >= ZONE_NAME_MAX)
				return -1;
			nz = realloc(st->zones, (st->nzones + 1) * sizeof *nz);
			if (nz == NULL)
				return -1;
			st->zones = nz;
			z = &st->zones[st->nzones++];
			memset(z, 0, sizeof *z);
			util_strlcpy(z->name, name, sizeof z->name);
			while ((w = strtok_r(NULL, " ", &ws)) != NULL) {
				char *eq = strchr(w, '=');
				size_t k;

				if (eq == NULL)
					return -1;
				*eq = '\0';
				for (k = 0; k < NCOUNTERS; k++)
					if (strcmp(w, counter_names[k]) == 0)
						break;
				/* unknown counters (a newer server) are skipped */
				if (k < NCOUNTERS && parse_u64(eq + 1, &z->v[k]) < 0)
					return -1;
			}
		}
		/* other record types (a newer server) are skipped */
	}
	*bad = "(no \"data\" line)";
	return have_data && st->nzones > 0 ? 0 : -1;
}

static void usage_rbl(void)
{
	cli_err("usage: chanrac stats rbl [--zone NAME] [--socket PATH] [--json]");
}

int cli_cmd_stats_rbl(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "zone", required_argument, NULL, 'z' },
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "config", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	const char *zone = NULL, *path = NULL, *why = NULL, *bad = NULL;
	struct status st;
	char *text;
	size_t i, k, shown = 0;
	int ch;

	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":c:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'z': zone = optarg; break;
		case 's': path = optarg; break;
		case 'j': case 'c': break;
		case ':':
			cli_err("stats rbl: option %s needs a value", argv[optind - 1]);
			return CLI_BADINPUT;
		default:
			cli_err("stats rbl: unknown option '%s'", argv[optind - 1]);
			usage_rbl();
			return CLI_BADINPUT;
		}
	}
	if (optind != argc) {
		cli_err("stats rbl: unexpected argument '%s'", argv[optind]);
		usage_rbl();
		return CLI_BADINPUT;
	}
	if (path == NULL)
		path = conf_str(cli->conf, "rbld", "status_socket");
	if (path == NULL || *path == '\0') {
		cli_err("stats rbl: [rbld] status_socket is not set in %s (or give --socket PATH)",
			cli->conf_path ? cli->conf_path : "the configuration");
		return CLI_BADINPUT;
	}
	text = status_fetch(path, &why);
	if (text == NULL) {
		cli_err("stats rbl: status socket %s: %s (is chanrac-rbld running?)", path, why);
		return CLI_UNAVAIL;
	}
	if (status_parse(text, &st, &bad) < 0) {
		cli_err("stats rbl: status socket %s: unexpected answer near \"%.80s\"", path,
			bad ? bad : "");
		free(st.zones);
		free(text);
		return CLI_UNAVAIL;
	}
	if (zone != NULL) {
		for (i = 0; i < st.nzones; i++)
			if (strcasecmp(st.zones[i].name, zone) == 0)
				break;
		if (i == st.nzones) {
			cli_err("stats rbl: zone %s: not served by this chanrac-rbld", zone);
			free(st.zones);
			free(text);
			return CLI_NOTFOUND;
		}
	}
	if (cli->json) {
		printf("{\"data_gen\":%llu,\"serial\":%llu,\"redis\":", st.gen, st.serial);
		json_write_str(stdout, st.redis);
		fputs(",\"zones\":[", stdout);
	} else {
		printf("data generation %llu, SOA serial %llu, redis %s\n", st.gen, st.serial,
		       st.redis[0] ? st.redis : "-");
		printf("%-24s", "zone");
		for (k = 0; k < NCOUNTERS; k++)
			printf(" %12s", counter_names[k]);
		fputc('\n', stdout);
	}
	for (i = 0; i < st.nzones; i++) {
		const struct zone_line *z = &st.zones[i];
		int total = strcmp(z->name, "*") == 0;

		if (zone != NULL && strcasecmp(z->name, zone) != 0)
			continue;
		if (cli->json) {
			if (shown++)
				fputc(',', stdout);
			fputc('{', stdout);
			json_write_key(stdout, "zone");
			json_write_str(stdout, z->name);
			fputs(total ? ",\"total\":true" : ",\"total\":false", stdout);
			for (k = 0; k < NCOUNTERS; k++) {
				fputc(',', stdout);
				json_write_key(stdout, counter_names[k]);
				printf("%llu", z->v[k]);
			}
			fputc('}', stdout);
		} else {
			printf("%-24s", total ? "(all)" : z->name);
			for (k = 0; k < NCOUNTERS; k++)
				printf(" %12llu", z->v[k]);
			fputc('\n', stdout);
		}
	}
	if (cli->json)
		fputs("]}\n", stdout);
	free(st.zones);
	free(text);
	return CLI_OK;
}
