/* fuzz_msg: one message through lib/msg.c — headers (folding, RFC 2047), the MIME
 * tree, charsets, HTML rendering, URLs and addresses — whole (msg_parse_buffer)
 * and streamed in uneven chunks with small limits (msg_header_n/msg_body/msg_end),
 * then every result is read back.  The parsed message then goes through what the
 * engine does with its text: the advertising checks (lib/advert.c: subject label,
 * folding, signals, layout, List-Unsubscribe) and the spam-template fingerprint
 * (lib/fingerprint.c, whose text form must read back the same). */
#include "advert.h"
#include "fingerprint.h"
#include "fuzz.h"
#include "msg.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

static void read_back(const cr_msg *m)
{
	size_t n, i, len;
	const char *t;
	struct msg_mailbox mb[8];

	n = msg_header_total(m);
	for (i = 0; i < n; i++) {
		const struct msg_header_field *h = msg_header_at(m, i);
		FUZZ_ASSERT(h != NULL && h->name != NULL && h->value != NULL && h->raw != NULL);
		(void)strlen(h->value);
	}
	(void)msg_subject(m);
	(void)msg_header_addresses(m, "to", mb, 8);
	(void)msg_from_domain(m);
	n = msg_part_count(m);
	for (i = 0; i < n; i++) {
		const struct msg_part *p = msg_part_at(m, i);
		FUZZ_ASSERT(p != NULL && p->content_type != NULL && p->charset != NULL);
		FUZZ_ASSERT(i == 0 ? p->parent == -1 : p->parent >= 0 && (size_t)p->parent < i);
		if (p->text != NULL)
			FUZZ_ASSERT(strlen(p->text) <= p->text_len);
	}
	t = msg_text(m, &len);
	FUZZ_ASSERT(t != NULL && strlen(t) <= len);
	n = msg_url_count(m);
	for (i = 0; i < n; i++) {
		const struct msg_url *u = msg_url_at(m, i);
		FUZZ_ASSERT(u != NULL && u->url != NULL && u->host != NULL);
	}
	n = msg_email_count(m);
	for (i = 0; i < n; i++)
		FUZZ_ASSERT(msg_email_at(m, i) != NULL);
	(void)msg_body_raw(m, &len);
}

static void engine_checks(const cr_msg *m)
{
	const char *text, *subj = msg_subject(m);
	size_t len, flen = 0;
	char *folded, buf[256], enc[FINGERPRINT_TEXT_LEN + 1];
	struct advert_label label;
	struct advert_signals sig;
	struct advert_layout lay;
	struct advert_unsub un;
	struct fingerprint fp, back;

	advert_subject_label(subj ? subj : "", msg_header_count(m, "in-reply-to") > 0, &label);
	FUZZ_ASSERT(strlen(label.text) < sizeof label.text);
	text = msg_text(m, &len);
	folded = advert_fold(text, len, &flen);
	FUZZ_ASSERT(folded != NULL && strlen(folded) <= flen);
	advert_signals(m, folded, &sig);
	(void)advert_is_advertising(&sig, 3);
	advert_layout(folded, flen, m, &lay);
	advert_block_missing(&lay, buf, sizeof buf);
	advert_optout_missing(&lay, buf, sizeof buf);
	free(folded);
	advert_unsub_check(msg_header_value(m, "list-unsubscribe", 0),
			   msg_header_count(m, "list-unsubscribe"),
			   msg_header_value(m, "list-unsubscribe-post", 0),
			   msg_header_count(m, "list-unsubscribe-post"), &un);
	if (fingerprint_text(text, len, 5, &fp) == 0) {
		fingerprint_encode(&fp, enc);
		FUZZ_ASSERT(fingerprint_decode(enc, strlen(enc), &back) == 0);
		FUZZ_ASSERT(memcmp(fp.h, back.h, sizeof fp.h) == 0);
		FUZZ_ASSERT(fingerprint_similarity(&fp, &back) == 1.0);
	}
	(void)fingerprint_normalise(text, len, buf, sizeof buf);
}

/* Streams the message as the milter does: header fields split at the first
 * colon of each line (continuations joined), then the body in chunks of a size
 * taken from the first byte. */
static void streamed(const uint8_t *data, size_t size)
{
	struct msg_limits lim;
	cr_msg *m;
	size_t i = 0, chunk = size ? (size_t)data[0] % 61 + 1 : 1;
	const char *s = (const char *)data;

	memset(&lim, 0, sizeof lim);
	lim.max_depth = 3;
	lim.max_parts = 8;
	lim.max_scan_bytes = 4096;
	lim.max_header_bytes = 2048;
	lim.max_urls = 4;
	lim.max_addresses = 4;
	m = msg_new(&lim);
	FUZZ_ASSERT(m != NULL);
	while (i < size) {
		size_t start = i, colon = 0, end;
		while (i < size && s[i] != '\n') {
			if (colon == 0 && s[i] == ':')
				colon = i;
			i++;
		}
		end = i;
		while (end + 1 < size && (s[end + 1] == ' ' || s[end + 1] == '\t')) {
			end++;
			while (end < size && s[end] != '\n')
				end++;
		}
		if (colon == 0 || start == end) {
			i = end < size ? end + 1 : size;
			break;
		}
		msg_header_n(m, s + start, colon - start, s + colon + 1, end - colon - 1);
		i = end < size ? end + 1 : size;
	}
	while (i < size) {
		size_t n = size - i < chunk ? size - i : chunk;
		msg_body(m, s + i, n);
		i += n;
	}
	FUZZ_ASSERT(msg_end(m) == 0);
	read_back(m);
	msg_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	cr_msg *m;
	struct msg_mailbox mb[4];
	char *s;

	if (size > (1u << 20))
		return 0;
	m = msg_parse_buffer(data, size, NULL, err, sizeof err);
	FUZZ_ASSERT(m != NULL);
	read_back(m);
	engine_checks(m);
	msg_free(m);
	streamed(data, size);
	s = fuzz_strdup(data, size > 4096 ? 4096 : size);
	(void)msg_parse_addresses(s, mb, 4);
	free(s);
	return 0;
}
