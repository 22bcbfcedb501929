/*
 * milter - the Sendmail/Postfix milter protocol, version 6, filter side: a pure codec
 *
 * SYNOPSIS
 *	milter_parser *milter_parser_new(size_t max_packet);      0 = MILTER_MAX_PACKET_DEFAULT
 *	int milter_parse(milter_parser *p, const char *in, size_t len, size_t *used,
 *	                 milter_cmd *cmd);
 *	int milter_parser_error(const milter_parser *p, const char **msg);   MILTER_E_*, 0 if none
 *	const char *milter_err_name(int code);                  "too big", ... ("none" for 0)
 *	size_t milter_parser_buffered(const milter_parser *p);   bytes the parser holds
 *	void milter_parser_free(milter_parser *p);
 *	hj_span milter_getmacro(const milter_cmd *cmd, const char *name);    name without braces
 *	const char *milter_cmd_name(int type);                  "RCPT", ... or "?"
 *
 *	int milter_negotiate(const milter_cmd *optneg, uint32_t want_actions,
 *	                     uint32_t want_protocol, milter_neg *neg, char *err, size_t errlen);
 *	int milter_reply_expected(const milter_neg *neg, int type);
 *	const char *milter_symlist(int stage);                  the macros asked for a MILTER_M_*
 *
 *	void milter_put_optneg(hj_buf *out, const milter_neg *neg);
 *	int milter_put(hj_buf *out, int reply);                  a MILTER_R_* without data
 *	int milter_put_replycode(hj_buf *out, const char *code, const char *xcode,
 *	                         const char *text);
 *	int milter_put_quarantine(hj_buf *out, const char *reason);
 *	int milter_put_addheader(hj_buf *out, const char *name, const char *value);
 *
 * DESCRIPTION
 *	The MTA (Postfix's milter8, Sendmail's milter.c) connects to the filter and sends packets:
 *	a 4-byte big-endian length, then that many bytes: a command letter and its data. hijackd is
 *	the filter. The reasoning against libmilter: hijackd's core runs on one libevent loop,
 *	while libmilter owns the socket, runs the callbacks on a worker-thread pool and blocks a
 *	thread per callback; the core would need locks or a hand-over per event. rspamd speaks the
 *	protocol itself on its event loop (src/libserver/milter.c) for the same reason. This codec
 *	has no sockets, clock, logging or globals: bytes in, commands out, replies appended to an
 *	hj_buf. docs/MILTER.md has the subset, the negotiation and the limits.
 *
 *	milter_parse() takes bytes as they arrive (a packet split anywhere, several in one read)
 *	and consumes in[0..len) up to the end of one packet. It returns 1 when a packet is
 *	complete: *cmd is filled and *used says how many bytes of in were consumed (the rest is the
 *	next packet's: call again with in + *used). It returns 0 when all of in was consumed
 *	without completing a packet (read more), and -1 on an error: milter_parser_error() names
 *	it (code and a message without control bytes). An error is sticky: every later call
 *	returns -1 and consumes nothing; the caller closes the connection. Errors:
 *	  MILTER_E_LENGTH  a packet length of 0
 *	  MILTER_E_BIG     a packet longer than max_packet (refused from its length, before any
 *	                   data is buffered)
 *	  MILTER_E_COMMAND an unknown command letter (refused before its data is buffered)
 *	  MILTER_E_SHORT   shorter than its fixed part (OPTNEG < 12 bytes, CONNECT without port,
 *	                   MACRO without its command letter)
 *	  MILTER_E_FIELD   a string field without its NUL; a HEADER that is not name + value;
 *	                   MACRO names without values
 *	  MILTER_E_FAMILY  a CONNECT family other than '4', '6', 'L' (unix socket), 'U' (unknown)
 *	  MILTER_E_STAGE   MACRO for an unknown command letter
 *	  MILTER_E_MACROS  more than MILTER_MAX_MACROS macros in one packet
 *	Bounded memory: the parser holds at most one packet's data (milter_parser_buffered() <=
 *	max_packet), grown as bytes arrive, not from the announced length.
 *
 *	Ownership: every hj_span of a milter_cmd points into the parser's packet buffer, is not
 *	NUL-terminated, and is valid until the next milter_parse() or milter_parser_free() on that
 *	parser: copy what you keep (macros must be kept per stage by the caller). A span holds the
 *	bytes as sent: values may hold any byte but NUL (control bytes included): sanitise before
 *	logging. Fields by command:
 *	  OPTNEG   version, actions (MILTER_F_*), protocol (MILTER_P_*) offered by the MTA
 *	  MACRO    stage (the command letter the macros go with), macros[nmacros]: name (one
 *	           pair of braces removed: "{auth_authen}" -> "auth_authen", "i" stays) and value
 *	  CONNECT  host (the client's name, "[addr]" when unknown), family, port (0 for 'L'/'U'),
 *	           addr (address text, without Sendmail's "IPv6:" prefix; a socket path for 'L';
 *	           absent for 'U'; not checked: parse it with netaddr)
 *	  HELO     arg = the HELO/EHLO name
 *	  MAIL     arg = the sender as sent ("<a@b>", "<>"), args[nargs] the ESMTP arguments
 *	  RCPT     arg = the recipient, args[nargs]; beyond MILTER_MAX_ARGS counted in args_dropped
 *	  HEADER   arg = the field name, value = its value (folded lines separated by "\n")
 *	  BODY     body = the chunk (at most 65535 bytes from Postfix and Sendmail)
 *	  EOB      body = data sent with the end of body (libmilter passes it on; none seen)
 *	  UNKNOWN  arg = the SMTP command line
 *	  DATA EOH ABORT QUIT QUIT_NC: none (data, if any, is ignored as libmilter does)
 *	data always spans the whole packet after the command letter.
 *
 *	milter_negotiate() answers the MTA's OPTNEG: version 6 (an MTA below 6 is refused: -1 with
 *	a reason; above 6 gets 6), actions = want_actions & offered, protocol = want_protocol &
 *	offered (an offer of 0 reads as libmilter does: the version 1 sets); neg->symlist is set
 *	when the actions kept MILTER_F_SETSYMLIST. Whatever the MTA lacks the caller reads from
 *	neg: without MILTER_F_QUARANTINE there is no hold, without an MILTER_P_NR_* bit that step
 *	waits for a reply. milter_reply_expected() says whether the MTA waits for an answer to a
 *	command of that type under neg (EOB: always; MACRO, ABORT, QUIT, QUIT_NC: never).
 *	MILTER_WANT_ACTIONS and MILTER_WANT_PROTOCOL are what hijackd asks.
 *
 *	The encoders append one whole packet to out. milter_put_optneg() writes the reply and,
 *	when neg->symlist, the macro list of each stage (milter_symlist()). milter_put() writes
 *	CONTINUE, ACCEPT, REJECT, TEMPFAIL, DISCARD, PROGRESS or SKIP (-1 for another letter).
 *	milter_put_replycode() writes "CODE[ XCODE][ TEXT]": CODE is 4xx or 5xx, XCODE (or, when
 *	XCODE is NULL, a TEXT starting with a digit) an enhanced status code whose class is CODE's
 *	first digit (Postfix refuses the reply otherwise); -1 and nothing written if not. In TEXT
 *	each control byte (CR and LF included) becomes a space and '%' is doubled (Sendmail uses
 *	the text as a format; Postfix undoes the doubling), and it is cut to MILTER_REPLY_TEXT_MAX
 *	bytes (libmilter's MAXREPLYLEN). milter_put_quarantine() writes a reason (control bytes as
 *	spaces, at most MILTER_QUARANTINE_MAX bytes: what Postfix keeps; -1 if empty).
 *	milter_put_addheader() writes name and value (-1 for a name that is empty, longer than
 *	MILTER_HEADER_NAME_MAX or not printable ASCII without ':'; the value's control bytes but
 *	tab become spaces, cut at MILTER_HEADER_VALUE_MAX). Pure; thread-safe per parser.
 */
