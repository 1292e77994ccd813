/*
 * test_rangeset.c - unit tests for rangeset.c: range sets, strict IPv4 and
 * CIDR parsing and formatting, and the minimal exact CIDR cover (checked
 * exhaustively over small address spaces at both ends of the IPv4 space and
 * randomly over a /24).
 */
#include "testutil.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "hnsnetpol/rangeset.h"

static void test_ipv4_parse_accepts(void **state)
{
    static const struct {
        const char *text;
        uint32_t addr;
    } cases[] = {
        {"0.0.0.0", 0},
        {"10.0.0.1", 0x0A000001u},
        {"255.255.255.255", 0xFFFFFFFFu},
        {"192.168.100.200", 0xC0A864C8u},
        {"1.2.3.4", 0x01020304u},
        {"100.0.10.0", 0x64000A00u},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint32_t addr = 0x12345678u;
        assert_true(hnp_ipv4_parse(cases[i].text, &addr));
        assert_int_equal(addr, cases[i].addr);
    }
}

static void test_ipv4_parse_refuses(void **state)
{
    static const char *const bad[] = {
        "",         "1",        "1.2.3",           "1.2.3.4.5", "256.0.0.0",        "1.2.3.256",
        "01.2.3.4", "1.2.3.04", "1.2.3.00",        "1.2.3.4 ",  " 1.2.3.4",         "1.2.3.4/32",
        "1..3.4",   "1.2.3.",   ".1.2.3",          "1.2.3.-4",  "+1.2.3.4",         "1.2.3.4a",
        "a.b.c.d",  "::1",      "1.2.3.1000",      "0x1.2.3.4", "4294967296.0.0.0", "1.2.3.4\n",
        "1,2,3,4",  "Any",      "1.2.3.4-1.2.3.5",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint32_t addr = 0x12345678u;
        if (hnp_ipv4_parse(bad[i], &addr))
            fail_msg("accepted \"%s\"", bad[i]);
        assert_int_equal(addr, 0x12345678u); /* untouched */
    }
    uint32_t addr = 7;
    assert_false(hnp_ipv4_parse(NULL, &addr));
    assert_int_equal(addr, 7);
}

static void test_ipv4_format(void **state)
{
    char buf[16];
    hnp_ipv4_format(0, buf);
    assert_string_equal(buf, "0.0.0.0");
    hnp_ipv4_format(0xFFFFFFFFu, buf);
    assert_string_equal(buf, "255.255.255.255");
    hnp_ipv4_format(0x0A000001u, buf);
    assert_string_equal(buf, "10.0.0.1");
    /* Round trip over a spread of addresses. */
    for (uint64_t a = 0; a <= 0xFFFFFFFFu; a += 0x01010101u / 7 + 13) {
        uint32_t back;
        hnp_ipv4_format((uint32_t)a, buf);
        assert_true(hnp_ipv4_parse(buf, &back));
        assert_int_equal(back, (uint32_t)a);
    }
}

static void test_cidr_parse_accepts(void **state)
{
    static const struct {
        const char *text;
        uint32_t addr;
        uint8_t prefix;
        bool host_bits;
    } cases[] = {
        {"0.0.0.0/0", 0, 0, false},
        {"10.0.0.0/8", 0x0A000000u, 8, false},
        {"10.1.2.3/8", 0x0A000000u, 8, true},
        {"10.1.2.3/32", 0x0A010203u, 32, false},
        {"255.255.255.255/32", 0xFFFFFFFFu, 32, false},
        {"255.255.255.255/0", 0, 0, true},
        {"192.168.1.128/25", 0xC0A80180u, 25, false},
        {"192.168.1.129/25", 0xC0A80180u, 25, true},
        {"172.16.0.1/31", 0xAC100000u, 31, true},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct hnp_cidr c = {0, 99};
        bool host = !cases[i].host_bits;
        struct hnp_error err;
        assert_int_equal(hnp_cidr_parse(cases[i].text, &c, &host, &err), HNP_OK);
        assert_int_equal(c.addr, cases[i].addr);
        assert_int_equal(c.prefix, cases[i].prefix);
        assert_int_equal(host, cases[i].host_bits);
        /* host_bits_set and err may be NULL */
        assert_int_equal(hnp_cidr_parse(cases[i].text, &c, NULL, NULL), HNP_OK);
    }
}

