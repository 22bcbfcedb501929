/*
 * hijackctl - the administrator's command for a running hijackd
 *
 * SYNOPSIS
 *	hijackctl [-c FILE] [-o name=value]... [--json] COMMAND [ARGS]
 *
 *	status | locked | show ACCOUNT | lock ACCOUNT [--reason TEXT]
 *	unlock ACCOUNT [--reason TEXT] | exempt add|del PATTERN | exempt list
 *	history [ACCOUNT] [--since T] | top | decisions [ACCOUNT] [--limit N]
 *	reload | config check [FILE] | mail-unlock [--sender ADDRESS]
 *	queue [--config-dir DIR] [--postqueue PATH]
 *	queue purge ACCOUNT [--yes] [--by-sender] [--config-dir DIR] [--postqueue PATH]
 *	            [--postsuper PATH]
 *	queue release ACCOUNT [--yes] [--by-sender] [--config-dir DIR] [--postqueue PATH]
 *	            [--postsuper PATH]
 *	queue held [ACCOUNT] [--config-dir DIR] [--postqueue PATH]
 *
 * DESCRIPTION
 *	Reads the daemon's configuration (-c, -o, or the built-in default,
 *	exactly as hijackd does) to find the control socket: control_socket,
 *	or state_dir + "/control.sock" when that is empty. Each daemon command
 *	is one connection: one request line (a JSON object with "cmd"), one
 *	answer line (a JSON object with "status", 200 or an HTTP-like error
 *	with "error"), every step bounded by a 10 s timeout. The answer's body
 *	(the answer without "status") is printed as one JSON line with --json,
 *	else as tables for people, control characters shown as '?'.
 *	"config check" needs no daemon. "queue" reads postqueue -j and asks
 *	the daemon which account sent each queued message (going on without
 *	when it is not running); "queue purge" deletes, with postsuper and only
 *	with --yes, the messages that are provably the account's (queue.h:
 *	queue_match; sender-only ones with --by-sender), held ones too; "queue
 *	release" releases (postsuper -H) those of them in the hold queue, with
 *	the same rules; "queue held" lists the hold queue (of one account:
 *	mapped to it or sent as it). Options may come anywhere; "--"
 *	ends them. Errors go to stderr, prefixed "hijackctl: ".
 *	docs/hijackctl.md is the reference.
 *
 *	Exit status: 0 done; 1 refused or not found (a 4xx answer other than
 *	403, nothing queued to purge); 2 usage; 3 configuration error;
 *	4 hijackd not running, unreachable, or silent for 10 s; 5 permission
 *	denied (403, or the socket refuses the caller); 6 internal error (a 5xx
 *	answer, a malformed answer, postqueue or postsuper failed). mail-unlock: mailmsg.h.
 *
 *	No global state besides constant tables. Allocation failure is fatal.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "../../conf/conf.h"
#include "../../util/alloc.h"
#include "../../util/buf.h"
#include "../../util/htab.h"
#include "../../util/timeconv.h"
#include "ctl_args.h"
#include "ctl_show.h"
#include "ctl_sock.h"
#include "../../notify/mailmsg.h"
#include "../../postfix/queue.h"

#define CTL_IDS_PER_REQUEST 1000 /* queue IDs per queue_accounts request */
#define CTL_TOP_WINDOW 3600      /* s: what "top" asks for */
#define CTL_LIMIT_MAX 500        /* decisions --limit: the most the daemon sends */
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ---------------------------------------------------------------- time arguments */

/* since_arg - --since T: RFC 3339, or a duration meaning that long ago; as RFC 3339 UTC */
static int
since_arg(const char *s, char *out, size_t outlen)
{
    int64_t t, ago, now = (int64_t)time(NULL);

    if (timeconv_parse_rfc3339(s, &t) < 0) {
        if (timeconv_duration(s, &ago) < 0 || ago > now)
            return -1;
        t = now - ago;
    }
    timeconv_rfc3339(t, 0, out, outlen);
    return 0;
}

/* ---------------------------------------------------------------- the requests */

typedef struct ctl_ctx ctl_ctx;

