#!/bin/bash
# tests/harness/mailstack.sh - a throwaway, REAL mail stack on 127.0.0.1 for hijackd's end-to-end tests:
# Debian's Postfix 3.7 (private instance) + Dovecot (SASL auth only) + smtp-sink.
#
#   mailstack.sh up DIR        install missing packages, then start everything (restarts a running stack)
#   mailstack.sh down DIR      stop everything `up` started for DIR, by recorded and verified PID
#   mailstack.sh status DIR    PIDs, listeners, queue and mailbox counts (exit 0 all up, 1 partly, 3 down)
#   mailstack.sh sink-stop DIR | sink-start DIR   stop/start only smtp-sink (to make remote mail queue up)
#
# Must run as root. DIR must be traversable by other users (use /tmp/..., not /root/...).
# Everything binds to 127.0.0.1; nothing leaves the machine; no DNS is used.
#
# Listeners (ports overridable through the environment):
#   HJ_MX_PORT=3525     Postfix smtpd, MX for example.test, no AUTH (relaying: 554 Relay access denied)
#   HJ_SUB_PORT=3587    Postfix smtpd "submission" (syslog_name postfix/submission): SASL PLAIN/LOGIN
#                       without TLS; unauthenticated clients get 554 Client host rejected
#   HJ_RELAY_PORT=3527  Postfix smtpd, a deliberately OPEN RELAY (mynetworks=0.0.0.0/0 + permit_mynetworks;
#                       see listener_opts), default syslog_name postfix/smtpd like the MX, so its lines look
#                       like those of a misconfigured MX
#   HJ_SINK_PORT=3526   smtp-sink: the relayhost for every non-local domain, one dump file per transaction
#                       in DIR/sink/
#   XCLIENT is allowed from 127.0.0.0/8 on every listener, so tests can fake the client, e.g.
#   swaks --xclient "ADDR=198.51.100.7 NAME=[UNAVAILABLE]" (logged as unknown[198.51.100.7]).
#
# Mail setup:
#   users (Dovecot passwd-file DIR/users): alice, bob, postmaster @example.test, password secret-<user>
#   example.test is delivered by virtual(8) to Maildirs DIR/mail/example.test/<user>/new/
#   *@bounce.test  accepted, then status=bounced (dsn 5.1.1) + a non-delivery notification to the sender
#   *@defer.test   accepted, then status=deferred (dsn 4.3.0); the message stays queued
#   *@reject.test  550 5.1.1 at RCPT time
#   logs: DIR/maillog (Postfix maillog_file), DIR/dovecot.log; PIDs: DIR/pids (renamed pids.last by down)
#
# Environment read by `up` (all optional):
#   HJ_MX_PORT HJ_SUB_PORT HJ_RELAY_PORT HJ_SINK_PORT   listener ports, see above (recorded in DIR/env;
#                                status/down/sink-start use the recorded ones)
#   POLICY=inet:127.0.0.1:PORT   check_policy_service on submission, BEFORE permit_sasl_authenticated
#   POLICY_STAGES="rcpt eod"     where to call it: rcpt = smtpd_recipient_restrictions,
#                                eod = smtpd_end_of_data_restrictions (default: both)
#   POLICY_SCOPE=all             also call the policy on the MX and open-relay listeners (default: submission)
#   POLICY_DEFAULT_ACTION=...    smtpd_policy_service_default_action (Postfix default 451 4.3.5 ...)
#   MILTER=inet:127.0.0.1:PORT   smtpd_milters on submission (several: comma-separated, no blanks)
#   MILTER_SCOPE=all             put MILTER in main.cf instead (every listener)
#   MILTER_DEFAULT_ACTION=...    milter_default_action (default tempfail)
#   HJ_TTL=seconds               watchdog runs `down DIR` after this long (default 3600; 0 = no watchdog)
#   HJ_BACKOFF=seconds           queue_run_delay = minimal_backoff_time (default 10): how soon deferred mail
#                                is retried (and logged again)
#   AUTH_FAILURE_DELAY=seconds   Dovecot auth_failure_delay (default 0 here; Dovecot's own default is 2)
#   AUTH_PENALTY=1               keep Dovecot's per-IP auth penalty (disabled by default, see penalty_block)
#   HJ_KEEP=1                    keep queue, mailboxes, sink dumps and logs of the previous run
#   UNLOCK_PIPE="CMD ARGS"       reply-to-unlock: mail to hijackd-unlock@example.test goes to a pipe(8)
#                                service "hijackd-unlock" running CMD ARGS as nobody (flags=Rq), the
#                                README's wiring; ${sender} and ${recipient} are pipe(8)'s macros
set -u
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

