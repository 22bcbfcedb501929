#!/bin/bash
# sendmail.sh - a throwaway real Sendmail 8.17 (Debian's sendmail-bin) on 127.0.0.1, with one milter
# as its only front end, for hijackd's milter tests. Postfix stays the system MTA: Sendmail is never
# installed, only downloaded (apt-get download) and unpacked (dpkg-deb -x) into a cache directory.
#
#   sendmail.sh fetch        download + unpack sendmail-bin, sendmail-cf, sasl2-bin, m4 into the cache
#                            (reused; exit 3 when the packages cannot be had: callers skip)
#   sendmail.sh env DIR      print the settings as shell assignments (eval-able): those of the running
#                            instance, or, when DIR is not up, free loopback ports to pass to `up`
#   sendmail.sh up DIR       write DIR's configuration (m4 .mc -> .cf, sasldb, aliases) and start it
#   sendmail.sh down DIR     stop everything `up` started for DIR, by recorded PID
#   sendmail.sh status DIR   exit 0 = running, 3 = down
#
# What runs (everything on 127.0.0.1; no DNS; nothing leaves the machine):
#   127.0.0.1:PORT   Sendmail's only listener (Name=MTA): SMTP AUTH PLAIN/LOGIN over plain text
#                    (Cyrus SASL, a private sasldb), relaying only for authenticated clients
#   the milter       INPUT_MAIL_FILTER(`hijackd', `S=inet:MPORT@127.0.0.1, F=MILTER_FLAGS, T=...');
#                    NOT started here: the caller runs hijackd (or a dump milter) on MPORT
#   the sink         every recipient, local or remote, is delivered by a prog mailer to
#                    DIR/sink/msg.* (one file per recipient; first lines X-Sink-From/X-Sink-Rcpt)
#   users            alice@example.test/secret-alice, bob@example.test/secret-bob
#   logs             DIR/sendmail.log (Sendmail's syslog lines, via -d89.8 -D FILE; no syslogd needed)
#
# Environment for `up` (all optional):
#   PORT=N            SMTP port (default: a free one)       MPORT=N   milter port (default: a free one)
#   MILTER_FLAGS=T    F= of the filter: empty (default) = fail-open, the mail goes on as if no filter
#                     were configured when the milter is down; T = tempfail (4xx); R = reject (5xx)
#   LOGLEVEL=N        Sendmail LogLevel (default 14: milter actions are logged from 10 on)
#   SENDMAIL_CACHE=D  the unpacked packages (default /var/tmp/hijackd-sendmail)
#   SENDMAIL_TTL=N    a watchdog runs `down DIR` after N seconds (default 3600; 0 = none)
# Needs root: Sendmail runs in its own UTS namespace (hostname mta.example.test, so it never waits
# 60 s for "My unqualified host name (vm) unknown") and its own mount namespace (the private SASL
# directory is bind-mounted over the library's search path). See tests/sendmail/README.md.
set -u
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

SELF=$(readlink -f "$0")
CACHE=${SENDMAIL_CACHE:-/var/tmp/hijackd-sendmail}
R="$CACHE/root"
SM="$R/usr/libexec/sendmail/sendmail"
CFDIR="$R/usr/share/sendmail/cf"
PKGS="sendmail-bin sendmail-cf sasl2-bin m4"
MYNAME=mta.example.test
USERS="alice bob"
# Cyrus SASL's compiled-in configuration path (libsasl2 2.1.28, Debian 12); Sendmail clears its
# environment, so SASL_CONF_PATH never reaches the library (checked: /proc/PID/environ is empty)
SASL_CONF_DIRS="/etc/sasl2 /etc/sasl /usr/lib/sasl2"