static void test_cidr_parse_refuses(void **state)
{
    static const char *const bad[] = {
        "10.0.0.0",
        "10.0.0.0/",
        "10.0.0.0/33",
        "10.0.0.0/08",
        "10.0.0.0/00",
        "10.0.0.0/-1",
        "10.0.0.0/+8",
        "10.0.0.0/8 ",
        "10.0.0.0/8/8",
        "010.0.0.0/8",
        "10.0.0/8",
        "/8",
        "",
        "fd00::/64",
        "::/0",
        "10.0.0.0/a",
        "10.0.0.0/100",
        "10.0.0.0-10.0.0.5",
        "Any",
        "10.0.0.0 /8",
        "::ffff:10.0.0.0/104",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct hnp_cidr c = {0x01020304u, 7};
        bool host = true;
        struct hnp_error err;
        hnp_error_clear(&err);
        if (hnp_cidr_parse(bad[i], &c, &host, &err) != HNP_ERR_INVALID)
            fail_msg("accepted \"%s\"", bad[i]);
        /* outputs untouched */
        assert_int_equal(c.addr, 0x01020304u);
        assert_int_equal(c.prefix, 7);
        assert_true(host);
        /* the message quotes the text */
        char quoted[64];
        snprintf(quoted, sizeof(quoted), "\"%s\"", bad[i]);
        if (strstr(err.message, quoted) == NULL)
            fail_msg("message for \"%s\" does not quote it: %s", bad[i], err.message);
    }
    struct hnp_error err;
    struct hnp_cidr c;
    assert_int_equal(hnp_cidr_parse("fd00::/8", &c, NULL, &err), HNP_ERR_INVALID);
    assert_non_null(strstr(err.message, "IPv6"));
    assert_int_equal(hnp_cidr_parse(NULL, &c, NULL, &err), HNP_ERR_INVALID);
    assert_int_equal(hnp_cidr_parse("x", &c, NULL, NULL), HNP_ERR_INVALID);
}

/* Both families; IPv6 in its RFC 4291 forms, host bits cleared. */
static void test_cidr_any_parse(void **state)
{
    (void)state;
    struct hnp_cidr_any c;
    assert_true(hnp_cidr_any_parse("10.1.2.3/16", &c));
    assert_false(c.ipv6);
    assert_int_equal(c.v4.addr, 0x0A010000);
    assert_int_equal(c.v4.prefix, 16);

    static const uint8_t fd00[16] = {0xfd, 0x00};
    assert_true(hnp_cidr_any_parse("fd00::1/64", &c));
    assert_true(c.ipv6);
    assert_int_equal(c.v6.prefix, 64);
    assert_memory_equal(c.v6.addr, fd00, 16);

    static const uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 0};
    assert_true(hnp_cidr_any_parse("::ffff:10.0.0.0/120", &c));
    assert_memory_equal(c.v6.addr, mapped, 16);
    static const uint8_t full[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6};
    assert_true(hnp_cidr_any_parse("2001:DB8:1:2:3:4:5:6/128", &c));
    assert_memory_equal(c.v6.addr, full, 16);
    assert_true(hnp_cidr_any_parse("::/0", &c));
    assert_int_equal(c.v6.prefix, 0);

    static const char *const bad[] = {
        "",          "10.0.0.0",   "10.0.0.0/33",          "fd00::",          "fd00::/129",
        ":1::/64",   "1::2::3/64", "1:2:3:4:5:6:7:8::/64", "12345::/64",      "fd00::/",
        "fd00::/0x", "g::/64",     "1:2:3:4:5:6:7/64",     "::10.0.0.256/96", "fd00::/1280",
        "1:/64",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (hnp_cidr_any_parse(bad[i], &c))
            fail_msg("\"%s\" parsed", bad[i]);
        /* The family is told by a ':' even when the text is not a CIDR. */
        assert_int_equal(c.ipv6, strchr(bad[i], ':') != NULL);
    }
}