typedef struct ctl_cmd {
    const char *name, *sub; /* the command's words: "exempt" "add"; sub NULL: one word */
    const char *operands;   /* for usage: "ACCOUNT", "[ACCOUNT]" */
    size_t min_ops, max_ops;
    unsigned opts;  /* its own OPT_ bits */
    int needs_conf; /* the configuration is loaded and the socket found before run */
    int (*run)(ctl_ctx *x);
    const char *wire;                            /* run_request: the "cmd" sent */
    int (*request)(const ctl_ctx *x, json_t *r); /* run_request: more members; -1 usage */
    void (*human)(json_t *body, hj_buf *out);    /* run_request: the answer for people */
} ctl_cmd;

struct ctl_ctx {
    const ctl_args *a;
    const ctl_cmd *cmd;
    char **ops; /* the operands after the command's words */
    size_t nops;
    hj_conf *conf; /* NULL for a command that loads none */
    char sock[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

/* req_str - req[key] = v; -1 (after a message) if v is not UTF-8 */
static int
req_str(json_t *req, const char *key, const char *v)
{
    json_t *s = json_string(v);

    if (s == NULL) {
        fail("the %s is not valid UTF-8", key);
        return -1;
    }
    return json_object_set_new(req, key, s);
}

static int
req_account(const ctl_ctx *x, json_t *req)
{
    return x->nops ? req_str(req, "account", x->ops[0]) : 0;
}

static int
req_lock(const ctl_ctx *x, json_t *req)
{
    if (req_account(x, req) < 0)
        return -1;
    return x->a->reason ? req_str(req, "reason", x->a->reason) : 0;
}

static int
req_exempt(const ctl_ctx *x, json_t *req)
{
    json_object_set_new(req, "op", json_string(x->cmd->sub));
    return x->nops ? req_str(req, "pattern", x->ops[0]) : 0;
}

static int
req_history(const ctl_ctx *x, json_t *req)
{
    char since[40];

    if (req_account(x, req) < 0)
        return -1;
    if (x->a->since == NULL)
        return 0;
    if (since_arg(x->a->since, since, sizeof(since)) < 0) {
        fail("bad --since \"%s\" (RFC 3339 like 2026-11-25T06:00:00+00:00, or 2h, 3d)",
             x->a->since);
        return -1;
    }
    return json_object_set_new(req, "since", json_string(since));
}

static int
req_top(const ctl_ctx *x, json_t *req)
{
    (void)x;
    return json_object_set_new(req, "window", json_integer(CTL_TOP_WINDOW));
}

static int
req_decisions(const ctl_ctx *x, json_t *req)
{
    char *end;
    long long n;

    if (req_account(x, req) < 0)
        return -1;
    if (x->a->limit == NULL)
        return 0;
    errno = 0;
    n = strtoll(x->a->limit, &end, 10);
    if (end == x->a->limit || *end || errno || n < 1 || n > CTL_LIMIT_MAX) {
        fail("bad --limit \"%s\" (1..%d)", x->a->limit, CTL_LIMIT_MAX);
        return -1;
    }
    return json_object_set_new(req, "limit", json_integer(n));
}

/* print_out - write what was built to stdout; CTL_FAIL if stdout fails */
static int
print_out(const hj_buf *out)
{
    fputs(buf_str(out), stdout);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fail("writing the output: %s", strerror(errno));
        return CTL_FAIL;
    }
    return CTL_OK;
}

/* print_json - one compact JSON line */
static int
print_json(json_t *v)
{
    hj_buf out = HJ_BUF_INIT;
    char *s = json_dumps(v, JSON_COMPACT);

    buf_puts(&out, s ? s : "{}");
    buf_putc(&out, '\n');
    free(s);
    int rc = print_out(&out);
    buf_free(&out);
    return rc;
}

/* ---------------------------------------------------------------- commands */

/* run_request - a daemon command: ask, then print the answer */
static int
run_request(ctl_ctx *x)
{
    json_t *req = json_pack("{s:s}", "cmd", x->cmd->wire), *body;
    char err[1024];
    int rc = CTL_USAGE;

    if (x->cmd->request == NULL || x->cmd->request(x, req) == 0)
        rc = ctl_sock_call(x->sock, req, &body, err, sizeof(err));
    json_decref(req);
    if (rc == CTL_USAGE)
        return rc;
    if (rc != CTL_OK) {
        fail("%s", err);
        return rc;
    }
    hj_buf out = HJ_BUF_INIT;
    if (x->a->given & OPT_JSON) {
        rc = print_json(body);
    } else {
        x->cmd->human(body, &out);
        rc = print_out(&out);
    }
    buf_free(&out);
    json_decref(body);
    return rc;
}

/* run_config_check - load FILE (or -c, or the built-in default) and tell */
static int
run_config_check(ctl_ctx *x)
{
    const char *path = x->nops ? x->ops[0] : x->a->conf_path;
    const char *name = path ? path : "(built-in)";
    char err[1024];
    hj_conf *c = conf_load(path, x->a->opts, x->a->nopts, err, sizeof(err));
    int rc = c ? CTL_OK : CTL_CONFIG;

    if (x->a->given & OPT_JSON) {
        json_t *o = json_pack("{s:s,s:b}", "file", name, "ok", c != NULL);
        if (o && c == NULL)
            json_object_set_new(o, "error", json_string(err));
        int prc = o ? print_json(o) : CTL_FAIL;
        rc = rc == CTL_OK ? prc : rc;
        json_decref(o);
    } else if (c) {
        hj_buf out = HJ_BUF_INIT;
        buf_put_safe(&out, name);
        buf_puts(&out, ": ok\n");
        rc = print_out(&out);
        buf_free(&out);
    } else {
        fail("configuration error: %s", err);
    }
    conf_free(c);
    return rc;
}

/* ---------------------------------------------------------------- queue */

typedef struct qctx {
    htab *acct;          /* queue ID -> account (owned) */
    htab *psnd;          /* queue ID -> the sender of the policy request that mapped it (owned) */
    htab *acct_dom;      /* the domains of those accounts, lower case */
    const hj_conf *conf; /* its local_domains */
} qctx;

/* lower - s in ASCII lower case, in place */
static char *
lower(char *s)
{
    for (char *p = s; *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
    return s;
}

static const char *
q_account_of(void *ctx, const char *qid)
{
    return htab_get(((qctx *)ctx)->acct, qid, strlen(qid));
}

/* q_is_local - in local_domains; without any, a domain of an account the daemon named */
static int
q_is_local(void *ctx, const char *domain)
{
    const qctx *q = ctx;
    char *low = lower(xstrdup(domain));
    int hit = 0;

    for (size_t i = 0; i < q->conf->nlocal && !hit; i++)
        hit = strcmp(q->conf->local_domains[i], low) == 0;
    if (q->conf->nlocal == 0)
        hit = htab_get(q->acct_dom, low, strlen(low)) != NULL;
    free(low);
    return hit;
}

/* q_owner_of - queue_match's owner_of: what the daemon said of a queue ID */
static void
q_owner_of(void *ctx, const char *qid, queue_owner *o)
{
    const qctx *q = ctx;

    o->account = htab_get(q->acct, qid, strlen(qid));
    o->policy_sender = htab_get(q->psnd, qid, strlen(qid));
}

/* q_learn - remember the accounts (and the policy requests' senders) of one answer */
static void
q_learn(qctx *q, json_t *accounts, json_t *senders)
{
    const char *qid;
    json_t *v;
    int created;

    json_object_foreach(senders, qid, v) /* an older daemon sends none: account+sender only */
    {
        const char *snd = json_string_value(v);
        if (snd == NULL)
            continue;
        htab_node *node = htab_put(q->psnd, qid, strlen(qid), NULL, &created);
        free(node->value);
        node->value = xstrdup(snd);
    }
    json_object_foreach(accounts, qid, v)
    {
        const char *acct = json_string_value(v), *at = acct ? strrchr(acct, '@') : NULL;
        if (acct == NULL || *acct == 0)
            continue;
        htab_node *node = htab_put(q->acct, qid, strlen(qid), NULL, &created);
        free(node->value);
        node->value = xstrdup(acct);
        if (at && at[1]) {
            char *dom = lower(xstrdup(at + 1));
            htab_put(q->acct_dom, dom, strlen(dom), (void *)1, &created);
            free(dom);
        }
    }
}

/* q_ask_batch - queue_accounts for IDs [from, to) */
static int
q_ask_batch(const ctl_ctx *x, const queue_list *ql, size_t from, size_t to, qctx *q, char *err,
            size_t errlen)
{
    json_t *ids = json_array(), *body;

    for (size_t i = from; i < to; i++)
        json_array_append_new(ids, json_string(ql->msgs[i].queue_id));
    json_t *req = json_pack("{s:s,s:o}", "cmd", "queue_accounts", "ids", ids);
    int rc = ctl_sock_call(x->sock, req, &body, err, errlen);
    json_decref(req);
    if (rc == CTL_OK)
        q_learn(q, json_object_get(body, "accounts"), json_object_get(body, "policy_senders"));
    json_decref(body);
    return rc;
}

/* q_ask - the accounts of every queued message; without the daemon, one note and none */
static void
q_ask(const ctl_ctx *x, const queue_list *ql, qctx *q)
{
    char err[1024];

    for (size_t i = 0; i < ql->n; i += CTL_IDS_PER_REQUEST) {
        size_t to = ql->n - i > CTL_IDS_PER_REQUEST ? i + CTL_IDS_PER_REQUEST : ql->n;
        if (q_ask_batch(x, ql, i, to, q, err, sizeof(err)) != CTL_OK) {
            fail("%s", err);
            fail("going on without account names: messages %sare grouped by sender%s",
                 i ? "from here on " : "",
                 q->conf->nlocal ? ""
                                 : " (and without local_domains, your users' mail to other "
                                   "domains looks relayed)");
            return;
        }
    }
}

/* postfix_dir - Postfix's configuration directory: --config-dir, postfix_config_dir, or NULL */
static const char *
postfix_dir(const ctl_ctx *x)
{
    if (x->a->config_dir)
        return *x->a->config_dir ? x->a->config_dir : NULL;
    return *x->conf->postfix_config_dir ? x->conf->postfix_config_dir : NULL;
}

/*
 * root_safe - as root (sudo for "queue purge"), run only a Postfix program: an absolute path
 * named "postqueue" or "postsuper", owned by root and writable by no one else, in a directory
 * owned by root and writable by no one else. --postqueue, --postsuper, -o and -c otherwise let
 * whoever may sudo this command run any program as root. 0, or -1 with a message.
 */
static int
root_safe(const char *path, const char *name)
{
    struct stat st;
    char dir[4096];
    const char *slash = path ? strrchr(path, '/') : NULL;

    if (geteuid() != 0)
        return 0; /* a user can only run what the user could run anyway */
    if (slash == NULL || path[0] != '/' || strcmp(slash + 1, name) != 0 ||
        (size_t)(slash - path) >= sizeof(dir)) {
        fail("as root, the %s program must be an absolute path named %s: refusing %s", name,
             name, path ? path : "(none)");
        return -1;
    }
    snprintf(dir, sizeof(dir), "%.*s", (int)(slash > path ? slash - path : 1), path);
    const char *what[] = {path, dir};
    for (int i = 0; i < 2; i++)
        if (stat(what[i], &st) != 0 || st.st_uid != 0 || (st.st_mode & 022)) {
            fail("as root, %s must be owned by root and writable by no one else: refusing %s",
                 what[i], path);
            return -1;
        }
    return 0;
}

/* q_load - read the queue into *ql and ask the daemon about it into *q (q_free both);
 * CTL_FAIL if postqueue failed */
static int
q_load(const ctl_ctx *x, queue_list *ql, qctx *q)
{
    const char *pq = x->a->postqueue ? x->a->postqueue : x->conf->postqueue_path;
    char err[1024];

    *q = (qctx){htab_new(64), htab_new(64), htab_new(16), x->conf};
    memset(ql, 0, sizeof(*ql));
    if (root_safe(pq, "postqueue") != 0)
        return CTL_FAIL;
    if (queue_read(pq, postfix_dir(x), (int)x->conf->postfix_command_timeout, ql, err,
                   sizeof(err)) < 0) {
        fail("%s", err);
        return CTL_FAIL;
    }
    if (ql->n > 0)
        q_ask(x, ql, q);
    return CTL_OK;
}

static void
q_free(queue_list *ql, qctx *q)
{
    queue_list_free(ql);
    htab_free(q->acct, free);
    htab_free(q->psnd, free);
    htab_free(q->acct_dom, NULL);
}

/* q_build - read the queue, ask the daemon, group; CTL_FAIL if postqueue failed */
static int
q_build(const ctl_ctx *x, queue_report *r)
{
    queue_list ql;
    qctx q;
    int rc = q_load(x, &ql, &q);

    queue_report_init(r);
    if (rc == CTL_OK)
        queue_group(&ql, q_account_of, &q, q_is_local, r);
    q_free(&ql, &q);
    return rc;
}

static int
run_queue(ctl_ctx *x)
{
    queue_report r;
    hj_buf out = HJ_BUF_INIT;
    int rc = q_build(x, &r);

    if (rc == CTL_OK) {
        if (x->a->given & OPT_JSON) {
            queue_report_json(&r, &out);
            buf_putc(&out, '\n');
        } else {
            queue_report_text(&r, &out);
        }
        rc = print_out(&out);
    }
    buf_free(&out);
    queue_report_free(&r);
    return rc;
}

/* what "queue purge" and "queue release" do to the account's messages they match */
typedef struct q_mode {
    const char *action; /* "purge", "release": the JSON's "action" */
    unsigned flags;     /* queue_match: QUEUE_HELD for a release */
    int (*run)(const char *postsuper_path, const char *config_dir, int timeout_s,
               const char *const *ids, size_t n, char *err, size_t errlen);
} q_mode;

static const q_mode q_purge = {"purge", 0, queue_purge};
static const q_mode q_release = {"release", QUEUE_HELD, queue_release};

/* purge_json - what was (or would be) deleted or released, and what is kept, with each
 * message's rule */
static json_t *
purge_json(const ctl_ctx *x, const q_mode *md, const queue_picks *p, int dry)
{
    json_t *ids = json_array(), *all = json_array();
    json_t *who = json_string(x->ops[0]); /* NULL: not UTF-8 */

    for (size_t i = 0; i < p->nids; i++)
        json_array_append_new(ids, json_string(p->ids[i]));
    for (size_t i = 0; i < p->n; i++) { /* from postqueue -j: UTF-8 */
        json_t *snd = json_string(p->v[i].sender);
        json_array_append_new(all, json_pack("{s:s,s:o,s:s,s:b}", "queue_id", p->v[i].queue_id,
                                             "sender", snd ? snd : json_null(), "rule",
                                             queue_rule_name(p->v[i].rule), "delete",
                                             p->v[i].del));
    }
    return json_pack("{s:s,s:o,s:b,s:b,s:I,s:I,s:o,s:I,s:o}", "action", md->action, "account",
                     who ? who : json_null(), "dry_run", dry, "by_sender", !!(x->a->given & OPT_BY_SENDER), "messages",
                     (json_int_t)p->nids, "recipients", (json_int_t)p->rcpts, "queue_ids", ids,
                     "kept", (json_int_t)(p->n - p->nids), "matches", all);
}

/* purge_print - the JSON line, or show_purge()'s text */
static int
purge_print(const ctl_ctx *x, const q_mode *md, const queue_picks *p, int dry)
{
    json_t *o = purge_json(x, md, p, dry);
    hj_buf out = HJ_BUF_INIT;
    int rc;

    if (x->a->given & OPT_JSON) {
        rc = print_json(o);
    } else {
        show_purge(o, &out);
        rc = print_out(&out);
    }
    json_decref(o);
    buf_free(&out);
    return rc;
}

/* purge_nothing - nothing to delete (release): what is kept (if anything), then the error,
 * exit 1 */
static int
purge_nothing(const ctl_ctx *x, const q_mode *md, const queue_picks *p)
{
    hj_buf why = HJ_BUF_INIT;
    int rel = md->flags & QUEUE_HELD;

    if (p->n == 0) {
        fail("nothing %s for %s", rel ? "held" : "queued", x->ops[0]);
        return CTL_REFUSED;
    }
    int rc = purge_print(x, md, p, 1);
    queue_picks_kept(p, &why);
    fail("nothing of %s to %s: %s", x->ops[0], rel ? "release" : "delete", buf_str(&why));
    buf_free(&why);
    return rc == CTL_OK ? CTL_REFUSED : rc;
}

/* run_picks - purge or release the account's messages: a dry run without --yes */
static int
run_picks(ctl_ctx *x, const q_mode *md)
{
    const char *ps = x->a->postsuper ? x->a->postsuper : x->conf->postsuper_path;
    unsigned flags = (x->a->given & OPT_BY_SENDER ? QUEUE_BY_SENDER : 0) | md->flags;
    char err[1024];
    queue_list ql = QUEUE_LIST_INIT;
    qctx q = {NULL, NULL, NULL, x->conf};
    queue_picks p = {0};
    int rc = root_safe(ps, "postsuper") != 0 ? CTL_FAIL : q_load(x, &ql, &q);

    if (rc == CTL_OK)
        queue_match(&ql, x->ops[0], q_owner_of, &q, flags, &p);
    if (rc != CTL_OK) {
        ;
    } else if (p.nids == 0) {
        rc = purge_nothing(x, md, &p);
    } else if (!(x->a->given & OPT_YES)) {
        rc = purge_print(x, md, &p, 1);
    } else if (md->run(ps, postfix_dir(x), (int)x->conf->postfix_command_timeout, p.ids, p.nids,
                       err, sizeof(err)) < 0) {
        fail("%s", err);
        rc = CTL_FAIL;
    } else {
        rc = purge_print(x, md, &p, 0);
    }
    queue_picks_free(&p);
    if (q.acct)
        q_free(&ql, &q);
    return rc;
}

static int
run_purge(ctl_ctx *x)
{
    return run_picks(x, &q_purge);
}

static int
run_release(ctl_ctx *x)
{
    return run_picks(x, &q_release);
}

/* held_of - is m a held message of the account (NULL: of anyone): mapped to it, or sent as it */
static int
held_of(const queue_msg *m, const char *acct, qctx *q)
{
    const char *mapped = q_account_of(q, m->queue_id);

    if (strcmp(m->queue_name, "hold") != 0)
        return 0;
    return acct == NULL || (mapped && strcmp(mapped, acct) == 0) || strcasecmp(m->sender, acct) == 0;
}

/* held_json - the held messages: {"account","messages","recipients","held":[{...}]} */
static json_t *
held_json(const ctl_ctx *x, const queue_list *ql, qctx *q)
{
    const char *acct = x->nops ? x->ops[0] : NULL;
    json_t *rows = json_array(), *who = acct ? json_string(acct) : NULL;
    size_t rcpts = 0;

    for (size_t i = 0; i < ql->n; i++) {
        const queue_msg *m = &ql->msgs[i];
        if (!held_of(m, acct, q))
            continue;
        const char *mapped = q_account_of(q, m->queue_id);
        json_t *a = mapped ? json_string(mapped) : NULL, *s = json_string(m->sender);
        json_array_append_new(
            rows, json_pack("{s:s,s:o,s:o,s:I,s:o}", "queue_id", m->queue_id, "account",
                            a ? a : json_null(), "sender", s ? s : json_null(), "recipients",
                            (json_int_t)m->nrcpts, "arrival",
                            m->arrival_time >= 0 ? json_integer(m->arrival_time) : json_null()));
        rcpts += m->nrcpts;
    }
    return json_pack("{s:o,s:I,s:I,s:o}", "account", who ? who : json_null(), "messages",
                     (json_int_t)json_array_size(rows), "recipients", (json_int_t)rcpts, "held",
                     rows);
}

/* run_held - the messages in Postfix's hold queue, with the account hijackd mapped each to */
static int
run_held(ctl_ctx *x)
{
    queue_list ql;
    qctx q;
    hj_buf out = HJ_BUF_INIT;
    int rc = q_load(x, &ql, &q);

    if (rc == CTL_OK) {
        json_t *o = held_json(x, &ql, &q);
        if (x->a->given & OPT_JSON) {
            rc = print_json(o);
        } else {
            show_held(o, &out);
            rc = print_out(&out);
        }
        json_decref(o);
    }
    buf_free(&out);
    q_free(&ql, &q);
    return rc;
}

static int
run_mail_unlock(ctl_ctx *x)
{
    return mailmsg_unlock(stdin, stdout, stderr, x->a->sender, !!(x->a->given & OPT_JSON),
                          ctl_sock_talk, x->sock);
}

/* ---------------------------------------------------------------- the table of commands */

#define REQ(w, f, h) .run = run_request, .needs_conf = 1, .wire = (w), .request = (f), .human = (h)

static const ctl_cmd cmds[] = {
    {.name = "status", REQ("status", NULL, show_status)},
    {.name = "locked", REQ("locked", NULL, show_locked)},
    {.name = "show",
     .operands = "ACCOUNT",
     .min_ops = 1,
     .max_ops = 1,
     REQ("show", req_account, show_account)},
    {.name = "lock",
     .operands = "ACCOUNT",
     .min_ops = 1,
     .max_ops = 1,
     .opts = OPT_REASON,
     REQ("lock", req_lock, show_lock)},
    {.name = "unlock",
     .operands = "ACCOUNT",
     .min_ops = 1,
     .max_ops = 1,
     .opts = OPT_REASON,
     REQ("unlock", req_lock, show_lock)},
    {.name = "exempt",
     .sub = "add",
     .operands = "PATTERN",
     .min_ops = 1,
     .max_ops = 1,
     REQ("exempt", req_exempt, show_exempt)},
    {.name = "exempt",
     .sub = "del",
     .operands = "PATTERN",
     .min_ops = 1,
     .max_ops = 1,
     REQ("exempt", req_exempt, show_exempt)},
    {.name = "exempt", .sub = "list", REQ("exempt", req_exempt, show_exempt)},
    {.name = "history",
     .operands = "[ACCOUNT]",
     .max_ops = 1,
     .opts = OPT_SINCE,
     REQ("history", req_history, show_history)},
    {.name = "top", REQ("top", req_top, show_top)},
    {.name = "decisions",
     .operands = "[ACCOUNT]",
     .max_ops = 1,
     .opts = OPT_LIMIT,
     REQ("decisions", req_decisions, show_decisions)},
    {.name = "reload", REQ("reload", NULL, show_reload)},
    {.name = "config", .sub = "check", .operands = "[FILE]", .max_ops = 1, .run = run_config_check},
    {.name = "queue",
     .sub = "purge",
     .operands = "ACCOUNT",
     .min_ops = 1,
     .max_ops = 1,
     .opts = OPT_YES | OPT_BY_SENDER | OPT_CONFIG_DIR | OPT_POSTQUEUE | OPT_POSTSUPER,
     .needs_conf = 1,
     .run = run_purge},
    {.name = "queue",
     .sub = "release",
     .operands = "ACCOUNT",
     .min_ops = 1,
     .max_ops = 1,
     .opts = OPT_YES | OPT_BY_SENDER | OPT_CONFIG_DIR | OPT_POSTQUEUE | OPT_POSTSUPER,
     .needs_conf = 1,
     .run = run_release},
    {.name = "queue",
     .sub = "held",
     .operands = "[ACCOUNT]",
     .max_ops = 1,
     .opts = OPT_CONFIG_DIR | OPT_POSTQUEUE,
     .needs_conf = 1,
     .run = run_held},
    {.name = "queue", .opts = OPT_CONFIG_DIR | OPT_POSTQUEUE, .needs_conf = 1, .run = run_queue},
    {.name = "mail-unlock", .opts = OPT_SENDER, .needs_conf = 1, .run = run_mail_unlock},
};

/* cmd_usage - one command's synopsis line */
static void
cmd_usage(FILE *f, const ctl_cmd *c, const char *lead)
{
    fprintf(f, "%s%s%s%s%s%s", lead, c->name, c->sub ? " " : "", c->sub ? c->sub : "",
            c->operands ? " " : "", c->operands ? c->operands : "");
    ctl_args_usage(f, c->opts);
    fputc('\n', f);
}

static void
usage(FILE *f)
{
    fprintf(f, "usage: hijackctl [-c FILE] [-o name=value]... [--json] COMMAND [ARGS]\n");
    for (size_t i = 0; i < NELEM(cmds); i++)
        cmd_usage(f, &cmds[i], "  ");
}

/* cmd_find - the command the words name */
static const ctl_cmd *
cmd_find(char **w, size_t n)
{
    for (size_t i = 0; i < NELEM(cmds); i++) {
        const ctl_cmd *c = &cmds[i];
        if (n >= 1 && strcmp(w[0], c->name) == 0 &&
            (c->sub == NULL || (n >= 2 && strcmp(w[1], c->sub) == 0)))
            return c;
    }
    return NULL;
}

/* cmd_check - the operands and options fit the command; -1 (after a message) if not */
static int
cmd_check(const ctl_ctx *x)
{
    unsigned extra = x->a->given & ~(OPT_GLOBAL | x->cmd->opts);

    if (extra) {
        fail("%s takes no %s", x->cmd->name, ctl_args_name(extra));
        return -1;
    }
    if (x->nops < x->cmd->min_ops || x->nops > x->cmd->max_ops) {
        fail("%s %s", x->nops < x->cmd->min_ops ? "missing operand for" : "too many operands for",
             x->cmd->name);
        return -1;
    }
    for (size_t i = 0; i < x->nops; i++)
        if (x->ops[i][0] == 0) {
            fail("an empty operand for %s", x->cmd->name);
            return -1;
        }
    return 0;
}

/* cmd_unknown - say what is wrong with the command words, and how they go */
static void
cmd_unknown(const ctl_args *a)
{
    int known = 0;

    for (size_t i = 0; a->nwords && i < NELEM(cmds); i++)
        known |= strcmp(cmds[i].name, a->words[0]) == 0;
    if (a->nwords == 0) {
        fail("no command");
    } else if (!known) {
        fail("unknown command \"%s\"", a->words[0]);
    } else {
        fail("%s needs one of these:", a->words[0]);
        for (size_t i = 0; i < NELEM(cmds); i++)
            if (strcmp(cmds[i].name, a->words[0]) == 0)
                cmd_usage(stderr, &cmds[i], "  hijackctl ");
        return;
    }
    usage(stderr);
}

/* ctl_setup - the command, its operands, and (if it needs them) configuration and socket */
static int
ctl_setup(ctl_ctx *x)
{
    char err[1024];
    size_t words = 0;

    if ((x->cmd = cmd_find(x->a->words, x->a->nwords)) == NULL) {
        cmd_unknown(x->a);
        return CTL_USAGE;
    }
    words = x->cmd->sub ? 2 : 1;
    x->ops = x->a->words + words, x->nops = x->a->nwords - words;
    if (cmd_check(x) < 0) {
        cmd_usage(stderr, x->cmd, "usage: hijackctl [-c FILE] [-o name=value]... [--json] ");
        return CTL_USAGE;
    }
    if (!x->cmd->needs_conf)
        return CTL_OK;
    if ((x->conf = conf_load(x->a->conf_path, x->a->opts, x->a->nopts, err, sizeof(err))) == NULL) {
        fail("configuration error: %s", err);
        return CTL_CONFIG;
    }
    const char *cs = x->conf->control_socket; /* "": state_dir/control.sock */
    int n = *cs ? snprintf(x->sock, sizeof(x->sock), "%s", cs)
                : snprintf(x->sock, sizeof(x->sock), "%s/control.sock", x->conf->state_dir);
    if (n < 0 || (size_t)n >= sizeof(x->sock)) {
        fail("configuration error: the control socket's path is longer than %zu bytes",
             sizeof(x->sock) - 1);
        return CTL_CONFIG;
    }
    return CTL_OK;
}

int
main(int argc, char **argv)
{
    ctl_args a = {0};
    ctl_ctx x = {.a = &a};
    int rc;

    if (ctl_args_parse(argc, argv, &a) < 0) {
        usage(stderr);
        rc = a.nwords && strcmp(a.words[0], "mail-unlock") == 0 ? EX_USAGE : CTL_USAGE;
    } else if (a.given & OPT_HELP) {
        usage(stdout);
        rc = CTL_OK;
    } else if ((rc = ctl_setup(&x)) == CTL_OK) {
        rc = x.cmd->run(&x);
    } else if (x.cmd && x.cmd->run == run_mail_unlock) { /* exit statuses for pipe(8) */
        rc = rc == CTL_USAGE ? EX_USAGE : EX_TEMPFAIL;
    }
    conf_free(x.conf);
    ctl_args_free(&a);
    return rc;
}