#ifndef HJ_MILTER_H
#define HJ_MILTER_H

#include <stddef.h>
#include <stdint.h>

#include "../util/buf.h"
#include "../util/span.h"

#define MILTER_VERSION 6
#define MILTER_CHUNK_SIZE 65535 /* libmilter's MILTER_CHUNK_SIZE: a BODY chunk's data at most */
/* the default packet limit: a BODY chunk is 1 + 65535 bytes; Postfix sends a header in one
 * packet, up to header_size_limit (102400) plus a line; rspamd allows 2 x 64 KiB too */
#define MILTER_MAX_PACKET_DEFAULT (128 * 1024)
#define MILTER_MAX_MACROS 64 /* per MACRO packet (Sendmail's MAXFILTERMACROS is 50) */
#define MILTER_MAX_ARGS 16   /* ESMTP arguments kept per MAIL/RCPT */
#define MILTER_REPLY_TEXT_MAX 980
#define MILTER_QUARANTINE_MAX 99 /* Postfix keeps 100 bytes, the NUL included */
#define MILTER_HEADER_NAME_MAX 64
#define MILTER_HEADER_VALUE_MAX 900

/* commands from the MTA (libmilter SMFIC_*): the command letter is the type */
enum {
    MILTER_CMD_ABORT = 'A',
    MILTER_CMD_BODY = 'B',
    MILTER_CMD_CONNECT = 'C',
    MILTER_CMD_MACRO = 'D',
    MILTER_CMD_EOB = 'E',
    MILTER_CMD_HELO = 'H',
    MILTER_CMD_QUIT_NC = 'K',
    MILTER_CMD_HEADER = 'L',
    MILTER_CMD_MAIL = 'M',
    MILTER_CMD_EOH = 'N',
    MILTER_CMD_OPTNEG = 'O',
    MILTER_CMD_QUIT = 'Q',
    MILTER_CMD_RCPT = 'R',
    MILTER_CMD_DATA = 'T',
    MILTER_CMD_UNKNOWN = 'U',
};

