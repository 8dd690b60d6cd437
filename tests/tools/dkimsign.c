/* dkimsign: signs a test message with libopendkim (rsa-sha256, relaxed/relaxed, or
 * simple/simple when DKIMSIGN_CANON=simple) and prints it with the DKIM-Signature
 * field first.  For the advertising corpus
 * (tests/corpus/advert), whose keys tests/tools/fakedns serves.
 *
 *   dkimsign KEY.pem SELECTOR DOMAIN [HEADER,HEADER,...] < in.eml > out.eml
 *
 * The optional list names the header fields to sign (h=); default: From, To,
 * Subject, Date, Message-ID, List-Unsubscribe, List-Unsubscribe-Post.  Only fields
 * present in the message are signed.  A fixed signing time (t=) keeps the output
 * reproducible. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <opendkim/dkim.h>

#define MAX_IN (4u << 20)
#define MAX_HDRS 64

static char *read_all(FILE *f, size_t *len)
{
	char *buf = malloc(MAX_IN + 1);
	size_t n;

	if (buf == NULL)
		return NULL;
	n = fread(buf, 1, MAX_IN, f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

int main(int argc, char **argv)
{
	const char *hdrs[MAX_HDRS + 1] = { "From", "To", "Subject", "Date", "Message-ID",
					   "List-Unsubscribe", "List-Unsubscribe-Post", NULL };
	char *keybuf, *msg, *list = NULL, *p, *body, *field;
	size_t keylen, msglen;
	unsigned int flags = DKIM_LIBFLAGS_FIXCRLF;
	uint64_t fixed = 1764633600; /* 2025-12-02 00:00 UTC */
	DKIM_LIB *lib;
	DKIM *dkim;
	DKIM_STAT st;
	dkim_canon_t canon;
	FILE *kf;
	u_char *sig;
	size_t siglen;

	if (argc != 4 && argc != 5) {
		fprintf(stderr, "usage: dkimsign KEY.pem SELECTOR DOMAIN [HEADER,...] < in > out\n");
		return 2;
	}
	kf = fopen(argv[1], "r");
	if (kf == NULL) {
		fprintf(stderr, "dkimsign: cannot read %s\n", argv[1]);
		return 2;
	}
	keybuf = read_all(kf, &keylen);
	fclose(kf);
	msg = read_all(stdin, &msglen);
	if (keybuf == NULL || msg == NULL) {
		fprintf(stderr, "dkimsign: out of memory\n");
		return 2;
	}
	if (argc == 5) {
		size_t n = 0;
		list = strdup(argv[4]);
		for (p = strtok(list, ","); p != NULL && n < MAX_HDRS; p = strtok(NULL, ","))
			hdrs[n++] = p;
		hdrs[n] = NULL;
	}
	lib = dkim_init(NULL, NULL);
	if (lib == NULL ||
	    dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags, sizeof(flags)) != 0 ||
	    dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_SIGNHDRS, hdrs, sizeof(char **)) != 0 ||
	    dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_FIXEDTIME, &fixed, sizeof(fixed)) != 0) {
		fprintf(stderr, "dkimsign: libopendkim setup failed\n");
		return 1;
	}
	canon = getenv("DKIMSIGN_CANON") != NULL && strcmp(getenv("DKIMSIGN_CANON"), "simple") == 0
			? DKIM_CANON_SIMPLE
			: DKIM_CANON_RELAXED;
	dkim = dkim_sign(lib, (const u_char *)"dkimsign", NULL, (dkim_sigkey_t)keybuf,
			 (const u_char *)argv[2], (const u_char *)argv[3], canon, canon,
			 DKIM_SIGN_RSASHA256, -1, &st);
	if (dkim == NULL) {
		fprintf(stderr, "dkimsign: dkim_sign: %s\n", dkim_getresultstr(st));
		return 1;
	}
	field = malloc(2 * msglen + 1);
	if (field == NULL) {
		fprintf(stderr, "dkimsign: out of memory\n");
		return 2;
	}
	/* header fields: a line starting with WSP continues the previous one */
	body = strstr(msg, "\n\n");
	if (body == NULL) {
		fprintf(stderr, "dkimsign: no empty line after the header\n");
		return 2;
	}
	body += 2;
	for (p = msg; p < body - 1;) {
		char *end = p;
		for (;;) {
			char *nl = strchr(end, '\n');
			end = nl;
			if (nl == NULL || nl >= body - 2 || (nl[1] != ' ' && nl[1] != '\t'))
				break;
			end = nl + 1;
		}
		if (end == NULL)
			break;
		/* on the wire a folded field's line breaks are CRLF ("simple" header
		 * canonicalisation hashes them as they are): the corpus files use LF */
		size_t fl = 0;
		for (char *q = p; q < end; q++) {
			if (*q == '\n' && (q == p || q[-1] != '\r'))
				field[fl++] = '\r';
			field[fl++] = *q;
		}
		st = dkim_header(dkim, (u_char *)field, fl);
		if (st != DKIM_STAT_OK) {
			fprintf(stderr, "dkimsign: dkim_header: %s\n", dkim_getresultstr(st));
			return 1;
		}
		p = end + 1;
	}
	if ((st = dkim_eoh(dkim)) != DKIM_STAT_OK ||
	    (st = dkim_body(dkim, (u_char *)body, msglen - (size_t)(body - msg))) != DKIM_STAT_OK ||
	    (st = dkim_eom(dkim, NULL)) != DKIM_STAT_OK ||
	    (st = dkim_getsighdr_d(dkim, strlen("DKIM-Signature: "), &sig, &siglen)) !=
		    DKIM_STAT_OK) {
		fprintf(stderr, "dkimsign: %s\n", dkim_getresultstr(st));
		return 1;
	}
	/* libopendkim folds with CRLF; the corpus files use LF */
	printf("DKIM-Signature: ");
	for (size_t i = 0; i < siglen; i++)
		if (sig[i] != '\r')
			putchar(sig[i]);
	printf("\n");
	fwrite(msg, 1, msglen, stdout);
	dkim_free(dkim);
	dkim_close(lib);
	free(list);
	free(keybuf);
	free(msg);
	free(field);
	return 0;
}
