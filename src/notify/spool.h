/*
 * spool - a durable job queue in a directory, written and worked by two background threads
 *
 * SYNOPSIS
 *	spool *spool_open(const spool_conf *c, spool_fn fn, void *ctx, char *err, size_t errlen);
 *	int spool_put(spool *s, const char *kind, const char *data, size_t len, int64_t now);
 *	void spool_stats(spool *s, struct spool_stats *out);
 *	void spool_close(spool *s);
 *	int spool_kind_ok(const char *kind);      1 if kind is a valid job kind
 *
 *	void fn(void *ctx, spool_job *jobs, size_t n, int64_t now);   the handler
 *
 * DESCRIPTION
 *	Each job is one file in c->dir, named "<epoch, 10 digits>-<sequence,
 *	6 digits>-<kind>", e.g. "1764057600-000042-hook0"; the names sort in
 *	the order spool_put() made them (the epoch never goes backwards, and
 *	the sequence continues from the newest file found at open; when it
 *	wraps within one second the epoch moves on by one). spool_put()
 *	names the job and queues a copy in memory: it creates no file and
 *	never waits for the handler. The writer thread then writes
 *	"tmp.<name>", syncs the batch's data (one syncfs()), renames each
 *	into place, syncs the directory, and wakes the worker. So a job
 *	survives a crash of the process or of the machine once written
 *	(within milliseconds of the put, or a sync's time), not a crash
 *	before that. The kind is
 *	1 to SPOOL_KIND_MAX characters of [a-z0-9_]; data is at most
 *	SPOOL_DATA_MAX bytes. spool_open() creates the directory (0700, not
 *	its parents), deletes "tmp.*" leftovers, leaves other foreign names
 *	alone (with a warning) and queues every job file found, due at once.
 *
 *	The worker calls fn with a batch of at most c->batch_max due jobs,
 *	in name order. A job still waiting for its retry time does not hold
 *	back later ones. The handler sets each job's result:
 *	    SPOOL_DONE   delivered: the file is deleted;
 *	    SPOOL_DROP   never deliverable: deleted, with a log_warn naming it;
 *	    SPOOL_RETRY  (the default) kept; tried again after the backoff,
 *	                 retry_min * 2^(attempts) capped at retry_max, or at
 *	                 job->retry_at (epoch seconds) if the handler set it
 *	                 in the future (less than a year ahead, or the
 *	                 backoff applies). retry_max is cut to a year.
 *	Retry times are kept in memory only: after a restart every job is
 *	due at once. A job older than c->max_age (by the epoch in its name;
 *	0 = no limit) is dropped with a log_warn before it reaches the
 *	handler; so is a file that cannot be read (logged and removed). The
 *	jobs and their strings belong to the spool and are valid only
 *	during the call; "now" is time(NULL) when the batch was taken.
 *
 *	spool_stats() gives counters since spool_open(): the jobs pending
 *	(put and not yet written, and the job files on disk, including those
 *	being handled), the jobs done, the attempts
 *	that ended in SPOOL_RETRY, and the jobs dropped (by the handler, by
 *	age, or unreadable).
 *
 *	spool_close() lets the writer write every job still queued, asks the
 *	worker to stop, waits for the batch in progress to finish (the
 *	handler should not block for long) and frees everything; jobs not
 *	done stay on disk for the next spool_open(). spool_close(NULL) does
 *	nothing.
 *
 * THREADS
 *	spool_put() and spool_stats() may be called from any one other
 *	thread (the daemon's event loop) while the threads run; they only
 *	take a mutex that neither thread holds across file I/O or the
 *	handler. The handler runs on the worker thread, one batch at a time.
 *	spool_open() and spool_close() belong to the thread that owns s.
 *
 * DIAGNOSTICS
 *	spool_open() returns NULL with a message in err if the directory
 *	cannot be created or read, the configuration is invalid, or the
 *	threads cannot start. spool_put() returns -1, after a log_warn, for an
 *	invalid kind or size, and queues nothing. A job the writer cannot
 *	write is logged (log_error), counted as dropped, and leaves no file. Nothing here is fatal except running out
 *	of memory (see alloc.h).
 */
#ifndef HJ_SPOOL_H
#define HJ_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#define SPOOL_KIND_MAX 32                    /* characters in a kind */
#define SPOOL_DATA_MAX (4 * 1024 * 1024)     /* bytes in a job */
#define SPOOL_NAME_MAX (18 + SPOOL_KIND_MAX) /* "<10>-<6>-<kind>" */

typedef enum spool_result { SPOOL_DONE, SPOOL_RETRY, SPOOL_DROP } spool_result;

typedef struct spool_job {
    const char *name; /* file name, e.g. "1764057600-000042-hook0" */
    const char *kind; /* the kind given to spool_put ("hook0", "alert", "notice") */
    const char *data; /* file contents, NUL-terminated; len bytes */
    size_t len;
    int64_t queued;      /* epoch seconds when it was put (from its name) */
    unsigned attempts;   /* earlier attempts in this process (0 the first time) */
    spool_result result; /* set by the handler; SPOOL_RETRY by default */
    int64_t retry_at;    /* handler may set: do not retry before this (0 = the backoff) */
} spool_job;

/* the handler runs on the worker thread: a batch of due jobs (same order as names) */
typedef void (*spool_fn)(void *ctx, spool_job *jobs, size_t n, int64_t now);

typedef struct spool_conf {
    const char *dir;   /* created 0700 if missing */
    const char *what;  /* name for log lines: "webhook", "mail" */
    int64_t retry_min; /* s: first retry delay (e.g. 30), doubling per attempt ... */
    int64_t retry_max; /* ... up to this (e.g. 900) */
    int64_t max_age;   /* s: a job older than this is dropped with a log line (0 = never) */
    size_t batch_max;  /* at most this many jobs per handler call (>= 1; 1024 at most used) */
} spool_conf;

/* a struct tag, not a typedef: the name spool_stats is the function's */
struct spool_stats {
    uint64_t pending; /* job files on disk, including those being handled */
    uint64_t done;    /* jobs the handler finished (SPOOL_DONE) */
    uint64_t retried; /* attempts that ended in SPOOL_RETRY */
    uint64_t dropped; /* SPOOL_DROP, too old, or unreadable */
};

typedef struct spool spool;

spool *spool_open(const spool_conf *c, spool_fn fn, void *ctx, char *err, size_t errlen);
int spool_put(spool *s, const char *kind, const char *data, size_t len, int64_t now);
void spool_stats(spool *s, struct spool_stats *out);
void spool_close(spool *s);
int spool_kind_ok(const char *kind);

#endif
