/* check.h - the CHECK_* assertions of the cmocka unit tests, shared (see tests/README.md).
 *
 *   CHECK_EQ(what, got, want)        integers (compared as long long):
 *                                    "what: got-expr = 3, want 4"
 *   CHECK_STR(what, got, want)       strings (got may be NULL, a failure):
 *                                    "what: got-expr = \"x\", want \"y\""
 *   CHECK_STRN(what, got, want, n)   the same, showing at most n characters of each string
 *   CHECK_HAS(what, hay, needle)     needle is a substring of hay:
 *                                    "what: \"needle\" not found in hay"
 *
 * what is a string naming the case (a table row's name), printed first so that a failure says
 * which row failed; got-expr is the expression as written. Each one fails the running test with
 * cmocka's fail_msg(), at the caller's file and line. Include after <cmocka.h>; uses <string.h>.
 * A fixture's own assertions (store_fixture.h: CHECK_RC) stay in that fixture.
 */
#ifndef HJ_TEST_CHECK_H
#define HJ_TEST_CHECK_H

#include <string.h>

#define CHECK_EQ(what, got, want)                                                                  \
    do {                                                                                           \
        long long g_ = (long long)(got), w_ = (long long)(want);                                   \
        if (g_ != w_)                                                                              \
            fail_msg("%s: %s = %lld, want %lld", (what), #got, g_, w_);                            \
    } while (0)

/* CHECK_STR_ - the body of CHECK_STR and CHECK_STRN: expr is got as written, n < 0 = all */
#define CHECK_STR_(what, expr, got, want, n)                                                       \
    do {                                                                                           \
        const char *g_ = (got), *w_ = (want);                                                      \
        if (g_ == NULL || strcmp(g_, w_) != 0)                                                     \
            fail_msg("%s: %s = \"%.*s\", want \"%.*s\"", (what), expr, (int)(n),                   \
                     g_ ? g_ : "(null)", (int)(n), w_);                                            \
    } while (0)

#define CHECK_STR(what, got, want) CHECK_STR_(what, #got, got, want, -1)
#define CHECK_STRN(what, got, want, n) CHECK_STR_(what, #got, got, want, n)

#define CHECK_HAS(what, hay, needle)                                                               \
    do {                                                                                           \
        if (strstr((hay), (needle)) == NULL)                                                       \
            fail_msg("%s: \"%s\" not found in %s", (what), (needle), (hay));                       \
    } while (0)

#endif
