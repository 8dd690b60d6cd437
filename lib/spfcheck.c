/* spfcheck: libspf2 with a DNS layer of our own (an SPF_dns_server_t whose lookup
 * goes through dnsq), so SPF lookups share the message's deadline and the shared
 * cache, and get dnsq's reply checks instead of libresolv's. */
#include "spfcheck.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <spf2/spf.h>

#include "log.h"
#include "util.h"

/* A TXT record's text is at most one rdata: 65535 octets. */
#define TXT_BUF_LEN 65536
#define NAME_BUF_LEN 256

/* Per call: the message's query set; hangs off SPF_dns_server_t.hook. */
struct spf_dns_hook {
	dnsq_set *set;
	char *txt; /* TXT_BUF_LEN bytes */
};

static pthread_once_t spf_log_once = PTHREAD_ONCE_INIT;

static void spf_log_warning(const char *file, int line, const char *msg)
{
	(void)file;
	(void)line;
	log_warn("spf: %s", msg);
}

static void spf_log_debug(const char *file, int line, const char *msg)
{
	(void)file;
	(void)line;
	log_debug("spf: %s", msg);
}

/* libspf2 prints to stderr by default; send its chatter to our log instead. */
static void spf_log_setup(void)
{
	SPF_warning_handler = spf_log_warning;
	SPF_info_handler = spf_log_debug;
	SPF_debug_handler = spf_log_debug;
}

/* Copies one record's data into libspf2's rr at index i; -1 if it cannot. */
static int rr_put(SPF_dns_rr_t *rr, int i, struct spf_dns_hook *h, const dnsq_query *q,
		  size_t qi, ns_type type)
{
	char name[NAME_BUF_LEN];
	struct cr_addr addr;
	uint32_t v4;
	int n;

	switch (type) {
	case ns_t_a:
		if (dnsq_a(q, qi, &v4) != 0 || SPF_dns_rr_buf_realloc(rr, i, sizeof(struct in_addr)))
			return -1;
		rr->rr[i]->a.s_addr = htonl(v4);
		return 0;
	case ns_t_aaaa:
		if (dnsq_addr(q, qi, &addr) != 0 || addr_is_v4(&addr) ||
		    SPF_dns_rr_buf_realloc(rr, i, sizeof(struct in6_addr)))
			return -1;
		memcpy(&rr->rr[i]->aaaa, addr.b, 16);
		return 0;
	case ns_t_mx:
	case ns_t_ptr:
		n = dnsq_name(q, qi, name, sizeof(name));
		if (n < 0 || SPF_dns_rr_buf_realloc(rr, i, (size_t)n + 1))
			return -1;
		memcpy(type == ns_t_mx ? rr->rr[i]->mx : rr->rr[i]->ptr, name, (size_t)n + 1);
		return 0;
	case ns_t_txt:
	case ns_t_spf:
		n = dnsq_txt(q, qi, h->txt, TXT_BUF_LEN);
		if (n < 0 || SPF_dns_rr_buf_realloc(rr, i, (size_t)n + 1))
			return -1;
		memcpy(rr->rr[i]->txt, h->txt, (size_t)n + 1);
		return 0;
	default:
		return -1;
	}
}

/* The layer's lookup: RFC 7208 5 and 4.4 map rcode 3 to "no such name", any other
 * failure or a timeout to temperror, which libspf2 gets from TRY_AGAIN. */
static SPF_dns_rr_t *spf_dns_lookup(SPF_dns_server_t *server, const char *domain,
				    ns_type type, int should_cache)
{
	struct spf_dns_hook *h = server->hook;
	dnsq_query *q;
	SPF_dns_rr_t *rr;
	size_t i;
	int n = 0;

	(void)should_cache; /* dnsq's cache decides */
	q = dnsq_resolve(h->set, domain, (uint16_t)type);
	if (q == NULL) /* not a valid name: nothing can exist there */
		return SPF_dns_rr_new_init(server, domain, type, 0, HOST_NOT_FOUND);
	switch (dnsq_status(q)) {
	case DNSQ_NOERROR:
		break;
	case DNSQ_NXDOMAIN:
		return SPF_dns_rr_new_init(server, domain, type, (int)dnsq_ttl(q), HOST_NOT_FOUND);
	default:
		return SPF_dns_rr_new_init(server, domain, type, 0, TRY_AGAIN);
	}
	rr = SPF_dns_rr_new_init(server, domain, type, (int)dnsq_ttl(q), NETDB_SUCCESS);
	if (rr == NULL)
		return NULL;
	for (i = 0; i < dnsq_count(q) && n < 1000; i++)
		if (rr_put(rr, n, h, q, i, type) == 0)
			n++;
	rr->num_rr = n;
	if (n == 0)
		rr->herrno = NO_DATA;
	return rr;
}