static void test_cidr_any_inside(void **state)
{
    (void)state;
    static const struct {
        const char *inner, *outer;
        bool inside;
    } cases[] = {
        {"10.1.0.0/16", "10.0.0.0/8", true},  {"10.0.0.0/8", "10.0.0.0/8", false},
        {"11.0.0.0/16", "10.0.0.0/8", false}, {"10.0.0.0/8", "10.1.0.0/16", false},
        {"0.0.0.0/1", "0.0.0.0/0", true},     {"fd00:1::/32", "fd00::/16", true},
        {"fd00::/16", "fd00::/16", false},    {"fe00::/32", "fd00::/16", false},
        {"fd00::/17", "fd00::/16", true},     {"fd00:8000::/17", "fd00::/16", true},
        {"10.0.0.0/16", "::/0", false},       {"::/1", "10.0.0.0/0", false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct hnp_cidr_any a, b;
        assert_true(hnp_cidr_any_parse(cases[i].inner, &a));
        assert_true(hnp_cidr_any_parse(cases[i].outer, &b));
        if (hnp_cidr_any_inside(&a, &b) != cases[i].inside)
            fail_msg("%s inside %s: expected %d", cases[i].inner, cases[i].outer, cases[i].inside);
    }
}

static void test_cidr_format_range_contains(void **state)
{
    char buf[19];
    struct hnp_cidr all = {0, 0};
    hnp_cidr_format(&all, buf);
    assert_string_equal(buf, "0.0.0.0/0");
    struct hnp_range r = hnp_cidr_range(&all);
    assert_int_equal(r.lo, 0);
    assert_int_equal(r.hi, 0xFFFFFFFFu);
    assert_true(hnp_cidr_contains(&all, 0));
    assert_true(hnp_cidr_contains(&all, 0xFFFFFFFFu));

    struct hnp_cidr top = {0xFFFFFFFFu, 32};
    hnp_cidr_format(&top, buf);
    assert_string_equal(buf, "255.255.255.255");
    r = hnp_cidr_range(&top);
    assert_int_equal(r.lo, 0xFFFFFFFFu);
    assert_int_equal(r.hi, 0xFFFFFFFFu);
    assert_true(hnp_cidr_contains(&top, 0xFFFFFFFFu));
    assert_false(hnp_cidr_contains(&top, 0xFFFFFFFEu));

    struct hnp_cidr widest = {0xFFFFFFFCu, 30};
    hnp_cidr_format(&widest, buf); /* the longest rendering: 18 characters */
    assert_string_equal(buf, "255.255.255.252/30");

    struct hnp_cidr net = {0x0A000000u, 8};
    hnp_cidr_format(&net, buf);
    assert_string_equal(buf, "10.0.0.0/8");
    r = hnp_cidr_range(&net);
    assert_int_equal(r.lo, 0x0A000000u);
    assert_int_equal(r.hi, 0x0AFFFFFFu);
    assert_true(hnp_cidr_contains(&net, 0x0A123456u));
    assert_false(hnp_cidr_contains(&net, 0x0B000000u));
    assert_false(hnp_cidr_contains(&net, 0x09FFFFFFu));

    struct hnp_cidr half = {0x80000000u, 1};
    hnp_cidr_format(&half, buf);
    assert_string_equal(buf, "128.0.0.0/1");
    r = hnp_cidr_range(&half);
    assert_int_equal(r.lo, 0x80000000u);
    assert_int_equal(r.hi, 0xFFFFFFFFu);

    /* format -> parse round trip for every prefix length */
    for (unsigned p = 0; p <= 32; p++) {
        struct hnp_cidr c = {p == 0 ? 0 : (0xC0A80101u & (uint32_t)(0xFFFFFFFFu << (32 - p))),
                             (uint8_t)p};
        char text[24];
        hnp_cidr_format(&c, buf);
        if (p == 32)
            snprintf(text, sizeof(text), "%s/32", buf);
        else
            snprintf(text, sizeof(text), "%s", buf);
        struct hnp_cidr back;
        bool host = true;
        assert_int_equal(hnp_cidr_parse(text, &back, &host, NULL), HNP_OK);
        assert_int_equal(back.addr, c.addr);
        assert_int_equal(back.prefix, c.prefix);
        assert_false(host);
    }
}

static void test_rangeset_normalize(void **state)
{
    struct hnp_rangeset s;
    hnp_rangeset_init(&s);
    hnp_rangeset_normalize(&s); /* empty is fine */
    assert_int_equal(s.count, 0);
    assert_false(hnp_rangeset_contains(&s, 0));

    assert_int_equal(hnp_rangeset_add(&s, 20, 30), HNP_OK);
    assert_int_equal(hnp_rangeset_add(&s, 5, 5), HNP_OK);
    assert_int_equal(hnp_rangeset_add(&s, 31, 40), HNP_OK); /* adjacent to 20-30 */
    assert_int_equal(hnp_rangeset_add(&s, 25, 27), HNP_OK); /* inside */
    assert_int_equal(hnp_rangeset_add(&s, 7, 8), HNP_OK);   /* gap of one at 6 */
    assert_int_equal(hnp_rangeset_add(&s, 100, 200), HNP_OK);
    assert_int_equal(hnp_rangeset_add(&s, 150, 250), HNP_OK); /* overlap */
    assert_int_equal(hnp_rangeset_add(&s, 10, 2), HNP_ERR_INVALID);
    hnp_rangeset_normalize(&s);
    assert_int_equal(s.count, 4);
    assert_int_equal(s.items[0].lo, 5);
    assert_int_equal(s.items[0].hi, 5);
    assert_int_equal(s.items[1].lo, 7);
    assert_int_equal(s.items[1].hi, 8);
    assert_int_equal(s.items[2].lo, 20);
    assert_int_equal(s.items[2].hi, 40);
    assert_int_equal(s.items[3].lo, 100);
    assert_int_equal(s.items[3].hi, 250);
    assert_true(hnp_rangeset_contains(&s, 5));
    assert_false(hnp_rangeset_contains(&s, 6));
    assert_true(hnp_rangeset_contains(&s, 40));
    assert_false(hnp_rangeset_contains(&s, 41));
    assert_true(hnp_rangeset_contains(&s, 250));
    assert_false(hnp_rangeset_contains(&s, 251));
    assert_false(hnp_rangeset_contains(&s, 0));
    hnp_rangeset_free(&s);
    assert_null(s.items);
    assert_int_equal(s.count, 0);
    hnp_rangeset_free(NULL);

    /* the top of the space: no overflow in "hi + 1" */
    assert_int_equal(hnp_rangeset_add(&s, 0xFFFFFFF0u, 0xFFFFFFFFu), HNP_OK);
    assert_int_equal(hnp_rangeset_add(&s, 0xFFFFFFFFu, 0xFFFFFFFFu), HNP_OK);
    assert_int_equal(hnp_rangeset_add(&s, 0, 0), HNP_OK);
    assert_int_equal(hnp_rangeset_add(&s, 0xFFFFFFE0u, 0xFFFFFFEFu), HNP_OK);
    hnp_rangeset_normalize(&s);
    assert_int_equal(s.count, 2);
    assert_int_equal(s.items[0].lo, 0);
    assert_int_equal(s.items[0].hi, 0);
    assert_int_equal(s.items[1].lo, 0xFFFFFFE0u);
    assert_int_equal(s.items[1].hi, 0xFFFFFFFFu);
    assert_true(hnp_rangeset_contains(&s, 0xFFFFFFFFu));
    assert_false(hnp_rangeset_contains(&s, 1));
    hnp_rangeset_free(&s);

    /* everything merges into one */
    assert_int_equal(hnp_rangeset_add(&s, 0x80000000u, 0xFFFFFFFFu), HNP_OK);
    assert_int_equal(hnp_rangeset_add(&s, 0, 0x7FFFFFFFu), HNP_OK);
    hnp_rangeset_normalize(&s);
    assert_int_equal(s.count, 1);
    assert_int_equal(s.items[0].lo, 0);
    assert_int_equal(s.items[0].hi, 0xFFFFFFFFu);
    hnp_rangeset_free(&s);
}

static void test_rangeset_add_set_equal(void **state)
{
    struct hnp_rangeset a = {0}, b = {0};
    for (uint32_t i = 0; i < 100; i++)
        assert_int_equal(hnp_rangeset_add(&a, i * 10, i * 10 + 3), HNP_OK);
    assert_int_equal(hnp_rangeset_add_set(&b, &a), HNP_OK);
    hnp_rangeset_normalize(&a);
    hnp_rangeset_normalize(&b);
    assert_true(hnp_rangeset_equal(&a, &b));
    /* adding a set to itself (the array is reallocated under it) changes nothing */
    assert_int_equal(hnp_rangeset_add_set(&a, &a), HNP_OK);
    assert_int_equal(a.count, 200);
    hnp_rangeset_normalize(&a);
    assert_int_equal(a.count, 100);
    assert_true(hnp_rangeset_equal(&a, &b));
    assert_int_equal(hnp_rangeset_add(&b, 5, 5), HNP_OK);
    hnp_rangeset_normalize(&b);
    assert_false(hnp_rangeset_equal(&a, &b));
    struct hnp_rangeset empty = {0};
    assert_int_equal(hnp_rangeset_add_set(&a, &empty), HNP_OK);
    assert_false(hnp_rangeset_equal(&a, &empty));
    assert_true(hnp_rangeset_equal(&empty, &empty));
    /* same count, different bounds */
    struct hnp_rangeset c = {0}, d = {0};
    assert_int_equal(hnp_rangeset_add(&c, 1, 2), HNP_OK);
    assert_int_equal(hnp_rangeset_add(&d, 1, 3), HNP_OK);
    assert_false(hnp_rangeset_equal(&c, &d));
    hnp_rangeset_free(&a);
    hnp_rangeset_free(&b);
    hnp_rangeset_free(&c);
    hnp_rangeset_free(&d);
}

/* Render a cover as "a,b,c" for exact comparisons. */
static void cover_text(const struct hnp_rangeset *set, char *out, size_t size)
{
    struct hnp_cidr *cidrs = (struct hnp_cidr *)1;
    size_t n = 99;
    assert_int_equal(hnp_rangeset_to_cidrs(set, &cidrs, &n), HNP_OK);
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        char buf[19];
        hnp_cidr_format(&cidrs[i], buf);
        used += (size_t)snprintf(out + used, size - used, "%s%s", i ? "," : "", buf);
        assert_true(used < size);
    }
    if (n == 0)
        assert_null(cidrs);
    free(cidrs);
}

