/*
 * report - the human report of "hijackd replay"
 *
 * SYNOPSIS
 *	report_init(&rs); report_note(&rs, kind, prog, line, len); report_time(&rs, t, off);
 *	report_print(&rs, engine, &qtrack_counts, top, verbose, stdout); report_free(&rs);
 *
 * DESCRIPTION
 *	Collects what the reader did with each line (understood, another
 *	program's, a Postfix line of an unknown form, garbled, overlong),
 *	by program, with up to REPORT_SAMPLES example lines each, and the
 *	decisions as text; then prints the decisions, the top senders by
 *	recipients and the line accounting. Not thread-safe.
 */
#ifndef HJ_REPORT_H
#define HJ_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "../engine/engine.h"
#include "../postfix/logline.h"
#include "../postfix/qtrack.h"
#include "../util/buf.h"
#include "../util/htab.h"

#define REPORT_SAMPLES 3

typedef enum report_kind {
    REPORT_GARBLED,
    REPORT_OTHER,
    REPORT_UNKNOWN,
    REPORT__COUNT
} report_kind;

typedef struct report_state {
    int64_t lines, empty, understood, overlong, files;
    int64_t verdicts, verdicts_bad; /* hijackd's own "spam verdict" lines: read, not readable */
    int64_t t_first, t_last;
    int32_t tz_first, tz_last;
    int have_time;
    htab *progs[REPORT__COUNT];
    int64_t nkind[REPORT__COUNT];
    hj_buf decisions;
} report_state;

void report_init(report_state *rs);
void report_note(report_state *rs, report_kind k, hj_span prog, const char *line, size_t len);
void report_time(report_state *rs, int64_t t, int32_t tzoff);
void report_print(report_state *rs, hj_engine *eng, const qtrack_counts *qc, int top, int verbose,
                  FILE *out);
int report_stats_json(report_state *rs, hj_engine *eng, const qtrack_counts *qc, const char *path);
void report_free(report_state *rs);

#endif
