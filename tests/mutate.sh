#!/bin/bash
# mutate.sh [--check | --build-only] [NAME...] - does the fast suite catch planted bugs?
#
# Each mutation below is one exact-string replacement in one product file (src/...): a bug
# in a behaviour that matters. The tree (git ls-files of this work tree) is copied once into
# a temporary directory and built there (make -s -j2 all tests); then for each mutation the
# file is mutated, rebuilt, the fast suite (tests/run.sh build --no-e2e) run under a timeout,
# and the file written back. The real tree is never touched.
#
# The pristine tree's fast suite runs first (the baseline); a check already failing there is
# reported and ignored for the mutations (the run then exits 1 whatever they give;
# MUTATE_BASELINE=0 skips the baseline, for trying one mutation quickly). A check known to be
# flaky can be set aside with MUTATE_IGNORE (an extended regex on the check lines): it is
# ignored everywhere and named in the output.
# A mutation is caught at the first failing check ("FAILED ..." / "not ok ...") that the
# baseline did not fail: the suite is stopped there, and run once more to confirm the same
# check fails first again (else FLAKY: a flaky check; MUTATE_CONFIRM=0 skips the second run).
# It survived if the suite finishes with no new failure. STALE: its text does not occur exactly once in its file (the table has
# rotted); NOBUILD: the mutated tree does not compile. Both are failures of this script.
#
#   --check       only check that every mutation's text occurs exactly once (no build; TAP:
#                 "1..N", then "ok - NAME" or "not ok - NAME: STALE: ...")
#   --build-only  apply, build and restore every mutation (no suite run)
#   NAME...       only these mutations
#
# Prints one line per mutation "caught|SURVIVED|FLAKY|STALE|NOBUILD  NAME  first failing check",
# then a markdown table (tests/README.md) and "N caught, N survived". Exit status 0 only if
# every mutation was caught (and the baseline was green).
# Environment: MUTATE_TIMEOUT (seconds per suite run, 600), MUTATE_LOGS (a directory that
# keeps each run's output), HIJACKD_SHARED (as for run.sh; default ../shared of this tree).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd -P)
LIMIT=${MUTATE_TIMEOUT:-600}
export HIJACKD_SHARED=${HIJACKD_SHARED:-$(cd "$ROOT/.." && pwd -P)/shared}

NAMES=() FILES=() OLDS=() NEWS=() WHATS=()
m() { # NAME FILE OLD NEW WHAT
	NAMES+=("$1") FILES+=("$2") OLDS+=("$3") NEWS+=("$4") WHATS+=("$5")
}

# ---------------------------------------------------------------- the mutations
# detection: rules, windows, what is counted
m rule_limit src/engine/engine.c \
	'if (n <= limit)' 'if (n < limit)' \
	'a rule fires at its limit, not above it'
m window_expiry src/engine/window.c \
	'if (o->t0 + g - 1 > t - span)' 'if (o->t0 + g - 1 >= t - span)' \
	'the sliding window keeps events exactly one window old'
m qmgr_nrcpt src/postfix/qtrack.c \
	'm->nrcpt = r->nrcpt;' 'm->nrcpt = 1;' \
	'a logged message counts one recipient whatever its nrcpt'
m policy_rcpt_count src/frontend/pfpolicy.c \
	'm.nrcpt = policy_number(rq->a[PA_RECIPIENT_COUNT]);' 'm.nrcpt = 1;' \
	'a policy request counts one recipient whatever its recipient_count'
m rcpt_stage_messages src/core/core.c \
	$'    return same;\n}' $'    return 0;\n}' \
	'policy_count_stage=rcpt: every recipient counts as a new message'
m exempt_never src/engine/policy.c \
	'if (policy_pattern_match(p->exempt[i], account))' 'if (0 && policy_pattern_match(p->exempt[i], account))' \
	'exemptions never match'
m exempt_glob src/engine/policy.c \
	'return fnmatch(pattern, low, 0) == 0;' 'return strcmp(pattern, low) == 0;' \
	'exemption and override patterns match only literally (no globs)'