/* libspf2 answers a record that does not compile with SPF_E_NOT_SPF and no result,
 * as it does when there is no record; the compile error among the messages tells them
 * apart (RFC 7208 4.6: a syntax error is permerror). */
static int has_error_besides_not_spf(SPF_response_t *resp)
{
	int i;

	for (i = 0; i < SPF_response_messages(resp); i++) {
		SPF_error_t *e = SPF_response_message(resp, i);
		if (SPF_error_errorp(e) && SPF_error_code(e) != SPF_E_NOT_SPF)
			return 1;
	}
	return 0;
}

static enum spfcheck_result map_result(SPF_response_t *resp, SPF_errcode_t code)
{
	switch (SPF_response_result(resp)) {
	case SPF_RESULT_NEUTRAL:
		return SPFCHECK_NEUTRAL;
	case SPF_RESULT_PASS:
		return SPFCHECK_PASS;
	case SPF_RESULT_FAIL:
		return SPFCHECK_FAIL;
	case SPF_RESULT_SOFTFAIL:
		return SPFCHECK_SOFTFAIL;
	case SPF_RESULT_NONE:
		return SPFCHECK_NONE;
	case SPF_RESULT_TEMPERROR:
		return SPFCHECK_TEMPERROR;
	case SPF_RESULT_PERMERROR:
		return SPFCHECK_PERMERROR;
	case SPF_RESULT_INVALID:
		break;
	}
	/* libspf2 returns early without a result when fetching the record failed */
	if (code == SPF_E_DNS_ERROR)
		return SPFCHECK_TEMPERROR;
	if (code == SPF_E_NOT_SPF && has_error_besides_not_spf(resp))
		return SPFCHECK_PERMERROR;
	if (code == SPF_E_NOT_SPF || code == SPF_E_SUCCESS)
		return SPFCHECK_NONE;
	return SPFCHECK_PERMERROR;
}

const char *spfcheck_result_name(enum spfcheck_result r)
{
	switch (r) {
	case SPFCHECK_NONE:
		return "none";
	case SPFCHECK_NEUTRAL:
		return "neutral";
	case SPFCHECK_PASS:
		return "pass";
	case SPFCHECK_FAIL:
		return "fail";
	case SPFCHECK_SOFTFAIL:
		return "softfail";
	case SPFCHECK_TEMPERROR:
		return "temperror";
	case SPFCHECK_PERMERROR:
		return "permerror";
	}
	return "?";
}

/* A HELO name SPF can check: a domain with a dot, not an address literal. */
static int helo_checkable(const char *helo)
{
	struct cr_addr a;

	return helo != NULL && helo[0] != '\0' && helo[0] != '[' && strchr(helo, '.') != NULL &&
	       addr_parse(helo, &a, NULL, 0) != 0 && strlen(helo) <= 253;
}

static void outcome_none(struct spfcheck_outcome *o, const char *why)
{
	o->result = SPFCHECK_NONE;
	o->explanation[0] = '\0';
	snprintf(o->received_spf, sizeof(o->received_spf), "none (%s)", why);
}

