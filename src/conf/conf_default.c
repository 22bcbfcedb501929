/*
 * conf_default - the built-in configuration used when no -c FILE is given
 *
 * Sound, conservative limits: warn early, throttle (4xx, the user's mail
 * client retries later) on clear floods, lock only well above what people
 * send, and flag open relaying. The detection issue tunes this further;
 * every value here can be changed in a file or with -o.
 */
#include "conf.h"

const char conf_default_text[] =
    "# hijackd built-in default configuration (hijackd config prints it)\n"
    "own_networks =\n"
    "local_domains =\n"
    "exempt =\n"
    "\n"
    "# volume: recipients (a mail to 10 people counts 10) and messages\n"
    "rule rcpt_warn_1h = metric=recipients window=1h limit=150 action=warn\n"
    "rule rcpt_throttle_30m = metric=recipients window=30m limit=300 action=throttle "
    "throttle=30m\n"
    "rule rcpt_lock_30m = metric=recipients window=30m limit=500 action=lock class=external\n"
    "rule msgs_throttle_10m = metric=messages window=10m limit=100 action=throttle "
    "throttle=30m\n"
    "# password guessing against one account, and from one client address\n"
    "rule auth_fail_warn_1h = metric=failed_logins window=1h limit=20 action=warn\n"
    "rule auth_fail_ip_warn_1h = metric=failed_logins window=1h limit=50 action=warn "
    "scope=ip\n"
    "# a harvested list: many recipients bounce\n"
    "rule bounce_warn_1h = metric=bounces window=1h limit=30 action=warn\n"
    "# unauthenticated mail from outside to outside: an open relay\n"
    "rule relay_1h = metric=relay_recipients window=1h limit=10 action=relay scope=global\n";