static void test_to_cidrs_examples(void **state)
{
    static const struct {
        uint32_t lo, hi;
        const char *want;
    } cases[] = {
        {0, 0xFFFFFFFFu, "0.0.0.0/0"},
        {0xFFFFFFFFu, 0xFFFFFFFFu, "255.255.255.255"},
        {0, 0, "0.0.0.0"},
        {0xFFFFFFF0u, 0xFFFFFFFFu, "255.255.255.240/28"},
        {0x0A000001u, 0x0A000006u, "10.0.0.1,10.0.0.2/31,10.0.0.4/31,10.0.0.6"},
        {0x0A000000u, 0x0AFFFFFFu, "10.0.0.0/8"},
        {1, 0xFFFFFFFFu,
         "0.0.0.1,0.0.0.2/31,0.0.0.4/30,0.0.0.8/29,0.0.0.16/28,0.0.0.32/27,0.0.0.64/26,"
         "0.0.0.128/25,0.0.1.0/24,0.0.2.0/23,0.0.4.0/22,0.0.8.0/21,0.0.16.0/20,0.0.32.0/19,"
         "0.0.64.0/18,0.0.128.0/17,0.1.0.0/16,0.2.0.0/15,0.4.0.0/14,0.8.0.0/13,0.16.0.0/12,"
         "0.32.0.0/11,0.64.0.0/10,0.128.0.0/9,1.0.0.0/8,2.0.0.0/7,4.0.0.0/6,8.0.0.0/5,"
         "16.0.0.0/4,32.0.0.0/3,64.0.0.0/2,128.0.0.0/1"},
        {0, 0xFFFFFFFEu,
         "0.0.0.0/1,128.0.0.0/2,192.0.0.0/3,224.0.0.0/4,240.0.0.0/5,248.0.0.0/6,252.0.0.0/7,"
         "254.0.0.0/8,255.0.0.0/9,255.128.0.0/10,255.192.0.0/11,255.224.0.0/12,255.240.0.0/13,"
         "255.248.0.0/14,255.252.0.0/15,255.254.0.0/16,255.255.0.0/17,255.255.128.0/18,"
         "255.255.192.0/19,255.255.224.0/20,255.255.240.0/21,255.255.248.0/22,"
         "255.255.252.0/23,255.255.254.0/24,255.255.255.0/25,255.255.255.128/26,"
         "255.255.255.192/27,255.255.255.224/28,255.255.255.240/29,255.255.255.248/30,"
         "255.255.255.252/31,255.255.255.254"},
    };
    char text[2048];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct hnp_rangeset s = {0};
        assert_int_equal(hnp_rangeset_add(&s, cases[i].lo, cases[i].hi), HNP_OK);
        hnp_rangeset_normalize(&s);
        cover_text(&s, text, sizeof(text));
        assert_string_equal(text, cases[i].want);
        hnp_rangeset_free(&s);
    }
    /* empty set: NULL and 0 */
    struct hnp_rangeset empty = {0};
    cover_text(&empty, text, sizeof(text));
    assert_string_equal(text, "");
    /* several ranges, output ascending */
    struct hnp_rangeset s = {0};
    assert_int_equal(hnp_rangeset_add(&s, 0xC0A80100u, 0xC0A801FFu), HNP_OK);
    assert_int_equal(hnp_rangeset_add(&s, 0x0A000005u, 0x0A000005u), HNP_OK);
    assert_int_equal(hnp_rangeset_add(&s, 0xC0A80200u, 0xC0A802FFu), HNP_OK);
    hnp_rangeset_normalize(&s);
    cover_text(&s, text, sizeof(text));
    assert_string_equal(text, "10.0.0.5,192.168.1.0/24,192.168.2.0/24");
    hnp_rangeset_free(&s);
}