m never_counted_off src/engine/engine.c \
	'if (policy_never_counted(ev->account, ev->type != HJ_EV_DELIVERY ? ev->sender : NULL)) {' 'if (0) {' \
	'postmaster@, MAILER-DAEMON and the null sender are counted'
m null_sender_counted src/engine/policy.c \
	'(*sender == 0 || local_is(sender, "mailer-daemon")' '(local_is(sender, "mailer-daemon")' \
	'the null sender (bounces) is counted'
m postmaster_counted src/engine/policy.c \
	'return local_is(account, "postmaster") || local_is(account, "mailer-daemon");' \
	'return local_is(account, "mailer-daemon");' \
	'mail of the postmaster@ account is counted'
m login_null_sender src/engine/policy.c \
	'if (account && *account)' 'if (account && *account && (sender == NULL || *sender))' \
	'a login that sends with MAIL FROM:<> is never counted (a hijack hides behind it)'
m login_dsn_log src/postfix/qtrack.c \
	'if (m->account == NULL || m->discarded || !m->from_smtpd)' \
	'if (m->account == NULL || m->is_dsn || m->discarded || !m->from_smtpd)' \
	'the log takes an authenticated from=<> submission for a DSN and drops it'
m min_kinds_ignored src/engine/signals.c \
	'if ((unsigned)__builtin_popcount(kinds) < s->min_kinds)' 'if ((unsigned)__builtin_popcount(kinds) < 1)' \
	'score_min_kinds ignored: one kind of evidence scores a message'
m own_inverted src/engine/policy.c \
	'if (netaddr_in(a, &p->own_nets[i]))' 'if (!netaddr_in(a, &p->own_nets[i]))' \
	'source-IP class: own_networks match inverted'
m relay_never src/postfix/qtrack.c \
	'if (relayed(q, m, r)) {' 'if (0 && relayed(q, m, r)) {' \
	'the open-relay rule never fires (no relay events)'
m relay_forward src/postfix/qtrack.c \
	'if (r->orig_to.p && is_local(q, r->orig_to))' 'if (0 && r->orig_to.p && is_local(q, r->orig_to))' \
	'a forward of a local user (orig_to) is counted as relay'
m throttle_forever src/engine/engine.c \
	'if (now < x->throttled_until) {' 'if (x->throttled_until) {' \
	'a throttle never expires'
m autounlock_late src/engine/engine.c \
	'x->unlock_at = r->unlock_after ? t + r->unlock_after : 0;' 'x->unlock_at = r->unlock_after ? t + r->unlock_after + 3600 : 0;' \
	'an automatic unlock comes an hour late'
m relock_escalate_off src/engine/engine.c \
	'if (x->auto_unlocked_at && t - x->auto_unlocked_at < e->pol->relock_escalate) {' 'if (0) {' \
	'a lock soon after an automatic unlock is not escalated'
# the log parser
m syslog_rollover src/postfix/logline.c \
	'if (c->last_month && mon < c->last_month - 6)' 'if (c->last_month && mon < c->last_month - 12)' \
	'syslog timestamps: no year rollover Dec -> Jan'
m sasl_username_cut src/postfix/logparse.c \
	'r->sasl_user = value(rest, ", sasl_username=", ", ");' 'r->sasl_user = value(rest, ", sasl_username=", "@");' \
	'the log parser cuts sasl_username at its @ (wrong account)'
# the policy service
m policy_end_of_request src/postfix/policy.c \
	'*used = off + 1;' '*used = off;' \
	'the codec leaves the empty line that ends a request in the buffer'
m policy_size_partial src/postfix/policy.c \
	'if (len > POLICY_MAX_REQUEST) {' 'if (0) {' \
	'the 64 KiB request limit is not applied to a request still arriving'
m policy_size_line src/postfix/policy.c \
	'if (off + n + 1 > POLICY_MAX_REQUEST) {' 'if (0) {' \
	'the 64 KiB request limit is not applied to complete lines'
