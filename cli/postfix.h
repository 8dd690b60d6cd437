/* cli/postfix: Postfix's own commands run for the operator — postsuper to
 * release or delete held messages, postqueue to read the hold queue — without a
 * shell, with validated queue ids and a bounded number of them.  Used by
 * chanrac outbound release --postsuper and chanrac quarantine. */
#ifndef CHANRAC_CLI_POSTFIX_H
#define CHANRAC_CLI_POSTFIX_H

#include <stddef.h>
#include <stdint.h>

/* Queue ids passed to one postsuper run at most (the outbound held list keeps 1000). */
#define POSTFIX_IDS_MAX 1000
/* A queue id's length at most (Postfix long ids are 12-20 characters). */
#define POSTFIX_QID_MAX 32
#define POSTFIX_ADDR_MAX 320
/* Recipients of one message kept for listing; the rest are only counted. */
#define POSTFIX_RCPT_KEEP 20

/* 1 if q is a Postfix/Sendmail queue id: 1..POSTFIX_QID_MAX letters and digits
 * (so never an option). */
int postfix_valid_qid(const char *q);

/* The audit stream's "list" field of chanrac quarantine's entries (not a
 * configured list; their key is a queue id). */
#define QUARANTINE_AUDIT_LIST "quarantine"

/* postsuper [-c DIR] -H ID... moves the messages from the hold queue to the
 * deferred queue, then postqueue [-c DIR] -i ID asks for each one's delivery
 * now.  config_dir NULL or "" leaves it to MAIL_CONFIG / the default.  n <=
 * POSTFIX_IDS_MAX, every id valid.  0 when postsuper exited 0; else -1 with
 * the reason printed, prefixed with what ("quarantine release"). */
int postfix_release(const char *what, const char *config_dir, char **ids, size_t n);
/* postsuper [-c DIR] -d ID... hold: deletes the messages, from the hold queue
 * only.  0 when postsuper exited 0, else -1 (printed). */
int postfix_delete(const char *what, const char *config_dir, char **ids, size_t n);

/* One message of postqueue -j's output (Postfix >= 3.1), strings truncated to
 * their buffers. */
struct postfix_msg {
	char queue_id[POSTFIX_QID_MAX + 1];
	char queue_name[32];  /* hold, deferred, active, incoming, maildrop */
	int64_t arrival;      /* unix seconds */
	char sender[POSTFIX_ADDR_MAX + 1];
	char rcpt[POSTFIX_RCPT_KEEP][POSTFIX_ADDR_MAX + 1];
	size_t nrcpt;         /* recipients in the message; at most POSTFIX_RCPT_KEEP kept */
};
typedef int (*postfix_msg_fn)(void *ud, const struct postfix_msg *m);

/* Runs postqueue [-c DIR] -j and passes every message in queue queue_name
 * (NULL = all) to fn (non-zero from fn stops passing, the output is still
 * drained).  Lines that are not a message object are skipped.  0 when postqueue
 * exited 0, else -1 (printed). */
int postfix_queue_read(const char *what, const char *config_dir, const char *queue_name,
		       postfix_msg_fn fn, void *ud);

#endif