SELF=$(readlink -f "$0")
MX_PORT=${HJ_MX_PORT:-3525}
SUB_PORT=${HJ_SUB_PORT:-3587}
RELAY_PORT=${HJ_RELAY_PORT:-3527}
SINK_PORT=${HJ_SINK_PORT:-3526}
PORTS="$MX_PORT $SUB_PORT $RELAY_PORT $SINK_PORT"
VUID=$(id -u nobody 2>/dev/null || echo 65534)
VGID=$(getent group nogroup | cut -d: -f3); VGID=${VGID:-65534}
USERS="alice bob postmaster"

say() { echo "mailstack: $*"; }
die() {
	echo "mailstack: ERROR: $*" >&2
	# a failed `up` must not leave half a stack running
	if [ "${UPPING:-0}" = 1 ]; then UPPING=0; say "cleaning up the partial stack" >&2; cmd_down >&2; fi
	exit 1
}
# alive = exists and is not a zombie (setsid'ed children are reparented to PID 1, which may reap late)
alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null && ! grep -qE '^[0-9]+ \(.*\) Z' "/proc/$1/stat" 2>/dev/null; }
dead() { ! alive "$1"; }
listening() { ss -ltn "sport = :$1" 2>/dev/null | grep -q "127.0.0.1:$1 "; }
wait_for() { # seconds command...  (polls every 0.1 s)
	local n=$(( $1 * 10 )); shift
	while [ $n -gt 0 ]; do "$@" && return 0; sleep 0.1; n=$((n - 1)); done
	return 1
}
recorded_pid() { [ -f "$D/pids" ] && awk -v k="$1" '$1==k{print $2}' "$D/pids" | tail -1; }
find_sink() { for p in /usr/sbin/smtp-sink /usr/lib/postfix/smtp-sink; do [ -x "$p" ] && { echo "$p"; return; }; done; command -v smtp-sink; }

check_env() {
	local p seen=" "
	for p in $PORTS; do
		case "$p" in ''|*[!0-9]*) die "ports must be numbers: $PORTS";; esac
		if [ "$p" -lt 1 ] || [ "$p" -gt 65535 ]; then die "port out of range: $p"; fi
		case "$seen" in *" $p "*) die "the four ports must differ: $PORTS";; esac
		seen="$seen$p "
	done
	case "${HJ_BACKOFF:-10}" in ''|*[!0-9]*|0) die "HJ_BACKOFF must be a positive number of seconds";; esac
}
resolve_dir() {
	[ -n "${1:-}" ] || die "usage: $0 {up|down|status|sink-stop|sink-start} DIR"
	[ "$2" = up ] && { mkdir -p "$1" || die "cannot create $1"; }
	[ -d "$1" ] || die "no such directory: $1"
	D=$(cd "$1" && pwd -P)
	# DIR ends up inside Postfix and Dovecot config values
	case "$D" in *[[:space:]%,\;:=\$\{\}]*) die "DIR must not contain blanks or any of % , ; : = \$ { }: $D";; esac
	[ "$D" != / ] || die "refusing DIR=/"
	PFX="$D/postfix" Q="$D/queue"
}