/*
 * The minimal exact cover by aligned blocks is the set of maximal blocks
 * wholly inside the set (blocks nest, so an exact cover holds each of them or
 * a split of it). Counted here independently of the greedy algorithm:
 * bits[] is a membership map of 2^order addresses.
 */
static size_t optimal_count(const bool *bits, unsigned order)
{
    size_t size = (size_t)1 << order;
    bool all = true, none = true;
    for (size_t i = 0; i < size; i++) {
        if (bits[i])
            none = false;
        else
            all = false;
    }
    if (all)
        return 1;
    if (none || order == 0)
        return 0;
    return optimal_count(bits, order - 1) + optimal_count(bits + size / 2, order - 1);
}

/*
 * Check the cover of the set described by bits[0 .. 2^order) placed at base
 * (base aligned to 2^order): exact, ascending, disjoint, no two mergeable,
 * as few CIDRs as possible.
 */
static void check_cover(const bool *bits, unsigned order, uint32_t base,
                        const struct hnp_rangeset *set)
{
    size_t size = (size_t)1 << order;
    for (size_t i = 0; i < size; i++)
        assert_int_equal(hnp_rangeset_contains(set, base + (uint32_t)i), bits[i]);
    if (base > 0)
        assert_false(hnp_rangeset_contains(set, base - 1));
    if ((uint64_t)base + size <= 0xFFFFFFFFu)
        assert_false(hnp_rangeset_contains(set, base + (uint32_t)size));

    struct hnp_cidr *cidrs = NULL;
    size_t n = 0;
    assert_int_equal(hnp_rangeset_to_cidrs(set, &cidrs, &n), HNP_OK);
    bool covered[256] = {false};
    assert_true(size <= 256);
    for (size_t k = 0; k < n; k++) {
        struct hnp_range r = hnp_cidr_range(&cidrs[k]);
        assert_int_equal(r.lo, cidrs[k].addr); /* host bits zero */
        assert_true(r.lo >= base);
        assert_true(r.hi - base < size);
        for (uint64_t a = r.lo; a <= r.hi; a++) {
            size_t i = (size_t)(a - base);
            assert_true(bits[i]);     /* nothing outside the set */
            assert_false(covered[i]); /* no overlap */
            covered[i] = true;
        }
        if (k > 0) {
            struct hnp_range prev = hnp_cidr_range(&cidrs[k - 1]);
            assert_true(prev.hi < r.lo); /* ascending */
            /* two sibling blocks of one parent could have been one CIDR */
            bool siblings =
                cidrs[k - 1].prefix == cidrs[k].prefix && cidrs[k].prefix > 0 &&
                (cidrs[k - 1].addr ^ cidrs[k].addr) == ((uint32_t)1 << (32 - cidrs[k].prefix));
            assert_false(siblings);
        }
    }
    for (size_t i = 0; i < size; i++)
        assert_int_equal(covered[i], bits[i]); /* everything in the set */
    assert_int_equal(n, optimal_count(bits, order));
    free(cidrs);
}