m throttle_dunno src/frontend/pfpolicy.c \
	'[CORE_DEFER] = ANS_DEFER_IF_PERMIT,' '[CORE_DEFER] = ANS_DUNNO,' \
	'a throttled account is answered DUNNO instead of DEFER_IF_PERMIT'
m lock_not_consulted src/core/core.c \
	'hj_state st = engine_state(C->eng, m->account, now, NULL);' 'hj_state st = HJ_ST_OK;' \
	'a locked account is not refused (the lock table is not consulted)'
m store_error_dunno src/frontend/pfpolicy.c \
	'return fail_answer(c->store_error_action, out, outlen, ans);' 'return fail_answer(CONF_FAIL_DUNNO, out, outlen, ans);' \
	'store_error_action ignored: a store failure answers DUNNO'
m double_count src/frontend/logfront.c \
	'if (ev->type == HJ_EV_SUBMIT && !core_conf(lf->C)->log_submissions)' 'if (0 && !core_conf(lf->C)->log_submissions)' \
	'a submission seen by the policy service is counted again from the log'
# durability
m lock_not_stored src/core/core.c \
	'rc = st->ops->lock_put(st, &k, err, sizeof(err));' 'rc = STORE_OK;' \
	'a lock is answered but never written to the store'
m sqlite_lock_put src/store/store_sqlite.c \
	'return sq_write(sq, s, rc, "lock_put", err, errlen);' $'sq_done(s);\n    return rc == SQLITE_OK ? STORE_OK : STORE_ERR;' \
	'the SQLite store reports a lock written without writing it'
# engine purity
# (the plants change no output, so that only a purity check can see them: the fputs is
# never reached, and gcc compiles it to fputc)
m pure_fputs src/engine/window.c \
	$'void\nwindow_free(hj_window *w)\n{\n' $'#include <stdio.h>\nvoid\nwindow_free(hj_window *w)\n{\n    if (w->cap > WINDOW_MAXSLOTS)\n        fputs("x", stderr);\n' \
	'engine purity: the engine writes to stderr'
m pure_static src/engine/window.c \
	$'    window_expire(w, span, t);\n    w->sum += n;' $'    static int calls;\n    calls++;\n    window_expire(w, span, t);\n    w->sum += n;' \
	'engine purity: hidden state (a static counter) in the engine'
m pure_localtime src/engine/engine.c \
	$'void\nengine_event(hj_engine *e, const hj_event *ev)\n{\n    ev_ctx c;\n' \
	$'#include <time.h>\nvoid\nengine_event(hj_engine *e, const hj_event *ev)\n{\n    ev_ctx c;\n    time_t hj_tt = (time_t)ev->t;\n    (void)localtime(&hj_tt);\n' \
	'engine purity: the engine reads the local time zone'
# notices and unlock tokens
m token_mac_1byte src/notify/token.c \
	'CRYPTO_memcmp(hex, strrchr(tok, '"'"'-'"'"') + 1, 2 * TOKEN_MAC_LEN) == 0' 'CRYPTO_memcmp(hex, strrchr(tok, '"'"'-'"'"') + 1, 1) == 0' \
	'an unlock token MAC is compared on one byte'
m token_no_since src/notify/token.c \
	'"HJU1\n%s\n%" PRId64 "\n%" PRId64, account, since, expiry);' '"HJU1\n%s\n%" PRId64, account, expiry);' \
	'the lock time is left out of the unlock token MAC'
m token_any_incident src/incident/incident.c \
	'if (k->since != f->since || !token_verify(f->n->key, k->account, f->token))' 'if (k->since != f->since)' \
	'a reply token unlocks any incident locked at its time (MAC not checked)'
m token_old_incident src/incident/incident.c \
	'if (k->since != f->since || !token_verify(f->n->key, k->account, f->token))' 'if (!token_verify(f->n->key, k->account, f->token))' \
	'a used token unlocks the same account'"'"'s next incident'