# ---------------------------------------------------------------- packages
# Is the *system* (default) instance running? Used to undo a service start done by the package install.
svc_running() {
	case $1 in
	postfix) [ -f /var/spool/postfix/pid/master.pid ] && alive "$(tr -d ' ' </var/spool/postfix/pid/master.pid)";;
	dovecot) [ -f /run/dovecot/master.pid ] && alive "$(cat /run/dovecot/master.pid)";;
	esac
}
svc_stop() {
	if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then systemctl stop "$1"
	elif [ -x "/etc/init.d/$1" ]; then "/etc/init.d/$1" stop
	fi
}
apt_install() { DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "$@"; }
ensure_packages() {
	local need="" log="${TMPDIR:-/tmp}/hijackd-mailstack-apt.log" pf_before=0 dc_before=0
	{ command -v postfix && [ -n "$(find_sink)" ]; } >/dev/null || need="$need postfix"
	{ command -v dovecot && command -v doveadm; } >/dev/null || need="$need dovecot-core"
	command -v swaks >/dev/null || need="$need swaks"
	[ -z "$need" ] && return 0
	say "installing:$need (log: $log)"
	svc_running postfix && pf_before=1
	svc_running dovecot && dc_before=1
	# "No configuration": no /etc/postfix/main.cf, no system instance set up; we only want the binaries
	echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
	# shellcheck disable=SC2086 # $need is a word list
	apt_install $need >"$log" 2>&1 || {
		DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update >>"$log" 2>&1
		apt_install $need >>"$log" 2>&1 || die "apt-get install$need failed, see $log"
	}
	# leave the system services as they were before the install (normally: not running)
	if [ $pf_before = 0 ] && svc_running postfix; then say "stopping the system postfix the install started"; svc_stop postfix; fi
	if [ $dc_before = 0 ] && svc_running dovecot; then say "stopping the system dovecot the install started"; svc_stop dovecot; fi
	return 0
}

# ---------------------------------------------------------------- configuration
# Dovecot's per-client-IP auth penalty (anvil) delays every AUTH from an IP after failures (2, 4, 8.. 15 s),
# and Postfix's Dovecot client gives up after 10 s: a correct login from that IP then fails with 454.
# Off by default (mode = 0: the socket is not created) so that tests are fast and deterministic.
penalty_block() {
	if [ "${AUTH_PENALTY:-0}" = 1 ]; then echo "# AUTH_PENALTY=1: Dovecot's default auth penalty is active"; return; fi
	printf '%s\n' "# auth penalty disabled (AUTH_PENALTY=1 keeps it)" \
		"service anvil {" "  unix_listener anvil-auth-penalty {" "    mode = 0" "  }" "}"
}
write_dovecot_conf() {
	cat >"$D/dovecot.conf" <<EOF
# generated by tests/harness/mailstack.sh - private Dovecot instance, SASL auth for Postfix only
instance_name = hijackd-test
base_dir = $D/dovecot-run
state_dir = $D/dovecot-state
log_path = $D/dovecot.log
protocols = none
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_username_format = %Lu
auth_verbose = yes
# even 0 gives ~0.5 s per failure: Dovecot flushes failures in batches
auth_failure_delay = ${AUTH_FAILURE_DELAY:-0} secs
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%Lu $D/users
}
# no userdb: SASL-only use does not need one
service auth {
  unix_listener auth-postfix {
    mode = 0660
    user = postfix
    group = postfix
  }
}
$(penalty_block)
EOF
	local u
	for u in $USERS; do echo "$u@example.test:{PLAIN}secret-$u"; done >"$D/users"
	chmod 0644 "$D/users"
}

