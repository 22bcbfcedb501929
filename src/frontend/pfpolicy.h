/*
 * pfpolicy - the Postfix policy front end: a policy request in, the core's verdict out as an action
 *
 * SYNOPSIS
 *	pfpolicy *pfpolicy_new(core *C);
 *	size_t pfpolicy_answer(void *pp, const policy_req *rq, char *out, size_t outlen);
 *	const char *pfpolicy_fail_reply(int action);
 *	void pfpolicy_counts(const pfpolicy *pp, void (*fn)(void *ctx, const char *stage,
 *	                     const char *answer, int64_t n), void *ctx);
 *	void pfpolicy_free(pfpolicy *pp);
 *
 * DESCRIPTION
 *	pfpolicy_answer() is the policysrv callback. A request without
 *	sasl_username is not hijackd's business (DUNNO). Any other is a
 *	core_msg for the core: counted at the counting stage
 *	(policy_count_stage: END-OF-MESSAGE, or RCPT with one recipient per
 *	request and "instance" as the transaction), only checked at the
 *	others. The verdict becomes Postfix's action through one table:
 *	OK and WARN -> DUNNO, DEFER -> DEFER_IF_PERMIT + defer_text,
 *	HOLD -> HOLD + hold_text (access(5): the message is accepted and put
 *	in the hold queue; at RCPT, HOLD holds the whole message),
 *	REJECT -> REJECT + reject_text, FAIL -> store_error_action (DUNNO,
 *	or DEFER 4.3.0). An answer that does not fit is an internal error,
 *	answered with internal_error_action. pfpolicy_fail_reply() is the
 *	text of a failure action (also policysrv's reply to a malformed
 *	request).
 *
 *	Every answer is counted by the protocol stage and the action chosen
 *	(fixed tables: no allocation on the policy path) for /metrics.
 *	Single-threaded (the daemon's loop).
 */
#ifndef HJ_PFPOLICY_H
#define HJ_PFPOLICY_H

#include <stddef.h>
#include <stdint.h>

#include "../core/core.h"
#include "../postfix/policy.h"

typedef struct pfpolicy pfpolicy;

pfpolicy *pfpolicy_new(core *C);
size_t pfpolicy_answer(void *pp, const policy_req *rq, char *out, size_t outlen);
const char *pfpolicy_fail_reply(int action);
void pfpolicy_counts(const pfpolicy *pp,
                     void (*fn)(void *ctx, const char *stage, const char *answer, int64_t n),
                     void *ctx);
void pfpolicy_free(pfpolicy *pp);

#endif
