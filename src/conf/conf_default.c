/*
 * conf_default - the built-in configuration used when no -c FILE is given
 *
 * Mail from a network new to the account ("novel") is judged strictly:
 * repeated similar sizes or a burst of recipients throttle, then lock.
 * Mail from known, own and private networks is judged on volume only, and
 * far above what people send. The score combines the signals of signals.c
 * and locks only when several kinds of evidence agree for a while.
 * docs/DETECTION.md explains each rule; every
 * value here can be changed in a file or with -o.
 */
#include "conf.h"

const char conf_default_text[] =
    "# hijackd built-in default configuration (hijackd config prints it)\n"
    "own_networks =\n"
    "local_domains =\n"
    "exempt =\n"
    "\n"
    "# Stolen passwords are used from networks the account has never used. Mail from such a\n"
    "# \"novel\" network (net_trust_after) is judged strictly; mail from the account's own\n"
    "# networks, your own and private networks (webmail, CRM, monitoring) only on volume.\n"
    "# spam repeats itself: many messages of nearly the same size (similar_size_tolerance)\n"
    "rule novel_similar_throttle = metric=similar_sizes window=1h limit=5 action=throttle "
    "throttle=1h novel=yes\n"
    "rule novel_similar_lock = metric=similar_sizes window=1h limit=9 action=lock novel=yes\n"
    "# a blast or a Bcc blast from a novel network\n"
    "rule novel_rcpt_throttle = metric=recipients window=1h limit=60 action=throttle "
    "throttle=1h novel=yes\n"
    "rule novel_rcpt_lock = metric=recipients window=1h limit=120 action=lock novel=yes\n"
    "# the score: each message is judged on signals of four kinds (where it comes from, what\n"
    "# sends it, what it is, who got in, each against the account's own history) and scores\n"
    "# when two kinds agree (score_weights, score_min_kinds); the rules sum it over an hour\n"
    "rule score_warn = metric=score window=1h limit=15 action=warn\n"
    "rule score_throttle = metric=score window=1h limit=30 action=throttle throttle=1h\n"
    "rule score_lock = metric=score window=1h limit=60 action=lock\n"
    "# volume from known networks: tell someone; pause only far beyond what people send\n"
    "rule rcpt_warn_1h = metric=recipients window=1h limit=150 action=warn\n"
    "rule known_rcpt_throttle_30m = metric=recipients window=30m limit=1000 action=throttle "
    "throttle=30m\n"
    "# password guessing against one account, and from one client address\n"
    "rule auth_fail_warn_1h = metric=failed_logins window=1h limit=20 action=warn\n"
    "rule auth_fail_ip_warn_1h = metric=failed_logins window=1h limit=50 action=warn "
    "scope=ip\n"
    "# a harvested list: many recipients bounce\n"
    "rule bounce_warn_1h = metric=bounces window=1h limit=30 action=warn\n"
    "rule bounce_ratio_warn_1h = metric=bounce_ratio window=1h limit=30 action=warn\n"
    "# unauthenticated mail from outside to outside: an open relay\n"
    "rule relay_1h = metric=relay_recipients window=1h limit=10 action=relay scope=global\n"
    "# outgoing spam: what the anti-spam engine said of the account's mail (spam_scanner, or\n"
    "# rspamd's exporter): a warning at the first, a lock at the 3rd in an hour or 6th in a day\n"
    "rule spam_warn = metric=spam window=1h limit=0 action=warn\n"
    "rule spam_lock_1h = metric=spam window=1h limit=2 action=lock\n"
    "rule spam_lock_1d = metric=spam window=24h limit=5 action=lock\n";