# Restrictions for the listener kinds, with the optional policy hook. Lists are comma-separated without
# blanks because master.cf -o values cannot contain blanks.
policy_here() { [ -n "${POLICY:-}" ] && { [ "$1" = submission ] || [ "${POLICY_SCOPE:-submission}" = all ]; }; }
policy_at() { case " ${POLICY_STAGES:-rcpt eod} " in *" $1 "*) return 0;; esac; return 1; }
listener_opts() { # submission|mx|relay -> the -o options of that listener
	local kind=$1 rcpt eod="" o=""
	# the relay check is in smtpd_relay_restrictions (main.cf for the MX)
	rcpt=""; [ "$kind" = submission ] && rcpt="permit_sasl_authenticated,reject"
	if policy_here "$kind"; then
		# before permit_sasl_authenticated, or authenticated mail never reaches the policy server
		policy_at rcpt && rcpt="check_policy_service,$POLICY${rcpt:+,$rcpt}"
		policy_at eod && eod="check_policy_service,$POLICY"
	fi
	case $kind in
	submission)
		o="$o -o syslog_name=postfix/submission"
		o="$o -o smtpd_sasl_auth_enable=yes -o smtpd_tls_auth_only=no"
		o="$o -o smtpd_sasl_security_options=noanonymous -o broken_sasl_auth_clients=yes"
		o="$o -o smtpd_client_restrictions=permit_sasl_authenticated,reject"
		o="$o -o smtpd_relay_restrictions=permit_sasl_authenticated,reject"
		o="$o -o milter_macro_daemon_name=ORIGINATING"
		[ -n "${MILTER:-}" ] && [ "${MILTER_SCOPE:-submission}" != all ] && o="$o -o smtpd_milters=$MILTER";;
	relay)
		# Postfix's safety net refuses to start an smtpd whose relay and recipient restrictions lack
		# reject_unauth_destination (or reject/defer...): "smtpd_relay_restrictions=permit" kills every
		# session with "fatal: in parameter smtpd_relay_restrictions or smtpd_recipient_restrictions, specify
		# at least one working instance of: reject_unauth_destination, ...". So the open relay is the
		# classic real-world misconfiguration instead: mynetworks covering the whole Internet.
		o="$o -o mynetworks=0.0.0.0/0"
		o="$o -o smtpd_relay_restrictions=permit_mynetworks,reject_unauth_destination";;
	esac
	[ -n "$rcpt" ] && o="$o -o smtpd_recipient_restrictions=$rcpt"
	[ -n "$eod" ] && o="$o -o smtpd_end_of_data_restrictions=$eod"
	echo "$o"
}

