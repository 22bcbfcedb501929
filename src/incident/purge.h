#ifndef HJ_PURGE_H
#define HJ_PURGE_H
/*
 * purge - lock_purge_queue, and an admin's release or purge, off the event loop: a worker
 * deletes or releases the account's queued mail
 *
 *	purger *purge_open(const char *dir, char *err, size_t errlen);
 *	int purge_put(purger *p, const purge_job *job, int64_t now);
 *	int purge_account(purger *p, core *C, const char *account, purge_mode mode);
 *	void purge_stats(purger *p, struct spool_stats *out);
 *	void purge_observe(purger *p, core *C);
 *	void purge_close(purger *p);
 *
 * purge_put() writes one job to the spool in dir (state_dir/purge) and returns at once: the
 * account, the queue IDs hijackd saw for it with the senders the policy requests gave, and the
 * commands to run (copied into the job, so a reload changes nothing under the worker). The
 * spool's thread then runs "postqueue -j", picks what is provably the account's with
 * queue_match() and the strict rules only, like "hijackctl queue purge" without --by-sender
 * (mapped to the account, and the envelope sender is the account or the one the policy request
 * gave: a forged log line that maps another user's message to the account does not delete it),
 * and deletes those with "postsuper -d -". The log line says how many were deleted and how many
 * kept, and why ("lock_purge_queue: deleted 12 queued messages of A; 3 kept: mapped, sender
 * differs"). job->mode says what to do and how the log lines begin: PURGE_ON_LOCK
 * ("lock_purge_queue: ...", as above) and PURGE_DELETE ("purge: deleted ...", an admin's
 * POST /api/queue) delete, from every queue, the hold queue too; PURGE_RELEASE ("release:
 * released 2 held messages of A; 1 kept: mapped, sender differs") picks, with the same strict
 * rules, only the messages in the hold queue (queue_match's QUEUE_HELD) and releases them with
 * "postsuper -H -" ("release: nothing of A held" when there is none). A job written before
 * the mode existed is a lock's purge; one with a mode this code does not know is dropped (a
 * release never becomes a delete). Each command is killed after job->timeout_s. A job
 * that fails (postqueue or postsuper failed or timed out) is retried (after 60 s, doubling) for
 * PURGE_MAX_AGE seconds, then dropped with a log line: a late purge must not reach mail the
 * account sends after an unlock. Every outcome is logged.
 *
 * purge_account() puts the job for account in mode, as the core sees it now: the queue IDs it
 * mapped to the account (core_queue_ids) with their policy senders, and the running
 * configuration's postqueue_path, postsuper_path, postfix_config_dir and
 * postfix_command_timeout. 0, or -1 as purge_put(). On the event loop, like purge_put().
 *
 * purge_observe() makes p an observer of the core: with lock_purge_queue = yes, each account
 * lock puts a job with the queue IDs the core saw for that account (core_queue_ids) and the
 * running configuration's commands. p must outlive C's decisions (close it after the loop).
 *
 * Ownership: the caller keeps job and its strings; the purger copies them. Thread-safety:
 * purge_put(), purge_account() and purge_stats() from the event loop while the worker runs
 * (see spool.h); purge_open() and purge_close() on the thread that owns p. Nothing is fatal
 * but running out of memory; purge_open() returns NULL with a message in err if the spool
 * cannot be opened, and purge_put() returns -1 (logged) if the job cannot be written.
 */
#include <stddef.h>
#include <stdint.h>

#include "../core/core.h"
#include "../notify/spool.h"

#define PURGE_MAX_AGE 3600 /* s: a purge not done within this is dropped */

typedef enum purge_mode {
    PURGE_ON_LOCK, /* lock_purge_queue: delete (the zero value: a job of the old code) */
    PURGE_DELETE,  /* an admin's purge: delete */
    PURGE_RELEASE  /* an admin's release: only what is held, "postsuper -H -" */
} purge_mode;

typedef struct purge_job {
    const char *account;
    const char *const *queue_ids;      /* the queue IDs hijackd saw for the account */
    const char *const *policy_senders; /* NULL, or per queue ID: its policy request's sender
                                        * (core_queue_sender), NULL where none */
    size_t nqueue_ids;
    const char *postqueue_path, *postsuper_path;
    const char *config_dir; /* NULL or "": Postfix's default */
    int timeout_s;          /* each command is killed after this */
    purge_mode mode;
} purge_job;

typedef struct purger purger;

purger *purge_open(const char *dir, char *err, size_t errlen);
int purge_put(purger *p, const purge_job *job, int64_t now);
int purge_account(purger *p, core *C, const char *account, purge_mode mode);
void purge_stats(purger *p, struct spool_stats *out);
void purge_observe(purger *p, core *C);
void purge_close(purger *p);

#endif
