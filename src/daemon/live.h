/*
 * live - the hijackd daemon: the core, its front ends, incidents and admin surface on one loop
 *
 * SYNOPSIS
 *	int live_main(int argc, char **argv);   hijackd [-c FILE] [-f] [-o name=value]...
 *
 * DESCRIPTION
 *	Loads the configuration, creates state_dir, refuses to start when
 *	another hijackd holds state_dir's lock, opens the core (core.h: the
 *	store, its locks restored into a new engine), the queue purge and the
 *	incidents (its observers), then serves policy requests (policysrv.h,
 *	pfpolicy.h), the followed log (logfront.h), the control socket and
 *	HTTP until SIGTERM or SIGINT. SIGHUP reloads the configuration atomically:
 *	a bad file is refused (file:line logged) and the old one stays; a new
 *	one gets a new engine, with the locks from the store and the counters
 *	carried over from the running engine. Changed counters are written to
 *	the store every counters_flush_interval in one batch, and at a clean
 *	stop; at start-up they are read back. Settings that need a restart (policy_listen,
 *	state_dir, store) are reported and ignored by a reload.
 *
 *	Answers. A request without sasl_username: DUNNO. A locked account:
 *	REJECT reject_text; a throttled one: DEFER_IF_PERMIT defer_text; a
 *	held one (action=hold): HOLD hold_text (accepted, held), at any stage. At END-OF-MESSAGE the message is counted (recipient_count,
 *	size) and judged; if that makes the engine lock or throttle the
 *	account, this very message is refused or deferred, so no account gets
 *	more than its limit through. Every decision is written to the store's
 *	audit trail, and a lock to its locks, before the answer is sent; if
 *	the store fails, the answer is store_error_action (dunno or defer).
 *	The daemon's clock is read here, once per request, and passed in.
 *
 *	Exit status: 0 stopped by a signal; 1 cannot start (state_dir, lock,
 *	store, socket); 2 usage; 3 configuration error.
 */
#ifndef HJ_LIVE_H
#define HJ_LIVE_H

int live_main(int argc, char **argv);

#endif