die() {
	echo "sendmail.sh: ERROR: $*" >&2
	if [ "${UPPING:-0}" = 1 ]; then UPPING=0; echo "sendmail.sh: stopping the partial instance" >&2; cmd_down >&2; fi
	exit "${DIE_RC:-1}"
}
say() { echo "sendmail.sh: $*"; }
# alive = exists and is not a zombie (PID 1 here reaps orphans late: kill -0 succeeds on a zombie)
alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null && ! grep -qE '^[0-9]+ \(.*\) Z' "/proc/$1/stat" 2>/dev/null; }
listening() { ss -ltn "sport = :$1" 2>/dev/null | grep -q "127.0.0.1:$1 "; }
wait_for() { # seconds command...
	local n=$(($1 * 10))
	shift
	while [ $n -gt 0 ]; do "$@" && return 0; sleep 0.1; n=$((n - 1)); done
	return 1
}
free_ports() {
	python3 -c '
import socket, sys
ss = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in ss: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])' "$1"
}
cmdline() { { tr '\0' ' ' <"/proc/$1/cmdline"; } 2>/dev/null; }
mntns() { readlink "/proc/$1/ns/mnt" 2>/dev/null; }

resolve_dir() {
	[ -n "${1:-}" ] || die "usage: $0 {fetch|env|up|down|status} DIR"
	case $2 in up | env) mkdir -p "$1" || die "cannot create $1" ;; esac
	[ -d "$1" ] || die "no such directory: $1"
	D=$(cd "$1" && pwd -P)
	# DIR ends up in sendmail.cf option values, mailer argv (split on blanks) and m4 quotes
	case "$D" in *[!A-Za-z0-9/._+-]*) die "DIR may contain only A-Z a-z 0-9 / . _ + - (it goes into sendmail.cf): $D" ;; esac
	[ "$D" != / ] || die "refusing DIR=/"
}

# ---------------------------------------------------------------- fetch
# apt-get download needs a writable cwd, no root. As root, apt's _apt sandbox user cannot write
# into a root-owned dir ("Download is performed unsandboxed as root": a warning only); say root.
cmd_fetch() {
	[ -x "$SM" ] && [ -f "$CACHE/unpacked" ] && return 0
	command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null || { DIE_RC=3; die "no apt-get/dpkg-deb here"; }
	mkdir -p "$CACHE" || { DIE_RC=3; die "cannot create $CACHE"; }
	local t sandbox=""
	t=$(mktemp -d "$CACHE/fetch.XXXXXX") || { DIE_RC=3; die "cannot write $CACHE"; }
	[ "$(id -u)" = 0 ] && sandbox="-o APT::Sandbox::User=root"
	# shellcheck disable=SC2086
	if ! (cd "$t" && apt-get $sandbox -q download $PKGS) >"$t/apt.log" 2>&1; then
		# stale package lists (the version was superseded): update once (root only), then retry
		if [ "$(id -u)" = 0 ]; then apt-get -o DPkg::Lock::Timeout=600 -qq update >>"$t/apt.log" 2>&1; fi
		# shellcheck disable=SC2086
		(cd "$t" && apt-get $sandbox -q download $PKGS) >>"$t/apt.log" 2>&1 ||
			{ tail -3 "$t/apt.log" >&2; rm -rf "$t"; DIE_RC=3; die "apt-get download $PKGS failed"; }
	fi
	mkdir "$t/root"
	local f
	for f in "$t"/*.deb; do dpkg-deb -x "$f" "$t/root" || { rm -rf "$t"; DIE_RC=3; die "dpkg-deb -x $f failed"; }; done
	# our copy need not be set-gid smmsp/mail: root runs it, and a set-gid binary makes libsasl
	# ignore its environment (getgid != getegid)
	chmod g-s "$t/root/usr/libexec/sendmail/sendmail"
	(cd "$t" && ls -1 ./*.deb) >"$t/root/.debs"
	rm -rf "$R.old"; [ -d "$R" ] && mv "$R" "$R.old"
	mv "$t/root" "$R" && mkdir -p "$CACHE/debs" && mv "$t"/*.deb "$CACHE/debs/" && rm -rf "$t" "$R.old"
	local missing
	missing=$(ldd "$SM" "$R/usr/sbin/saslpasswd2" 2>&1 | grep 'not found' | sort -u)
	[ -z "$missing" ] || { DIE_RC=3; die "the unpacked Sendmail lacks libraries (scripts/deps.sh test installs them): $missing"; }
	date -u +%FT%TZ >"$CACHE/unpacked"
	say "unpacked $(tr '\n' ' ' <"$R/.debs")into $R"
}

# the Cyrus SASL plugins Sendmail needs: PLAIN, LOGIN (libsasl2-modules), sasldb (-modules-db)
sasl_plugin_dir() {
	local d
	for d in /usr/lib/x86_64-linux-gnu/sasl2 /usr/lib/*-linux-gnu*/sasl2 /usr/lib/sasl2; do
		[ -e "$d/libplain.so.2" ] || [ -e "$d/libplain.so" ] && { echo "$d"; return 0; }
	done
	return 1
}