write_postfix_conf() {
	local pc="postconf -c $PFX" backoff=${HJ_BACKOFF:-10}
	mkdir -p "$PFX" "$Q"
	chown root:root "$Q"; chmod 0755 "$Q"
	# master.cf: Debian's. main.cf: start EMPTY. A "No configuration" install has no /etc/postfix/main.cf,
	# and main.cf.proto has empty setgid_group=, sendmail_path=, ... which are fatal.
	if [ -f /etc/postfix/master.cf ]; then cp /etc/postfix/master.cf "$PFX/master.cf"
	else cp /etc/postfix/master.cf.proto "$PFX/master.cf"; fi
	: >"$PFX/main.cf"
	$pc -e \
		"compatibility_level = 3.6" \
		"queue_directory = $Q" \
		"data_directory = $D/data" \
		"meta_directory = /etc/postfix" \
		"mail_owner = postfix" \
		"setgid_group = postdrop" \
		"maillog_file_prefixes = $D" \
		"maillog_file = $D/maillog" \
		"myhostname = mx.example.test" \
		"mydomain = example.test" \
		"myorigin = \$mydomain" \
		"mydestination =" \
		"inet_interfaces = 127.0.0.1" \
		"inet_protocols = ipv4" \
		"mynetworks = 127.0.0.0/8" \
		"smtpd_authorized_xclient_hosts = 127.0.0.0/8" \
		"smtpd_banner = \$myhostname ESMTP \$mail_name (hijackd test)" \
		"biff = no" \
		"append_dot_mydomain = no" \
		"readme_directory = no" \
		"alias_maps =" \
		"alias_database =" \
		"local_recipient_maps =" \
		"local_transport = error:5.1.1 local delivery disabled" \
		"virtual_mailbox_domains = example.test" \
		"virtual_mailbox_base = $D/mail" \
		"virtual_mailbox_maps = texthash:$PFX/vmailbox" \
		"virtual_uid_maps = static:$VUID" \
		"virtual_gid_maps = static:$VGID" \
		"transport_maps = texthash:$PFX/transport" \
		"relayhost = [127.0.0.1]:$SINK_PORT" \
		"smtp_dns_support_level = disabled" \
		"smtp_host_lookup = native" \
		"lmtp_host_lookup = native" \
		"smtp_tls_security_level = none" \
		"smtpd_tls_security_level = none" \
		"smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination" \
		"smtpd_sasl_type = dovecot" \
		"smtpd_sasl_path = $D/dovecot-run/auth-postfix" \
		"smtpd_sasl_auth_enable = no" \
		"milter_default_action = ${MILTER_DEFAULT_ACTION:-tempfail}" \
		"milter_protocol = 6" \
		"queue_run_delay = ${backoff}s" \
		"minimal_backoff_time = ${backoff}s" \
		"maximal_backoff_time = $(( backoff > 60 ? backoff : 60 ))s" \
		"delay_warning_time = 0" \
		|| die "postconf -e failed"
	[ -n "${POLICY_DEFAULT_ACTION:-}" ] && $pc -e "smtpd_policy_service_default_action = $POLICY_DEFAULT_ACTION"
	[ -n "${MILTER:-}" ] && [ "${MILTER_SCOPE:-submission}" = all ] && $pc -e "smtpd_milters = $MILTER"

	local u
	for u in $USERS; do echo "$u@example.test example.test/$u/"; done >"$PFX/vmailbox"   # trailing / = Maildir
	# the unlock address must be a valid recipient; its transport_maps entry sends it to the pipe
	[ -n "${UNLOCK_PIPE:-}" ] && echo "hijackd-unlock@example.test example.test/hijackd-unlock/" >>"$PFX/vmailbox"
	# Simulated remote outcomes. bounce/defer must happen AFTER queueing, so they are pipe(8) transports to a
	# script exiting 67 (EX_NOUSER: bounced + NDR) or 75 (EX_TEMPFAIL: deferred); an error: transport is
	# already refused by smtpd at RCPT time, which is what reject.test wants.
	cat >"$PFX/transport" <<'EOF'
bounce.test	hj-bounce:
defer.test	hj-defer:
reject.test	error:5.1.1 simulated recipient rejection (reject.test)
EOF
	[ -n "${UNLOCK_PIPE:-}" ] && printf 'hijackd-unlock@example.test\thijackd-unlock:\n' >>"$PFX/transport"
	cat >"$PFX/fail.sh" <<'EOF'
#!/bin/sh
# pipe(8) target of the harness: swallow the message, exit with status $1
cat >/dev/null
echo "simulated failure (exit $1)"
exit "$1"
EOF
	chmod 0755 "$PFX/fail.sh"

	# master.cf: no chroot (the queue dir is private, a chroot would lack /etc and the SASL socket),
	# no default "smtp inet" (0.0.0.0:25), our loopback listeners instead.
	$pc -F '*/*/chroot = n'
	$pc -MX smtp/inet
	$pc -M "hj-bounce/unix = hj-bounce unix - n n - - pipe flags=q user=nobody argv=$PFX/fail.sh 67"
	$pc -M "hj-defer/unix = hj-defer unix - n n - - pipe flags=q user=nobody argv=$PFX/fail.sh 75"
	[ -n "${UNLOCK_PIPE:-}" ] && $pc -M "hijackd-unlock/unix = hijackd-unlock unix - n n - - pipe flags=Rq user=nobody argv=$UNLOCK_PIPE"
	$pc -M "127.0.0.1:$MX_PORT/inet = 127.0.0.1:$MX_PORT inet n - n - - smtpd$(listener_opts mx)"
	$pc -M "127.0.0.1:$SUB_PORT/inet = 127.0.0.1:$SUB_PORT inet n - n - - smtpd$(listener_opts submission)"
	$pc -M "127.0.0.1:$RELAY_PORT/inet = 127.0.0.1:$RELAY_PORT inet n - n - - smtpd$(listener_opts relay)"
	# maillog_file needs the postlogd service (Debian 3.7's master.cf has it)
	[ -n "$($pc -M postlog/unix-dgram 2>/dev/null)" ] || $pc -M "postlog/unix-dgram = postlog unix-dgram n - n - 1 postlogd"
}