/* Build the set from bits as single addresses in a scrambled order. */
static void set_from_bits(struct hnp_rangeset *set, const bool *bits, unsigned order, uint32_t base)
{
    size_t size = (size_t)1 << order;
    for (size_t j = 0; j < size; j++) {
        size_t i = (j * 7 + 3) % size; /* 7 is odd: a permutation */
        if (bits[i])
            assert_int_equal(hnp_rangeset_add(set, base + (uint32_t)i, base + (uint32_t)i), HNP_OK);
    }
    hnp_rangeset_normalize(set);
}

static void test_to_cidrs_exhaustive_16(void **state)
{
    /* every subset of 16 addresses, at the bottom, in the middle and at the top */
    static const uint32_t bases[] = {0, 0x0A000010u, 0xFFFFFFF0u};
    for (size_t b = 0; b < 3; b++) {
        for (uint32_t mask = 0; mask < 65536; mask++) {
            bool bits[16];
            for (unsigned i = 0; i < 16; i++)
                bits[i] = (mask >> i) & 1;
            struct hnp_rangeset set = {0};
            set_from_bits(&set, bits, 4, bases[b]);
            check_cover(bits, 4, bases[b], &set);
            hnp_rangeset_free(&set);
        }
    }
}

/* xorshift32: deterministic, so a failure reproduces. */
static uint32_t next_random(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *s = x;
    return x;
}