# ---------------------------------------------------------------- config
write_mc() { # the .mc: every line an admin needs for hijackd's milter is in the milter block
	local flags=""
	[ -n "${MILTER_FLAGS:-}" ] && flags=", F=$MILTER_FLAGS"
	cat <<EOF
divert(-1)
# hijackd test Sendmail for $D (generated by tests/sendmail/sendmail.sh; edits are lost on up)
divert(0)dnl
VERSIONID(\`hijackd tests/sendmail')dnl
OSTYPE(\`linux')dnl
dnl --- no DNS, no interface probing, no ident, a fixed name ($MYNAME, also the UTS hostname)
define(\`confDOMAIN_NAME', \`$MYNAME')dnl
define(\`confDONT_PROBE_INTERFACES', \`True')dnl
define(\`confSERVICE_SWITCH_FILE', \`$D/service.switch')dnl
define(\`confHOSTS_FILE', \`$D/hosts')dnl
define(\`confTO_IDENT', \`0')dnl
FEATURE(\`nocanonify')dnl
FEATURE(\`accept_unresolvable_domains')dnl
dnl --- everything private to DIR
define(\`QUEUE_DIR', \`$D/mqueue')dnl
define(\`confPID_FILE', \`$D/sendmail.pid')dnl
define(\`STATUS_FILE', \`$D/statistics')dnl
define(\`ALIAS_FILE', \`$D/aliases')dnl
define(\`HELP_FILE', \`$R/etc/mail/helpfile')dnl
define(\`confLOG_LEVEL', \`${LOGLEVEL:-14}')dnl
dnl DIR is under /tmp (world-writable): Sendmail refuses maps, programs and the help file below it
define(\`confDONT_BLAME_SENDMAIL', \`MapInUnsafeDirPath, RunProgramInUnsafeDirPath, HelpFileInUnsafeDirPath')dnl
dnl --- one listener: 127.0.0.1:$PORT (no_default_msa: else Sendmail adds an MSA on *:587)
FEATURE(\`no_default_msa')dnl
DAEMON_OPTIONS(\`Port=$PORT, Addr=127.0.0.1, Name=MTA')dnl
dnl --- SMTP AUTH (Cyrus SASL: Sendmail.conf + sasldb bind-mounted over the SASL conf dir)
define(\`confAUTH_OPTIONS', \`A')dnl
define(\`confAUTH_MECHANISMS', \`PLAIN LOGIN')dnl
TRUST_AUTH_MECH(\`PLAIN LOGIN')dnl
dnl --- the milter: hijackd's lines (docs: tests/sendmail/README.md)
INPUT_MAIL_FILTER(\`hijackd', \`S=inet:$MPORT@127.0.0.1$flags, T=C:10s;S:10s;R:10s;E:30s')dnl
define(\`confMILTER_MACROS_CONNECT', \`j, _, {daemon_name}, {if_name}, {if_addr}, {client_addr}, {client_port}, {client_name}')dnl
define(\`confMILTER_MACROS_HELO', \`{tls_version}, {cipher}, {cipher_bits}, {cert_subject}, {cert_issuer}')dnl
define(\`confMILTER_MACROS_ENVFROM', \`i, {auth_type}, {auth_authen}, {auth_ssf}, {auth_author}, {mail_mailer}, {mail_host}, {mail_addr}')dnl
define(\`confMILTER_MACROS_ENVRCPT', \`i, {rcpt_mailer}, {rcpt_host}, {rcpt_addr}')dnl
define(\`confMILTER_MACROS_EOM', \`i, {msg_id}')dnl
dnl --- delivery: every recipient to the sink (SMART_HOST for remote, the local mailer for local)
define(\`SMART_HOST', \`sink:sink.test')dnl
define(\`LOCAL_MAILER_PATH', \`$D/sink.sh')dnl
define(\`LOCAL_MAILER_FLAGS', \`Sn')dnl
define(\`LOCAL_MAILER_ARGS', \`sink.sh \$f \$u')dnl
MAILER(\`local')dnl
MAILER(\`smtp')dnl
MAILER_DEFINITIONS
Msink,	P=$D/sink.sh, F=DFMSnsu, S=EnvFromSMTP/HdrFromSMTP, R=EnvToSMTP, T=DNS/RFC822/SMTP, A=sink.sh \$f \$u
EOF
}

write_conf() {
	mkdir -p "$D/mqueue" "$D/sink" "$D/sasl" || die "cannot write $D"
	chmod 0700 "$D/mqueue"; chmod 0755 "$D/sasl"
	printf 'hosts\tfiles\naliases\tfiles\n' >"$D/service.switch"
	printf '127.0.0.1\t%s localhost\n' "$MYNAME" >"$D/hosts"
	printf 'postmaster: root\nMAILER-DAEMON: postmaster\n' >"$D/aliases"
	: >"$D/statistics"
	cat >"$D/sink.sh" <<'EOF'
#!/bin/sh
# sendmail.sh's sink mailer: sink.sh SENDER RECIPIENT < message -> DIR/sink/msg.* (one per recipient)
d=$(dirname "$0")/sink
f=$(mktemp "$d/.new.XXXXXX") || exit 75
{ printf 'X-Sink-From: %s\nX-Sink-Rcpt: %s\n' "$1" "$2"; cat; } >"$f" || { rm -f "$f"; exit 75; }
mv "$f" "$d/msg.${f##*.new.}" || exit 75
EOF
	chmod 0755 "$D/sink.sh"
	write_mc >"$D/sendmail.mc"
	"$R/usr/bin/m4" -D_CF_DIR_="$CFDIR/" "$CFDIR/m4/cf.m4" "$D/sendmail.mc" >"$D/sendmail.cf" 2>"$D/m4.err" ||
		die "m4 failed: $(head -3 "$D/m4.err")"
	[ -s "$D/m4.err" ] && die "m4: $(head -3 "$D/m4.err")"
	# Cyrus SASL reads Sendmail.conf from its search path; the sasldb is named as seen inside the
	# namespace, where DIR/sasl is mounted over $SASL_TARGET (a path Sendmail deems safe, unlike /tmp)
	cat >"$D/sasl/Sendmail.conf" <<EOF
pwcheck_method: auxprop
auxprop_plugin: sasldb
sasldb_path: $SASL_TARGET/sasldb2
mech_list: PLAIN LOGIN
EOF
	rm -f "$D/sasl/sasldb2"
	local u
	for u in $USERS; do
		printf '%s' "secret-$u" | "$R/usr/sbin/saslpasswd2" -p -c -f "$D/sasl/sasldb2" -u example.test "$u" ||
			die "saslpasswd2 failed for $u"
	done
	chmod 0640 "$D/sasl/sasldb2"
	in_ns "$SM" -C "$D/sendmail.cf" -bi >"$D/newaliases.log" 2>&1 || die "newaliases failed: $(tail -2 "$D/newaliases.log")"
}

# Where to mount DIR/sasl: every existing dir of the library's conf path before its plugin dir
# gets it (so no system Sendmail.conf can win); at least one must exist (a mount needs a target).
sasl_targets() {
	local d out=""
	for d in $SASL_CONF_DIRS; do [ -d "$d" ] && out="$out $d"; done
	echo $out
}
# in_ns CMD...: run CMD (exec'ed: same PID) with the UTS hostname $MYNAME and DIR/sasl mounted over
# each of $SASL_TARGETS, in namespaces of its own (unshare without --fork execs in place, too)
NS_SH='hostname "$1" || exit 97
d=$2
shift 2
for t in $SASL_TARGETS; do mount --bind "$d" "$t" || exit 98; done
exec "$@"'
in_ns() { unshare -u -m sh -c "$NS_SH" sh "$MYNAME" "$D/sasl" "$@"; }

# ---------------------------------------------------------------- run
sm_pid() { # the daemon, only if it still is ours: our binary, and (once recorded) our namespace
	local p
	p=$(cat "$D/daemon.pid" 2>/dev/null)
	[ -n "$p" ] && [ "$(readlink "/proc/$p/exe" 2>/dev/null)" = "$SM" ] || return 0
	[ ! -s "$D/mntns" ] || [ "$(mntns "$p")" = "$(cat "$D/mntns")" ] && echo "$p"
}
watchdog_pid() {
	local p
	p=$(cat "$D/watchdog.pid" 2>/dev/null)
	[ -n "$p" ] && case "$(cmdline "$p")" in *" $SELF $D"* | *" $SELF down $D"*) echo "$p" ;; esac
}
# processes in the daemon's mount namespace (its SMTP and delivery children; they rename themselves)
ns_members() {
	local ns pat f p out=""
	ns=$(cat "$D/mntns" 2>/dev/null)
	[ -n "$ns" ] && [ "$ns" != "$(mntns $$)" ] || return 0
	pat=$(printf '%s' "$ns" | sed 's/[][*?\\]/\\&/g') # "mnt:[4026532...]": [ ] are glob characters
	# one find for all of /proc (a readlink per process costs seconds on a loaded machine)
	# shellcheck disable=SC2044 # /proc/N/ns/mnt paths have no blanks
	for f in $(find /proc/[0-9]*/ns/mnt -maxdepth 0 -lname "$pat" 2>/dev/null); do
		p=${f#/proc/}
		p=${p%%/*}
		alive "$p" && out="$out $p"
	done
	echo $out
}

write_env() {
	cat <<EOF
SENDMAIL_DIR=$D
SENDMAIL_PORT=$PORT
SENDMAIL_MPORT=$MPORT
SENDMAIL_MILTER=inet:$MPORT@127.0.0.1
SENDMAIL_MILTER_FLAGS=${MILTER_FLAGS:-}
SENDMAIL_SINK=$D/sink
SENDMAIL_LOG=$D/sendmail.log
SENDMAIL_USERS="alice@example.test:secret-alice bob@example.test:secret-bob"
EOF
}

cmd_up() {
	[ "$(id -u)" = 0 ] || die "needs root (unshare -u -m: its own hostname and SASL mount)"
	alive "$(sm_pid)" && { say "an instance runs in $D: restarting it"; cmd_down; }
	cmd_fetch
	sasl_plugin_dir >/dev/null || die "no Cyrus SASL PLAIN plugin (install libsasl2-modules: scripts/deps.sh test)"
	SASL_TARGETS=$(sasl_targets)
	export SASL_TARGETS
	[ -n "$SASL_TARGETS" ] || die "none of $SASL_CONF_DIRS exists: nothing to mount the private SASL config over"
	SASL_TARGET=${SASL_TARGETS%% *}
	local ports
	if [ -z "${PORT:-}" ] || [ -z "${MPORT:-}" ]; then ports=$(free_ports 2); fi
	PORT=${PORT:-${ports%% *}} MPORT=${MPORT:-${ports##* }}
	listening "$PORT" && die "127.0.0.1:$PORT is already in use"
	rm -rf "$D/mqueue" "$D/sink" "$D/sasl"
	rm -f "$D/sendmail.log" "$D/sendmail.out" "$D/sendmail.pid" "$D/daemon.pid" "$D/mntns" "$D/pids.last"
	UPPING=1
	write_conf
	write_env >"$D/env"
	# -bD: daemon in the foreground (its PID is the one recorded); -q30s: queue runs
	# -D FILE -d89.8: Sendmail's log lines go to FILE instead of syslog(3) (there is no /dev/log)
	setsid -f sh -c 'echo $$ >"$1"; shift; exec "$@"' sh "$D/daemon.pid" \
		unshare -u -m sh -c "$NS_SH" sh "$MYNAME" "$D/sasl" \
		"$SM" -C "$D/sendmail.cf" -D "$D/sendmail.log" -d89.8 -L sm-hijackd -bD -q30s \
		>>"$D/sendmail.out" 2>&1 </dev/null
	wait_for 10 listening "$PORT" || die "Sendmail is not listening on 127.0.0.1:$PORT (see $D/sendmail.log, $D/sendmail.out)"
	local p
	p=$(sm_pid)
	alive "$p" || die "Sendmail's PID not found (see $D/sendmail.out)"
	mntns "$p" >"$D/mntns"
	echo "sendmail $p" >"$D/pids"
	local ttl=${SENDMAIL_TTL:-3600}
	if [ "$ttl" -gt 0 ] 2>/dev/null; then
		rm -f "$D/watchdog.pid"
		setsid -f sh -c 'echo $$ >"$1"; sleep "$2"; exec "$3" down "$4"' sh "$D/watchdog.pid" "$ttl" "$SELF" "$D" \
			>>"$D/watchdog.log" 2>&1 </dev/null
		wait_for 3 test -s "$D/watchdog.pid"
		echo "watchdog $(cat "$D/watchdog.pid")" >>"$D/pids"
	fi
	UPPING=0
	say "up in $D: SMTP 127.0.0.1:$PORT (AUTH PLAIN LOGIN), milter inet:$MPORT@127.0.0.1${MILTER_FLAGS:+ F=$MILTER_FLAGS}, sink $D/sink, log $D/sendmail.log"
}

stop_pids() { # TERM, wait up to 10 s, then KILL
	local p left
	[ -n "$*" ] || return 0
	kill "$@" 2>/dev/null
	for _ in $(seq 100); do
		left=""
		for p in "$@"; do alive "$p" && left="$left $p"; done
		[ -z "$left" ] && return 0
		sleep 0.1
	done
	say "still alive after TERM, sending KILL:$left"
	# shellcheck disable=SC2086
	kill -9 $left 2>/dev/null
}

cmd_down() {
	local p members
	p=$(sm_pid)
	members=$(ns_members)
	# the daemon first (on TERM it signals its children), then whatever is left in its namespace
	alive "$p" && stop_pids "$p"
	# shellcheck disable=SC2046
	stop_pids $(ns_members)
	p=$(watchdog_pid)
	if [ -n "$p" ] && alive "$p"; then
		# the watchdog is its own process group (sh + sleep); not when it is the one running down
		[ "$p" = "$$" ] || kill -- "-$p" 2>/dev/null
	fi
	[ -f "$D/pids" ] && mv -f "$D/pids" "$D/pids.last"
	rm -f "$D/env" "$D/mntns"
	say "down: $D${members:+ (stopped:$members)}"
}

cmd_status() {
	local p
	p=$(sm_pid)
	if alive "$p"; then
		local n=0 f
		for f in "$D"/sink/msg.*; do [ -f "$f" ] && n=$((n + 1)); done
		say "running: sendmail $p, $n message(s) in $D/sink"
		return 0
	fi
	say "down: $D"
	return 3
}

cmd_env() {
	if [ -f "$D/env" ] && alive "$(sm_pid)"; then cat "$D/env"; return 0; fi
	local ports
	ports=$(free_ports 2)
	echo "PORT=${ports%% *}"
	echo "MPORT=${ports##* }"
}

cmd=${1:-}
case $cmd in
fetch) cmd_fetch ;;
up | down | status | env)
	resolve_dir "${2:-}" "$cmd"
	case $cmd in up) cmd_up ;; down) cmd_down ;; status) cmd_status; exit $? ;; env) cmd_env ;; esac
	;;
*) die "usage: $0 {fetch|env|up|down|status} DIR" ;;
esac
