/* null_milter: the cheapest useful libmilter filter, as a reference for
 * bench/postfix_bench.sh — it asks for every step chanrac-milter asks for
 * (connect, HELO, MAIL, RCPT, DATA, each header, end of headers, body, end of
 * message), answers "continue" at once, and adds one header field at the end
 * of each message.  What it costs Postfix is the floor any libmilter filter
 * pays before doing any work.  Like chanrac-milter it sets TCP_NODELAY on its
 * listening socket and does not skip DATA (see milter/main.c listener_nodelay
 * and cb_negotiate): without that, any filter that adds a header waits ~40 ms
 * per message for delayed ACKs.  Built by the benchmark itself:
 *   cc -O2 -o null_milter bench/null_milter.c -lmilter -lpthread
 *   usage: null_milter inet:PORT@127.0.0.1 */
#include <libmilter/mfapi.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <sys/socket.h>

static sfsistat on_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *addr)
{
	(void)ctx, (void)host, (void)addr;
	return SMFIS_CONTINUE;
}

static sfsistat on_helo(SMFICTX *ctx, char *helo)
{
	(void)ctx, (void)helo;
	return SMFIS_CONTINUE;
}

static sfsistat on_env(SMFICTX *ctx, char **argv)
{
	(void)ctx, (void)argv;
	return SMFIS_CONTINUE;
}

static sfsistat on_header(SMFICTX *ctx, char *name, char *value)
{
	(void)ctx, (void)name, (void)value;
	return SMFIS_CONTINUE;
}

static sfsistat on_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	(void)ctx, (void)chunk, (void)len;
	return SMFIS_CONTINUE;
}

static sfsistat on_step(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_CONTINUE;
}

static sfsistat on_eom(SMFICTX *ctx)
{
	smfi_addheader(ctx, "X-Null-Milter", "seen");
	return SMFIS_CONTINUE;
}

/* TCP_NODELAY on every listening TCP socket (libmilter's); accepted
 * connections inherit it on Linux. */
static void listener_nodelay(void)
{
	for (int fd = 0; fd < 1024; fd++) {
		int v = 0, one = 1;
		socklen_t len = sizeof v;

		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) == 0 && v)
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	}
}

int main(int argc, char **argv)
{
	struct smfiDesc desc = {
		.xxfi_name = "null_milter",
		.xxfi_version = SMFI_VERSION,
		.xxfi_flags = SMFIF_ADDHDRS,
		.xxfi_connect = on_connect,
		.xxfi_helo = on_helo,
		.xxfi_envfrom = on_env,
		.xxfi_envrcpt = on_env,
		.xxfi_header = on_header,
		.xxfi_eoh = on_step,
		.xxfi_body = on_body,
		.xxfi_eom = on_eom,
		.xxfi_abort = on_step,
		.xxfi_close = on_step,
		.xxfi_data = on_step,
	};

	if (argc != 2) {
		fprintf(stderr, "usage: null_milter inet:PORT@ADDRESS\n");
		return 2;
	}
	if (smfi_setconn(argv[1]) == MI_FAILURE || smfi_register(desc) == MI_FAILURE ||
	    smfi_opensocket(1) == MI_FAILURE) {
		fprintf(stderr, "null_milter: cannot listen on %s\n", argv[1]);
		return 1;
	}
	listener_nodelay();
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
