/*
 * replay - "hijackd replay": run Postfix logs through the engine, report
 *
 * SYNOPSIS
 *	int replay_main(int argc, char **argv);
 *
 * DESCRIPTION
 *	hijackd replay [-c FILE] [-o name=value]... [--json] [-v] [--year YYYY]
 *	               [--top N] [--no-progress] [--stats FILE] FILE... | -
 *
 *	Reads each file (plain or gzip; "-" is stdin) through the same log
 *	reader and engine the daemon uses. With --json, prints one decision
 *	per line (the JSONL decision format) as they happen; otherwise a
 *	human report: the decisions with their evidence, the top senders,
 *	and what the reader did with every line. A progress bar goes to
 *	stderr when stderr is a terminal. --stats FILE also writes every
 *	count of the report as one JSON object (for scripts and tests).
 *
 *	Anti-spam verdicts come from two kinds of line: hijackd's own
 *	"spam verdict {JSON}" (logverdict.h: the class, score and symbols
 *	the daemon had) and Postfix cleanup's "milter-reject: END-OF-MESSAGE"
 *	with spam_reject_text (qtrack.h: spam, no score). Each queue ID
 *	counts once, as in the daemon's core, whichever comes first.
 *
 *	Exit status: 0 every input read to its end; 1 an input could not be
 *	opened or read to its end (the others are still read and reported);
 *	2 usage error; 3 configuration error.
 */
#ifndef HJ_REPLAY_H
#define HJ_REPLAY_H

int replay_main(int argc, char **argv);

#endif