# ---------------------------------------------------------------- our PIDs
# A PID is only trusted if the process still looks like ours (stale pid files, PID reuse).
cmdline() { { tr '\0' ' ' <"/proc/$1/cmdline"; } 2>/dev/null; }
pf_master_pid() { # the Postfix master runs with cwd = its queue_directory
	local p; p=$(sed -n '1{s/ //g;p}' "$Q/pid/master.pid" 2>/dev/null)
	[ -n "$p" ] && [ "$(readlink "/proc/$p/cwd" 2>/dev/null)" = "$Q" ] && echo "$p"
}
dc_master_pid() {
	local p; p=$(cat "$D/dovecot-run/master.pid" 2>/dev/null)
	[ -n "$p" ] && case "$(cmdline "$p")" in *"-c $D/dovecot.conf"*) echo "$p";; esac
}
sink_pid() {
	local p; p=$(recorded_pid smtp-sink); [ -n "$p" ] || p=$(cat "$D/sink.pid" 2>/dev/null)
	[ -n "$p" ] && case "$(cmdline "$p")" in *smtp-sink*" $D/sink/"*) echo "$p";; esac
}
watchdog_pid() {
	local p; p=$(recorded_pid watchdog); [ -n "$p" ] || p=$(cat "$D/watchdog.pid" 2>/dev/null)
	[ -n "$p" ] && case "$(cmdline "$p")" in *" $SELF $D "*|*" $SELF down $D "*) echo "$p";; esac
}
# processes still in this stack's queue dir (Postfix) or Dovecot base_dir
leftovers() {
	local p out=""
	for p in /proc/[0-9]*; do
		case "$(readlink "$p/cwd" 2>/dev/null)" in
		"$Q"|"$Q"/*|"$D/dovecot-run"|"$D/dovecot-run"/*) alive "${p#/proc/}" && out="$out ${p#/proc/}";;
		esac
	done
	echo "${out# }"
}

# Background daemons: sh records its own PID, then execs the program, so the recorded PID is the program's
# ($! of `setsid -f` is not). The pid file is removed first and waited for, to avoid reading it half-written.
spawn() { # pidfile logfile command...
	local pidfile=$1 log=$2; shift 2
	rm -f "$pidfile"
	# shellcheck disable=SC2016 # $$ and "$@" are for the inner sh
	setsid -f sh -c 'echo $$ > "$1"; shift; exec "$@"' sh "$pidfile" "$@" >>"$log" 2>&1 </dev/null
	wait_for 3 test -s "$pidfile"
}
stop_pid() { # name pid [seconds to wait after TERM]
	alive "$2" || return 0
	kill "$2" 2>/dev/null
	wait_for "${3:-10}" dead "$2" && return 0
	say "$1 ($2) ignored TERM, sending KILL"; kill -9 "$2" 2>/dev/null; sleep 0.3
}

# ---------------------------------------------------------------- sink
start_sink() {
	local sink; sink=$(find_sink); [ -n "$sink" ] || die "smtp-sink not found"
	listening "$SINK_PORT" && die "127.0.0.1:$SINK_PORT already in use"
	mkdir -p "$D/sink"; chown "$VUID:$VGID" "$D/sink"
	# -u nobody: required as root; -c: counters on stdout; the backlog (64) is mandatory
	spawn "$D/sink.pid" "$D/sink.log" \
		"$sink" -4 -u nobody -c -h sink.remote.test -d "$D/sink/%Y%m%d-%H%M%S." "127.0.0.1:$SINK_PORT" 64
	wait_for 5 listening "$SINK_PORT" || die "smtp-sink did not come up (see $D/sink.log)"
	echo "smtp-sink $(cat "$D/sink.pid")" >>"$D/pids"
}
stop_sink() {
	local p; p=$(sink_pid)
	[ -n "$p" ] && stop_pid smtp-sink "$p"
	[ -f "$D/pids" ] && sed -i '/^smtp-sink /d' "$D/pids"
	return 0
}

# ---------------------------------------------------------------- commands
# postfix(1) prints fatal errors on stderr only when stderr is a TTY; with no syslogd and a broken config
# they go nowhere. Re-run `check` under script(1) to see them.
pf_diag() {
	echo "--- postfix $1 failed; maillog tail and 'postfix check' under a pty:" >&2
	tail -5 "$D/maillog" 2>/dev/null >&2
	script -qc "postfix -c $PFX check" /dev/null >&2
}

cmd_up() {
	[ "$(id -u)" = 0 ] || die "must run as root"
	if alive "$(pf_master_pid)" || alive "$(dc_master_pid)" || alive "$(sink_pid)" || alive "$(watchdog_pid)"; then
		say "the stack in $D is (partly) running: restarting it"; cmd_down
	fi
	ensure_packages
	local p ttl=${HJ_TTL:-3600}
	for p in $PORTS; do
		listening "$p" && die "127.0.0.1:$p is already in use: $(ss -ltnp "sport = :$p" | tail -n +2)"
	done
	# virtual(8) delivers as nobody, Dovecot runs helpers as dovecot/dovenull
	runuser -u nobody -- test -x "$D" || die "$D is not traversable by other users (under /root?); use /tmp/..."
	if [ "${HJ_KEEP:-0}" != 1 ]; then
		rm -rf "$D/queue" "$D/data" "$D/mail" "$D/sink" "$D/dovecot-run" "$D/dovecot-state"
		rm -f "$D/maillog" "$D/dovecot.log" "$D/sink.log" "$D/postfix-start.log" "$D/watchdog.log" "$D/pids.last"
	fi
	mkdir -p "$D/mail" "$D/dovecot-run" "$D/dovecot-state"
	chown "$VUID:$VGID" "$D/mail"; chmod 0755 "$D/mail"
	: >"$D/pids"
	UPPING=1
	write_dovecot_conf
	write_postfix_conf
	{
		echo "HJ_MX_PORT=$MX_PORT"; echo "HJ_SUB_PORT=$SUB_PORT"; echo "HJ_RELAY_PORT=$RELAY_PORT"
		echo "HJ_SINK_PORT=$SINK_PORT"; echo "POLICY=${POLICY:-}"; echo "POLICY_STAGES=${POLICY_STAGES:-rcpt eod}"
		echo "POLICY_SCOPE=${POLICY_SCOPE:-submission}"; echo "MILTER=${MILTER:-}"; echo "MILTER_SCOPE=${MILTER_SCOPE:-submission}"
	} >"$D/env"

	dovecot -c "$D/dovecot.conf" >>"$D/dovecot.log" 2>&1 || { tail -5 "$D/dovecot.log" >&2; die "dovecot failed to start"; }
	wait_for 10 test -S "$D/dovecot-run/auth-postfix" || die "dovecot auth socket missing (see $D/dovecot.log)"
	echo "dovecot $(dc_master_pid)" >>"$D/pids"

	start_sink

	postfix -c "$PFX" check >>"$D/postfix-start.log" 2>&1 || { pf_diag check; die "postfix check failed"; }
	postfix -c "$PFX" start >>"$D/postfix-start.log" 2>&1 || { pf_diag start; die "postfix start failed"; }
	for p in $MX_PORT $SUB_PORT $RELAY_PORT; do
		wait_for 10 listening "$p" || die "postfix is not listening on 127.0.0.1:$p (see $D/maillog)"
	done
	echo "postfix $(pf_master_pid)" >>"$D/pids"

	# watchdog: a bounded lifetime for the whole stack, in case the caller dies without `down`
	if [ "$ttl" -gt 0 ] 2>/dev/null; then
		# shellcheck disable=SC2016 # positional parameters of the inner sh
		spawn "$D/watchdog.pid" "$D/watchdog.log" sh -c 'sleep "$1"; exec "$2" down "$3"' sh "$ttl" "$SELF" "$D"
		echo "watchdog $(cat "$D/watchdog.pid")" >>"$D/pids"
	fi
	UPPING=0
	say "up in $D: MX 127.0.0.1:$MX_PORT, submission 127.0.0.1:$SUB_PORT, open relay 127.0.0.1:$RELAY_PORT," \
		"sink 127.0.0.1:$SINK_PORT${POLICY:+, policy $POLICY}${MILTER:+, milter $MILTER}, ttl ${ttl}s"
	cat "$D/pids"
}

cmd_down() {
	local pf dc p left
	# Signal everything first, then wait: the Postfix master takes ~1.5 s to exit, Dovecot ~3 s.
	pf=$(pf_master_pid)
	alive "$pf" && postfix -c "$PFX" stop >>"$D/postfix-start.log" 2>&1
	dc=$(dc_master_pid)
	alive "$dc" && kill "$dc" 2>/dev/null      # TERM to the Dovecot master = doveadm stop
	stop_sink
	alive "$pf" && { wait_for 15 dead "$pf" || stop_pid postfix-master "$pf" 1; }
	alive "$dc" && { wait_for 15 dead "$dc" || stop_pid dovecot-master "$dc" 1; }
	# the watchdog (sh + sleep, in its own session) - unless it is the watchdog that is running `down`
	p=$(watchdog_pid)
	if [ -n "$p" ] && [ "$p" != "$$" ] && alive "$p"; then
		kill -- "-$p" 2>/dev/null || kill "$p" 2>/dev/null
		wait_for 3 dead "$p"
	fi
	# Postfix/Dovecot children normally exit together with their master
	left=$(leftovers)
	if [ -n "$left" ]; then sleep 2; left=$(leftovers); fi
	[ -n "$left" ] && say "WARNING: processes still alive: $left"
	[ -f "$D/pids" ] && mv -f "$D/pids" "$D/pids.last"
	say "down: $D"
	[ -z "$left" ]
}

cmd_status() {
	local up=0 n p
	[ -f "$D/pids" ] || say "no $D/pids: the stack is down"
	for n in postfix dovecot smtp-sink; do
		case $n in postfix) p=$(pf_master_pid);; dovecot) p=$(dc_master_pid);; smtp-sink) p=$(sink_pid);; esac
		if alive "$p"; then echo "  $n: running, pid $p"; up=$((up + 1)); else echo "  $n: not running"; fi
	done
	p=$(watchdog_pid); alive "$p" && echo "  watchdog: pid $p"
	for p in $PORTS; do if listening "$p"; then echo "  127.0.0.1:$p listening"; else echo "  127.0.0.1:$p -"; fi; done
	alive "$(pf_master_pid)" && echo "  queue: $(postqueue -c "$PFX" -j 2>/dev/null | wc -l) message(s)"
	[ -d "$D/sink" ] && echo "  sink: $(find "$D/sink" -type f | wc -l) transaction(s) in $D/sink"
	for n in $USERS; do
		[ -d "$D/mail/example.test/$n/new" ] && echo "  mailbox $n@example.test: $(find "$D/mail/example.test/$n/new" -type f | wc -l) new"
	done
	[ -f "$D/env" ] && sed 's/^/  /' "$D/env"
	case $up in 3) return 0;; 0) return 3;; *) return 1;; esac
}

# After `up`, the other commands use the ports that `up` recorded in DIR/env (sink-start must reuse the
# relayhost port; status shows the right listeners), whatever the current environment says.
load_ports() {
	local k v
	while IFS='=' read -r k v; do
		case "$k=$v" in
		HJ_MX_PORT=[0-9]*) MX_PORT=$v;; HJ_SUB_PORT=[0-9]*) SUB_PORT=$v;;
		HJ_RELAY_PORT=[0-9]*) RELAY_PORT=$v;; HJ_SINK_PORT=[0-9]*) SINK_PORT=$v;;
		esac
	done <"$D/env"
	PORTS="$MX_PORT $SUB_PORT $RELAY_PORT $SINK_PORT"
}

cmd=${1:-}
resolve_dir "${2:-}" "$cmd"
[ "$cmd" != up ] && [ -f "$D/env" ] && load_ports
check_env
case $cmd in
up) cmd_up;;
down) cmd_down;;
status) cmd_status;;
sink-stop) stop_sink; say "smtp-sink stopped";;
sink-start) start_sink; say "smtp-sink started";;
*) die "usage: $0 {up|down|status|sink-stop|sink-start} DIR";;
esac