/* replies to the MTA (SMFIR_*) */
enum {
    MILTER_R_ACCEPT = 'a',
    MILTER_R_CONTINUE = 'c',
    MILTER_R_DISCARD = 'd',
    MILTER_R_ADDHEADER = 'h',
    MILTER_R_PROGRESS = 'p',
    MILTER_R_QUARANTINE = 'q',
    MILTER_R_REJECT = 'r',
    MILTER_R_SKIP = 's',
    MILTER_R_TEMPFAIL = 't',
    MILTER_R_REPLYCODE = 'y',
};

/* actions the filter may take (SMFIF_*) */
#define MILTER_F_ADDHDRS 0x01u
#define MILTER_F_CHGBODY 0x02u
#define MILTER_F_ADDRCPT 0x04u
#define MILTER_F_DELRCPT 0x08u
#define MILTER_F_CHGHDRS 0x10u
#define MILTER_F_QUARANTINE 0x20u
#define MILTER_F_CHGFROM 0x40u
#define MILTER_F_ADDRCPT_PAR 0x80u
#define MILTER_F_SETSYMLIST 0x100u

/* protocol: steps not sent, replies not awaited (SMFIP_*) */
#define MILTER_P_NOCONNECT 0x01u
#define MILTER_P_NOHELO 0x02u
#define MILTER_P_NOMAIL 0x04u
#define MILTER_P_NORCPT 0x08u
#define MILTER_P_NOBODY 0x10u
#define MILTER_P_NOHDRS 0x20u
#define MILTER_P_NOEOH 0x40u
#define MILTER_P_NR_HDR 0x80u
#define MILTER_P_NOUNKNOWN 0x100u
#define MILTER_P_NODATA 0x200u
#define MILTER_P_SKIP 0x400u
#define MILTER_P_RCPT_REJ 0x800u
#define MILTER_P_NR_CONN 0x1000u
#define MILTER_P_NR_HELO 0x2000u
#define MILTER_P_NR_MAIL 0x4000u
#define MILTER_P_NR_RCPT 0x8000u
#define MILTER_P_NR_DATA 0x10000u
#define MILTER_P_NR_UNKN 0x20000u
#define MILTER_P_NR_EOH 0x40000u
#define MILTER_P_NR_BODY 0x80000u
#define MILTER_P_HDR_LEADSPC 0x100000u

