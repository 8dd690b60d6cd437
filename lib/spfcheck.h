/* spfcheck: SPF (RFC 7208) for the MAIL FROM and HELO identities with libspf2, whose
 * DNS layer is ours: every lookup goes through dnsq (and its shared cache) under the
 * message's deadline.  Thread-safe: each call builds its own libspf2 server. */
#ifndef CHANRAC_SPFCHECK_H
#define CHANRAC_SPFCHECK_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "dnsq.h"

enum spfcheck_result {
	SPFCHECK_NONE = 0,
	SPFCHECK_NEUTRAL,
	SPFCHECK_PASS,
	SPFCHECK_FAIL,
	SPFCHECK_SOFTFAIL,
	SPFCHECK_TEMPERROR,
	SPFCHECK_PERMERROR,
};

#define SPFCHECK_TEXT_MAX 512

struct spfcheck_outcome {
	enum spfcheck_result result;
	/* For fail: the domain's explanation (exp=) or libspf2's default; else "". */
	char explanation[SPFCHECK_TEXT_MAX];
	/* The Received-SPF value (RFC 7208 9.1), e.g. "pass (host.example: domain of
	 * ... designates ... as permitted sender) client-ip=...; ...". */
	char received_spf[SPFCHECK_TEXT_MAX];
};

/* Checks the client against the SPF records of mail_from's domain and of helo.
 * mail_from: the envelope sender without <>; NULL or "" (the null sender) checks
 * postmaster@helo instead (RFC 7208 2.4).  helo: the HELO/EHLO name; an address
 * literal or a name without a dot gives HELO result none.  Either outcome pointer
 * may be NULL to skip that identity.  Lookups share one query set with deadline_ms
 * (absolute, util_mono_ms() time); past it a lookup counts as a DNS timeout, which
 * libspf2 turns into temperror.  0 on success, -1 on bad input (err). */
int spfcheck_run(const dnsq_ctx *dns, const struct cr_addr *client, const char *helo,
		 const char *mail_from, int64_t deadline_ms, struct spfcheck_outcome *mail_from_out,
		 struct spfcheck_outcome *helo_out, char *err, size_t errlen);

/* "none", "neutral", "pass", "fail", "softfail", "temperror", "permerror". */
const char *spfcheck_result_name(enum spfcheck_result r);

#endif