/* One identity: sender is "local@domain" or a bare domain; use_helo selects §2.3. */
static int check_identity(SPF_server_t *spf, const struct cr_addr *client, const char *helo,
			  const char *sender, struct spfcheck_outcome *o, char *err, size_t errlen)
{
	SPF_request_t *req = SPF_request_new(spf);
	SPF_response_t *resp = NULL;
	SPF_errcode_t code;
	const char *text;
	int rc = 0;

	if (req == NULL) {
		util_errf(err, errlen, "spf: out of memory");
		return -1;
	}
	if (addr_is_v4(client)) {
		struct in_addr in;
		in.s_addr = htonl(addr_to_v4(client));
		SPF_request_set_ipv4(req, in);
	} else {
		struct in6_addr in6;
		memcpy(&in6, client->b, 16);
		SPF_request_set_ipv6(req, in6);
	}
	/* helo first: an empty sender then becomes postmaster@helo (RFC 7208 2.4) */
	if ((helo != NULL && helo[0] != '\0' && SPF_request_set_helo_dom(req, helo) != 0) ||
	    SPF_request_set_env_from(req, sender) != 0) {
		util_errf(err, errlen, "spf: cannot use sender \"%.200s\"", sender);
		SPF_request_free(req);
		return -1;
	}
	code = SPF_request_query_mailfrom(req, &resp);
	if (resp == NULL) {
		util_errf(err, errlen, "spf: out of memory");
		rc = -1;
		goto out;
	}
	o->result = map_result(resp, code);
	o->explanation[0] = '\0';
	o->received_spf[0] = '\0';
	if (o->result == SPFCHECK_FAIL && (text = SPF_response_get_explanation(resp)) != NULL)
		util_strlcpy(o->explanation, text, sizeof(o->explanation));
	if ((text = SPF_response_get_received_spf_value(resp)) != NULL)
		util_strlcpy(o->received_spf, text, sizeof(o->received_spf));
	else
		snprintf(o->received_spf, sizeof(o->received_spf), "%s (%s)",
			 spfcheck_result_name(o->result), SPF_strerror(code));
	SPF_response_free(resp);
out:
	SPF_request_free(req);
	return rc;
}

int spfcheck_run(const dnsq_ctx *dns, const struct cr_addr *client, const char *helo,
		 const char *mail_from, int64_t deadline_ms, struct spfcheck_outcome *mail_from_out,
		 struct spfcheck_outcome *helo_out, char *err, size_t errlen)
{
	struct spf_dns_hook hook;
	SPF_dns_server_t *layer;
	SPF_server_t *spf;
	char sender[600];
	int rc = 0;

	if (dns == NULL || client == NULL) {
		util_errf(err, errlen, "spf: no DNS context or client address");
		return -1;
	}
	if (mail_from != NULL && strcmp(mail_from, "<>") == 0)
		mail_from = "";
	if (mail_from != NULL && strlen(mail_from) >= sizeof(sender) - 12) {
		util_errf(err, errlen, "spf: sender too long (%zu bytes)", strlen(mail_from));
		return -1;
	}
	pthread_once(&spf_log_once, spf_log_setup);

	hook.set = dnsq_set_new(dns, deadline_ms);
	hook.txt = malloc(TXT_BUF_LEN);
	layer = calloc(1, sizeof(*layer));
	if (hook.set == NULL || hook.txt == NULL || layer == NULL) {
		free(layer);
		free(hook.txt);
		dnsq_set_free(hook.set);
		util_errf(err, errlen, "spf: out of memory");
		return -1;
	}
	/* No destructor: libspf2 then leaves the layer to us (Debian's SPF_server_free
	 * never frees a layer given to SPF_server_new_dns, upstream's would). */
	layer->destroy = NULL;
	layer->lookup = spf_dns_lookup;
	layer->name = "chanrac-dnsq";
	layer->hook = &hook;
	spf = SPF_server_new_dns(layer, 0);
	if (spf == NULL) {
		free(layer);
		free(hook.txt);
		dnsq_set_free(hook.set);
		util_errf(err, errlen, "spf: out of memory");
		return -1;
	}

	if (mail_from_out != NULL) {
		if (mail_from != NULL && mail_from[0] != '\0')
			snprintf(sender, sizeof(sender), "%s", mail_from);
		else if (helo_checkable(helo))
			snprintf(sender, sizeof(sender), "postmaster@%s", helo);
		else
			sender[0] = '\0';
		if (sender[0] == '\0' || strchr(sender, '@') == sender + strlen(sender) - 1)
			outcome_none(mail_from_out, "no domain to check");
		else if (check_identity(spf, client, helo_checkable(helo) ? helo : NULL, sender,
					mail_from_out, err, errlen) != 0)
			rc = -1;
	}
	if (rc == 0 && helo_out != NULL) {
		if (!helo_checkable(helo)) {
			outcome_none(helo_out, "HELO is not a domain name");
		} else {
			snprintf(sender, sizeof(sender), "postmaster@%s", helo);
			if (check_identity(spf, client, helo, sender, helo_out, err, errlen) != 0)
				rc = -1;
		}
	}
	SPF_server_free(spf);
	free(layer);
	free(hook.txt);
	dnsq_set_free(hook.set);
	return rc;
}