/* macro stages of SETSYMLIST (SMFIM_*) */
enum {
    MILTER_M_CONNECT,
    MILTER_M_HELO,
    MILTER_M_ENVFROM,
    MILTER_M_ENVRCPT,
    MILTER_M_DATA,
    MILTER_M_EOM,
    MILTER_M_EOH,
    MILTER_M__COUNT
};

/* what hijackd asks: quarantine (hold), a header, macro lists; no UNKNOWN; no reply awaited
 * but at RCPT (a locked account is refused there) and at the end of the message (verdict) */
#define MILTER_WANT_ACTIONS (MILTER_F_ADDHDRS | MILTER_F_QUARANTINE | MILTER_F_SETSYMLIST)
#define MILTER_WANT_PROTOCOL                                                                       \
    (MILTER_P_NOUNKNOWN | MILTER_P_NR_CONN | MILTER_P_NR_HELO | MILTER_P_NR_MAIL |                 \
     MILTER_P_NR_DATA | MILTER_P_NR_HDR | MILTER_P_NR_EOH | MILTER_P_NR_BODY | MILTER_P_NR_UNKN)

enum {
    MILTER_E_LENGTH = 1,
    MILTER_E_BIG,
    MILTER_E_COMMAND,
    MILTER_E_SHORT,
    MILTER_E_FIELD,
    MILTER_E_FAMILY,
    MILTER_E_STAGE,
    MILTER_E_MACROS,
};

typedef struct milter_macro {
    hj_span name; /* braces removed */
    hj_span value;
} milter_macro;

typedef struct milter_cmd {
    int type;                            /* MILTER_CMD_* */
    hj_span data;                        /* the packet after the command letter */
    uint32_t version, actions, protocol; /* OPTNEG */
    int stage;                           /* MACRO: the command letter the macros go with */
    int nmacros;
    milter_macro macros[MILTER_MAX_MACROS];
    char family; /* CONNECT: '4', '6', 'L', 'U' */
    unsigned port;
    hj_span host, addr;
    hj_span arg, value; /* HELO, MAIL, RCPT, HEADER (name, value), UNKNOWN */
    int nargs, args_dropped;
    hj_span args[MILTER_MAX_ARGS];
    hj_span body; /* BODY, EOB */
} milter_cmd;

typedef struct milter_neg {
    uint32_t mta_version, mta_actions, mta_protocol; /* offered */
    uint32_t version, actions, protocol;             /* answered */
    int symlist;                                     /* the answer carries macro lists */
} milter_neg;

typedef struct milter_parser milter_parser;

milter_parser *milter_parser_new(size_t max_packet);
int milter_parse(milter_parser *p, const char *in, size_t len, size_t *used, milter_cmd *cmd);
int milter_parser_error(const milter_parser *p, const char **msg);
const char *milter_err_name(int code);
size_t milter_parser_buffered(const milter_parser *p);
void milter_parser_free(milter_parser *p);
hj_span milter_getmacro(const milter_cmd *cmd, const char *name);
const char *milter_cmd_name(int type);

int milter_negotiate(const milter_cmd *optneg, uint32_t want_actions, uint32_t want_protocol,
                     milter_neg *neg, char *err, size_t errlen);
int milter_reply_expected(const milter_neg *neg, int type);
const char *milter_symlist(int stage);

void milter_put_optneg(hj_buf *out, const milter_neg *neg);
int milter_put(hj_buf *out, int reply);
int milter_put_replycode(hj_buf *out, const char *code, const char *xcode, const char *text);
int milter_put_quarantine(hj_buf *out, const char *reason);
int milter_put_addheader(hj_buf *out, const char *name, const char *value);

#endif
