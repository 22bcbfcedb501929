/*
 * test_jname - names as JSON text (jname.h): valid UTF-8 as it is, each invalid byte as \xNN,
 * and back to the raw bytes for a look-up
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "check.h"

#include "../../src/util/jname.h"

static const struct {
    const char *raw, *shown;
} rows[] = {
    {"alice@example.test", "alice@example.test"},
    {"\xc3\xa9t\xc3\xa9@example.test", "\xc3\xa9t\xc3\xa9@example.test"}, /* valid UTF-8 */
    {"bad\xffname@example.test", "bad\\xffname@example.test"},
    {"\x80\xc3(@x", "\\x80\\xc3(@x"},             /* a lone continuation, a cut sequence */
    {"\xed\xa0\x80@x", "\\xed\\xa0\\x80@x"},       /* a surrogate is not UTF-8 */
    {"\xc0\xaf@x", "\\xc0\\xaf@x"},                 /* an overlong '/' */
    {"\xe2\x82\xac\xff", "\xe2\x82\xac\\xff"},     /* a valid one, then an invalid byte */
    {"", ""},
};

/* each raw name: the shown text, a JSON string of it, and back */
static void
test_rows(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char back[256];
        json_t *v = jname(rows[i].raw);
        CHECK_STR(rows[i].shown, json_string_value(v), rows[i].shown);
        char *js = json_dumps(v, JSON_ENCODE_ANY);
        if (js == NULL)
            fail_msg("%s: json_dumps refused it", rows[i].shown);
        free(js);
        json_decref(v);
        int rc = jname_raw(rows[i].shown, back, sizeof(back));
        CHECK_EQ(rows[i].shown, rc, strcmp(rows[i].raw, rows[i].shown) != 0);
        CHECK_STR(rows[i].shown, back, rows[i].raw);
    }
}

/* jname_raw decodes only \xNN with NN >= 80 (the bytes jname escapes), and knows its room */
static void
test_raw_edges(void **state)
{
    char out[8];

    (void)state;
    CHECK_EQ("\\x41", jname_raw("a\\x41b", out, sizeof(out)), 0);
    CHECK_STR("\\x41", out, "a\\x41b");
    CHECK_EQ("\\xf", jname_raw("a\\xf", out, sizeof(out)), 0);
    CHECK_STR("\\xf", out, "a\\xf");
    CHECK_EQ("\\xFF (upper case)", jname_raw("\\xFF", out, sizeof(out)), 0);
    CHECK_EQ("too long", jname_raw("123456789", out, sizeof(out)), -1);
    CHECK_EQ("just fits", jname_raw("1234567", out, sizeof(out)), 0);
    CHECK_EQ("no room", jname_raw("", out, 0), -1);
}

int
main(void)
{
    static const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows),
        cmocka_unit_test(test_raw_edges),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
