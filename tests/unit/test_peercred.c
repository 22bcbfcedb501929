/*
 * test_peercred - peer credentials and user names (src/util/peercred.h)
 *
 * A table of user names and uids as policy_allow_users gives them (known, numeric, unknown,
 * malformed); the credentials of a unix socket pair (ours) and of a TCP connection (none); and
 * who peercred_allowed() lets in (root and the process's own user always, others only listed).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../src/util/peercred.h"
#include "check.h"

static const struct {
    const char *name;
    int rc;
    long long uid; /* when rc is 0 */
} user_cases[] = {
    {"root", 0, 0},
    {"0", 0, 0},
    {"105", 0, 105},
    {"4294967294", 0, 4294967294LL},
    {"4294967295", -1, 0}, /* (uid_t)-1 is "no user" */
    {"99999999999", -1, 0},
    {"", -1, 0},
    {"-1", -1, 0},
    {"12x", -1, 0}, /* not a number, and no such user */
    {"no-such-user-hj13", -1, 0},
};

static void
test_user(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(user_cases) / sizeof(user_cases[0]); i++) {
        uid_t u = 12345;
        CHECK_EQ(user_cases[i].name, peercred_user(user_cases[i].name, &u), user_cases[i].rc);
        if (user_cases[i].rc == 0)
            CHECK_EQ(user_cases[i].name, u, user_cases[i].uid);
    }
    uid_t u;
    CHECK_EQ("NULL", peercred_user(NULL, &u), -1);
}

static void
test_unix_peer(void **state)
{
    int sv[2];
    uid_t u = 12345;
    gid_t g = 12345;

    (void)state;
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    CHECK_EQ("socketpair", peercred_uid(sv[0], &u, &g), 0);
    CHECK_EQ("socketpair uid", u, geteuid());
    CHECK_EQ("socketpair gid", g, getegid());
    CHECK_EQ("no gid wanted", peercred_uid(sv[1], &u, NULL), 0);
    close(sv[0]);
    close(sv[1]);
}

static void
test_tcp_peer(void **state)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof(a);
    int l = socket(AF_INET, SOCK_STREAM, 0), c = socket(AF_INET, SOCK_STREAM, 0);
    uid_t u;

    (void)state;
    assert_int_equal(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(l, 1), 0);
    assert_int_equal(getsockname(l, (struct sockaddr *)&a, &al), 0);
    assert_int_equal(connect(c, (struct sockaddr *)&a, sizeof(a)), 0);
    int s = accept(l, NULL, NULL);
    CHECK_EQ("tcp: no peer credentials", peercred_uid(s, &u, NULL), -1);
    CHECK_EQ("not a socket", peercred_uid(-1, &u, NULL), -1);
    close(s);
    close(c);
    close(l);
}

static void
test_allowed(void **state)
{
    const uid_t list[] = {105, 2000};
    uid_t other = geteuid() == 3000 ? 3001 : 3000;

    (void)state;
    CHECK_EQ("root, empty list", peercred_allowed(0, NULL, 0), 1);
    CHECK_EQ("own user, empty list", peercred_allowed(geteuid(), NULL, 0), 1);
    CHECK_EQ("listed", peercred_allowed(105, list, 2), 1);
    CHECK_EQ("listed last", peercred_allowed(2000, list, 2), 1);
    CHECK_EQ("not listed", peercred_allowed(other, list, 2), 0);
    CHECK_EQ("not listed, empty list", peercred_allowed(other, NULL, 0), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_user),
        cmocka_unit_test(test_unix_peer),
        cmocka_unit_test(test_tcp_peer),
        cmocka_unit_test(test_allowed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