static void test_to_cidrs_random_24(void **state)
{
    uint32_t seed = 0x9E3779B9u;
    static const uint32_t bases[] = {0xC0A80100u, 0xFFFFFF00u, 0};
    for (int round = 0; round < 3000; round++) {
        uint32_t base = bases[round % 3];
        bool bits[256] = {false};
        struct hnp_rangeset set = {0};
        /* random ranges, of varied density, possibly overlapping */
        int n_ranges = (int)(next_random(&seed) % 12);
        for (int r = 0; r < n_ranges; r++) {
            uint32_t lo = next_random(&seed) % 256;
            uint32_t len = next_random(&seed) % (round % 2 ? 256 : 20);
            uint32_t hi = lo + len > 255 ? 255 : lo + len;
            for (uint32_t a = lo; a <= hi; a++)
                bits[a] = true;
            assert_int_equal(hnp_rangeset_add(&set, base + lo, base + hi), HNP_OK);
        }
        hnp_rangeset_normalize(&set);
        for (size_t i = 1; i < set.count; i++) /* normalized: sorted, gaps between */
            assert_true((uint64_t)set.items[i - 1].hi + 1 < set.items[i].lo);
        check_cover(bits, 8, base, &set);

        /* the same set built address by address is equal */
        struct hnp_rangeset again = {0};
        set_from_bits(&again, bits, 8, base);
        assert_true(hnp_rangeset_equal(&set, &again));
        hnp_rangeset_free(&again);
        hnp_rangeset_free(&set);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ipv4_parse_accepts),
        cmocka_unit_test(test_ipv4_parse_refuses),
        cmocka_unit_test(test_ipv4_format),
        cmocka_unit_test(test_cidr_parse_accepts),
        cmocka_unit_test(test_cidr_parse_refuses),
        cmocka_unit_test(test_cidr_any_parse),
        cmocka_unit_test(test_cidr_any_inside),
        cmocka_unit_test(test_cidr_format_range_contains),
        cmocka_unit_test(test_rangeset_normalize),
        cmocka_unit_test(test_rangeset_add_set_equal),
        cmocka_unit_test(test_to_cidrs_examples),
        cmocka_unit_test(test_to_cidrs_exhaustive_16),
        cmocka_unit_test(test_to_cidrs_random_24),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
