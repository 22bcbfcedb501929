#!/bin/sh
# scripts/deps.sh build|test - install the Debian packages hijackd needs, only those missing.
#   build: compiler, make, zlib, SQLite, libevent, jansson, libcurl, OpenSSL's libcrypto (HMAC)
#   test:  the above, cmocka, python3, and the real mail stack the e2e tests start
#          (Postfix with debconf "No configuration", Dovecot, swaks), and clang for the
#          libFuzzer harnesses of tests/fuzz (make fuzz-smoke), and the anti-spam engines
#          tests/scan_test.py starts (rspamd, SpamAssassin's spamd and spamc); and for
#          tests/sendmail/ the Cyrus SASL plugins (PLAIN, LOGIN, sasldb) and the libraries of
#          sendmail-bin, whose packages (sendmail-bin, sendmail-cf, sasl2-bin, m4) are only
#          downloaded and unpacked into /var/tmp/hijackd-sendmail: sendmail-bin conflicts with
#          Postfix, so it is never installed (a failed download is reported; tests/sendmail skips)
set -eu
want="gcc make libc6-dev zlib1g-dev libsqlite3-dev libevent-dev libjansson-dev libcurl4-openssl-dev libssl-dev binutils"
[ "${1:-build}" = test ] && want="$want libcmocka-dev python3 gzip postfix dovecot-core swaks iproute2 procps util-linux clang rspamd spamassassin spamd spamc libsasl2-modules libsasl2-modules-db libwrap0 libnsl2"
sendmail_fetch() {
	[ "${1:-build}" = test ] || return 0
	"$(dirname "$0")/../tests/sendmail/sendmail.sh" fetch >&2 || echo "hijackd: no Sendmail for tests/sendmail (its tests will skip)" >&2
}
missing=""
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && { sendmail_fetch "${1:-build}"; exit 0; }
if [ "$(id -u)" != 0 ]; then
	echo "hijackd: missing Debian packages:$missing (run as root, or install them)" >&2
	exit 1
fi
echo "hijackd: installing$missing" >&2
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=600 update -qq >&2
# shellcheck disable=SC2086
apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $missing >&2
sendmail_fetch "${1:-build}"