m token_expiry src/incident/incident.c \
	'if ((int64_t)time(NULL) > expiry)' 'if (0 && (int64_t)time(NULL) > expiry)' \
	'an expired unlock token is accepted'
m spool_retry_early src/notify/spool.c \
	'return (due + 999999) / 1000000;' 'return due / 1000000;' \
	'a spooled job is retried up to 1 ms before its retry_at (ns truncated to ms)'
m spool_close_drops src/notify/spool.c \
	$'    for (;;) {\n        while (s->nwq == 0 && !s->stop)' $'    for (;;) {\n        if (s->stop)\n            break;\n        while (s->nwq == 0 && !s->stop)' \
	'spool_close loses the jobs put just before it (the writer stops without writing them)'
m answers_overtake src/frontend/policysrv.c \
	'    if (evbuffer_get_length(bufferevent_get_output(bev)) == 0) {' '    if (1) {' \
	'an answer sent at once overtakes the answers still queued for a slow reader'
m cmd_no_timeout src/util/child.c \
	'int left = ms_left(&deadline), k = left ? poll(p, 3, left) : 0;' 'int left = ms_left(&deadline), k = poll(p, 3, -1);' \
	'a hung postqueue, postsuper or sendmail is waited for for ever (postfix_command_timeout ignored)'
m listener_unlinks src/util/listener.c \
	'if (!S_ISSOCK(st.st_mode)) {' 'if (0) {' \
	'a unix socket path that holds a file or a link: the file is deleted'
m metrics_log_twice src/frontend/logfront.c \
	$'        lf->not_understood++; /* each line is counted once, understood or not */' \
	$'        lf->lines++;\n        lf->not_understood++;' \
	'/metrics counts a log line not understood twice'
m purge_no_ids src/incident/purge.c \
	'    core_queue_ids(C, account, qid_collect, &s);' '    (void)qid_collect;' \
	'lock_purge_queue forgets the queue IDs seen for the account (nothing mapped: nothing purged)'
m purge_mapping_enough src/postfix/queue.c \
	$'    if (mapped)\n        return QUEUE_R_SENDER_DIFFERS;' $'    if (mapped)\n        return QUEUE_R_ACCOUNT_SENDER;' \
	'a purge deletes whatever the queue-ID map gives the account, whatever its sender (a forged log line deletes a victim'"'"'s mail)'
m purge_sender_only_auto src/postfix/queue.c \
	'(rule == QUEUE_R_SENDER_ONLY && (flags & QUEUE_BY_SENDER));' '(rule == QUEUE_R_SENDER_ONLY && (flags | QUEUE_BY_SENDER));' \
	'sender-only messages are purged without --by-sender (and by lock_purge_queue)'
# the admin side
m ctl_rcvtimeo src/prog/hijackctl/ctl_sock.c \
	'setsockopt(*fdp, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));' '(void)0;' \
	'hijackctl waits for ever on a daemon that does not answer'

# ---------------------------------------------------------------- running them
MODE=run
case "${1:-}" in
--check) MODE=check; shift ;;
--build-only) MODE=build; shift ;;
-h | --help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
esac
SEL=()
for want in "$@"; do
	found=
	for i in "${!NAMES[@]}"; do [ "${NAMES[$i]}" = "$want" ] && SEL+=("$i") && found=1; done
	[ -n "$found" ] || { echo "mutate.sh: no mutation named $want" >&2; exit 2; }
done
[ $# -gt 0 ] || SEL=("${!NAMES[@]}")

# apply FILE OLD NEW - replace the one occurrence of OLD in FILE; exit 3 (and the count) if
# OLD does not occur exactly once
apply() {
	python3 - "$@" <<'EOF'
import sys
path, old, new = sys.argv[1:4]
s = open(path, encoding="utf-8").read()
n = s.count(old)
if n != 1 or old == new:
    print("occurs %d times" % n if n != 1 else "replacement equals the text")
    sys.exit(3)
open(path, "w", encoding="utf-8").write(s.replace(old, new, 1))
EOF
}

if [ "$MODE" = check ]; then
	bad=0 W=$(mktemp -d /tmp/hijackd-mutate.XXXXXX)
	trap 'rm -rf "$W"' EXIT
	echo "1..${#SEL[@]}"
	for i in "${SEL[@]}"; do
		cp "$ROOT/${FILES[$i]}" "$W/f"
		if why=$(apply "$W/f" "${OLDS[$i]}" "${NEWS[$i]}"); then echo "ok - ${NAMES[$i]}"
		else echo "not ok - ${NAMES[$i]}: STALE: ${FILES[$i]}: $why"; bad=$((bad + 1)); fi
	done
	echo "${#SEL[@]} mutations, $bad stale"
	[ "$bad" = 0 ]
	exit
fi

W=$(mktemp -d /tmp/hijackd-mutate.XXXXXX)
TREE=$W/tree RUNPID=
cleanup() {
	[ -n "$RUNPID" ] && kill -TERM -- "-$RUNPID" 2>/dev/null
	sweep
	rm -rf "$W"
}
# sweep - stop any program of the copy still running (a daemon left by a stopped suite)
sweep() {
	local p e
	for p in /proc/[0-9]*; do
		e=$(readlink "$p/exe" 2>/dev/null) || continue
		case "$e" in "$TREE"/*) kill -KILL "${p#/proc/}" 2>/dev/null ;; esac
	done
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$TREE" "$W/save" "$W/tmp" "$W/logs"
chmod 0755 "$W" && chmod 1777 "$W/tmp" # the admin tests run hijackctl as an unprivileged user
(cd "$ROOT" && git ls-files -z | while IFS= read -r -d '' f; do
	[ -e "$f" ] && printf '%s\0' "$f"
done | xargs -0 cp --parents -t "$TREE") || { echo "mutate.sh: cannot copy the tree" >&2; exit 2; }
t0=$(date +%s)
if ! make -C "$TREE" -s -j2 all tests >"$W/build.log" 2>&1; then
	echo "mutate.sh: the pristine tree does not build:" >&2; tail -20 "$W/build.log" >&2; exit 2
fi
echo "copied and built the tree in $(($(date +%s) - t0)) s" >&2

: >"$W/base_fails"
IGNORE=${MUTATE_IGNORE:-}
# fails LOG - the failing check lines of LOG that the baseline did not fail, nor MUTATE_IGNORE
fails() {
	grep -E '^(FAILED|not ok)' "$1" | grep -vxF -f "$W/base_fails" |
		if [ -n "$IGNORE" ]; then grep -vE -- "$IGNORE"; else cat; fi
}
# fast LOG [STOP] - the fast suite in the copy into LOG; with STOP=1 (the default) it stops at
# the first failing check that the baseline did not fail. Sets FIRST to it ("" if none), and
# TIMEDOUT when the suite did not finish
fast() {
	local log=$1 stop=${2:-1} line
	FIRST= TIMEDOUT=
	: >"$log"
	(cd "$TREE" && HJ_MUTATION=1 TMPDIR=$W/tmp exec setsid timeout -k 10 "$LIMIT" tests/run.sh build --no-e2e) >"$log" 2>&1 &
	RUNPID=$!
	while [ "$stop" = 1 ] && kill -0 "$RUNPID" 2>/dev/null; do
		line=$(fails "$log" | head -1)
		if [ -n "$line" ]; then
			sleep 1 # the lines that say which test failed
			kill -TERM -- "-$RUNPID" 2>/dev/null
			break
		fi
		sleep 1
	done
	wait "$RUNPID"
	local rc=$?
	RUNPID=
	sweep
	line=$(fails "$log" | head -1)
	if [ -n "$line" ]; then # a unit binary's line: add its first failing test
		local detail
		detail=$(grep -A30 -xF -- "$line" "$log" | grep -m1 -E '^ +not ok' | sed 's/^ *//')
		FIRST="$line${detail:+ / $detail}"
	elif [ "$rc" = 124 ] || [ "$rc" = 137 ] || ! grep -qE '^[0-9]+ passed, [0-9]+ failed$' "$log"; then
		TIMEDOUT=1 FIRST="the suite did not finish (exit $rc, limit $LIMIT s)"
	fi
	if [ -n "${MUTATE_LOGS:-}" ]; then mkdir -p "$MUTATE_LOGS" && cp "$log" "$MUTATE_LOGS/"; fi
}

BASE_RED=0
[ -n "$IGNORE" ] && echo "ignored everywhere (MUTATE_IGNORE): the checks matching /$IGNORE/"
if [ "$MODE" = run ] && [ "${MUTATE_BASELINE:-1}" != 0 ]; then
	t0=$(date +%s)
	fast "$W/logs/baseline.log" 0
	fails "$W/logs/baseline.log" >"$W/base_fails.new"
	mv "$W/base_fails.new" "$W/base_fails"
	if [ -s "$W/base_fails" ] || [ -n "$TIMEDOUT" ]; then
		BASE_RED=1
		echo "baseline: the pristine tree fails these checks (ignored below; exit status 1):"
		sed 's/^/    /' "$W/base_fails"
		[ -n "$TIMEDOUT" ] && echo "    $FIRST"
	fi
	echo "baseline: $(tail -1 "$W/logs/baseline.log") in $(($(date +%s) - t0)) s"
fi

caught=0 survived=0 broken=0 flaky=0
ROWS=()
for i in "${SEL[@]}"; do
	n=${NAMES[$i]} f=${FILES[$i]}
	t0=$(date +%s)
	cp "$TREE/$f" "$W/save/f"
	if ! why=$(apply "$TREE/$f" "${OLDS[$i]}" "${NEWS[$i]}"); then
		res=STALE detail="$f: $why"
	elif ! make -C "$TREE" -s -j2 all tests >"$W/build.log" 2>&1; then
		res=NOBUILD detail=$(grep -m1 -E 'error' "$W/build.log")
	elif [ "$MODE" = build ]; then
		res=built detail=
	else
		fast "$W/logs/$n.log"
		if [ -z "$FIRST" ]; then
			res=SURVIVED detail=
		elif [ "${MUTATE_CONFIRM:-1}" = 0 ] || [ -n "$TIMEDOUT" ]; then
			res=caught detail=$FIRST
		else # a flaky check must not pass for a catch: the same check must fail again
			detail=$FIRST
			fast "$W/logs/$n.again.log"
			if [ "$FIRST" = "$detail" ]; then res=caught
			else res=FLAKY detail="$detail; then ${FIRST:-no failure}"; fi
		fi
	fi
	cp "$W/save/f" "$TREE/$f" # pristine again (newer: rebuilt with the next mutation)
	secs=$(($(date +%s) - t0))
	case $res in
	caught) caught=$((caught + 1)) ;;
	SURVIVED) survived=$((survived + 1)) ;;
	FLAKY) flaky=$((flaky + 1)) ;;
	built) ;;
	*) broken=$((broken + 1)) ;;
	esac
	printf '%-8s %-22s %s\n' "$res" "$n" "$detail"
	ROWS+=("| $n | \`$f\` | ${WHATS[$i]} | $res | ${detail//|/\\|} | $secs |")
done

echo
echo "| mutation | file | what it breaks | result | first failing check | s |"
echo "|---|---|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
echo
[ "$broken" -gt 0 ] && echo "$broken stale or not building (failures of mutate.sh)"
[ "$flaky" -gt 0 ] && echo "$flaky caught once, then not the same way (a flaky check?)"
echo "$caught caught, $survived survived"
[ "$MODE" = build ] && exit $((broken > 0))
[ "$survived" = 0 ] && [ "$broken" = 0 ] && [ "$flaky" = 0 ] && [ "$BASE_RED" = 0 ]
