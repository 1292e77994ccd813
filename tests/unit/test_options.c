/*
 * test_options.c - the shared option parser (src/cli/options.c): every
 * form of an option's value, switches, aliases, the options a command
 * takes, arguments and "--", -h / --help, a handler's error, and the
 * messages in each command's wording.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

enum { OPT_OUTPUT, OPT_NODE, OPT_ALL, OPT_HIDDEN };

static const struct hnp_opt table[] = {
    {"--output", 'o', HNP_OPT_VALUE, OPT_OUTPUT},
    {"--node", 0, HNP_OPT_VALUE, OPT_NODE},
    {"--node-name", 0, HNP_OPT_VALUE, OPT_NODE}, /* an alias */
    {"--all", 'a', HNP_OPT_SWITCH, OPT_ALL},
    {"--hidden", 0, HNP_OPT_VALUE, OPT_HIDDEN}, /* not taken by the test command */
};

/* What the handlers saw, in order, as "id=value" or "arg:value" items joined by spaces. */
struct seen {
    char log[512];
    int fail_on; /* the handler refuses option id fail_on (-1: none) */
};

static void note(struct seen *s, const char *item)
{
    size_t n = strlen(s->log);
    snprintf(s->log + n, sizeof(s->log) - n, "%s%s", n ? " " : "", item);
}

static enum hnp_err set(void *ctx, const struct hnp_opt *opt, const char *value, FILE *errout)
{
    struct seen *s = ctx;
    if (opt->id == s->fail_on) {
        fprintf(errout, "refused %s\n", opt->name);
        return HNP_ERR_NOMEM;
    }
    char item[128];
    snprintf(item, sizeof(item), "%d=%s", opt->id, value ? value : "(none)");
    note(s, item);
    return HNP_OK;
}

static enum hnp_err argument(void *ctx, const char *arg, FILE *errout)
{
    (void)errout;
    char item[128];
    snprintf(item, sizeof(item), "arg:%s", arg);
    note(ctx, item);
    return HNP_OK;
}

/* Everything written to f; caller frees. */
static char *captured(FILE *f)
{
    fflush(f);
    long size = ftell(f);
    assert_true(size >= 0);
    char *text = malloc((size_t)size + 1);
    assert_non_null(text);
    rewind(f);
    size_t n = fread(text, 1, (size_t)size, f);
    text[n] = '\0';
    return text;
}

/*
 * Parse the NULL-terminated args (after a command name) with messages m,
 * with or without the argument handler; the handlers' log goes to s, the
 * messages to *errors (free it). Returns what hnp_opt_parse() returned.
 */
static enum hnp_err parse(enum hnp_opt_messages m, bool with_arguments, const char *const *args,
                          struct seen *s, bool *help, char **errors)
{
    char *argv[16] = {(char *)"cmd"};
    int argc = 1;
    for (; args[argc - 1] != NULL; argc++)
        argv[argc] = (char *)args[argc - 1];
    memset(s->log, 0, sizeof(s->log));
    const struct hnp_opt_parser p = {
        .prog = "prog",
        .command = "cmd",
        .messages = m,
        .opts = table,
        .n_opts = sizeof(table) / sizeof(table[0]),
        .allowed = HNP_OPT_BIT(OPT_OUTPUT) | HNP_OPT_BIT(OPT_NODE) | HNP_OPT_BIT(OPT_ALL),
        .set = set,
        .argument = with_arguments ? argument : NULL,
        .ctx = s,
    };
    FILE *errout = tmpfile();
    assert_non_null(errout);
    enum hnp_err rc = hnp_opt_parse(&p, argc, argv, 1, help, errout);
    *errors = captured(errout);
    fclose(errout);
    return rc;
}

static void test_value_forms(void **state)
{
    (void)state;
    static const char *const args[] = {"--output", "json",        "--output=text",
                                       "-o",       "table",       "-oyaml",
                                       "--node=",  "--node-name", "n1",
                                       "--all",    "-a",          "f1",
                                       "-",        NULL};
    struct seen s = {.fail_on = -1};
    bool help = false;
    char *errors;
    assert_int_equal(parse(HNP_OPT_MESSAGES_OFFLINE, true, args, &s, &help, &errors), HNP_OK);
    assert_string_equal(s.log, "0=json 0=text 0=table 0=yaml 1= 1=n1 2=(none) 2=(none) arg:f1 "
                               "arg:-");
    assert_false(help);
    assert_string_equal(errors, "");
    free(errors);
}

static void test_help_and_double_dash(void **state)
{
    (void)state;
    static const char *const args[] = {"f1", "-h", "--", "--all", "-o", "--help", NULL};
    struct seen s = {.fail_on = -1};
    bool help = false;
    char *errors;
    assert_int_equal(parse(HNP_OPT_MESSAGES_OFFLINE, true, args, &s, &help, &errors), HNP_OK);
    assert_true(help);
    /* After "--" everything is an argument, even --help. */
    assert_string_equal(s.log, "arg:f1 arg:--all arg:-o arg:--help");
    free(errors);

    /* --help anywhere; what follows is still parsed. */
    static const char *const later[] = {"--help", "--node", "n", NULL};
    help = false;
    assert_int_equal(parse(HNP_OPT_MESSAGES_RUN, false, later, &s, &help, &errors), HNP_OK);
    assert_true(help);
    assert_string_equal(s.log, "1=n");
    free(errors);
}

static void test_handler_error_stops(void **state)
{
    (void)state;
    static const char *const args[] = {"--node", "n", "--all", "--output", "x", NULL};
    struct seen s = {.fail_on = OPT_ALL};
    bool help = false;
    char *errors;
    assert_int_equal(parse(HNP_OPT_MESSAGES_RUN, false, args, &s, &help, &errors), HNP_ERR_NOMEM);
    assert_string_equal(s.log, "1=n");
    assert_string_equal(errors, "refused --all\n");
    free(errors);
}

/* Each bad command line, and the message of each wording. */
static void test_messages(void **state)
{
    (void)state;
    static const struct {
        const char *args[4];
        bool with_arguments;
        const char *offline, *run, *mock;
    } cases[] = {
        {{"--bogus", NULL},
         false,
         "prog: unknown option '--bogus' (see prog --help)\n",
         "prog: unknown option \"--bogus\" (see prog --help)\n",
         "prog: --bogus: unknown option for cmd\n"},
        {{"--bogus=1", NULL},
         false,
         "prog: unknown option '--bogus=1' (see prog --help)\n",
         "prog: unknown option \"--bogus\" (see prog --help)\n",
         "prog: --bogus=1: unknown option for cmd\n"},
        /* An option of the table that the command does not take. */
        {{"--hidden", "x", NULL},
         false,
         "prog: unknown option '--hidden' (see prog --help)\n",
         "prog: unknown option \"--hidden\" (see prog --help)\n",
         "prog: --hidden: unknown option for cmd\n"},
        {{"-x", NULL},
         false,
         "prog: unknown option '-x' (see prog --help)\n",
         "prog: unknown option \"-x\" (see prog --help)\n",
         "prog: -x: unknown option for cmd\n"},
        {{"--node", NULL},
         false,
         "prog: option '--node' needs a value\n",
         "prog: --node needs a value (see prog --help)\n",
         "prog: --node needs a value\n"},
        {{"-o", NULL},
         false,
         "prog: option '-o' needs a value\n",
         "prog: -o needs a value (see prog --help)\n",
         "prog: -o needs a value\n"},
        {{"--all=yes", NULL},
         false,
         "prog: unknown option '--all=yes' (see prog --help)\n",
         "prog: --all takes no value\n",
         "prog: --all=yes: unknown option for cmd\n"},
        {{"-ayes", NULL},
         false,
         "prog: unknown option '-ayes' (see prog --help)\n",
         "prog: -a takes no value\n",
         "prog: -ayes: unknown option for cmd\n"},
        /* No argument handler: an argument, "-" and "--" are not taken. */
        {{"stray", NULL},
         false,
         "prog: unknown option 'stray' (see prog --help)\n",
         "prog: unexpected argument \"stray\" (see prog --help)\n",
         "prog: stray: unknown option for cmd\n"},
        {{"-", NULL},
         false,
         "prog: unknown option '-' (see prog --help)\n",
         "prog: unexpected argument \"-\" (see prog --help)\n",
         "prog: -: unknown option for cmd\n"},
        {{"--", NULL},
         false,
         "prog: unknown option '--' (see prog --help)\n",
         "prog: unknown option \"--\" (see prog --help)\n",
         "prog: --: unknown option for cmd\n"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *expected[] = {cases[i].offline, cases[i].run, cases[i].mock};
        for (int m = HNP_OPT_MESSAGES_OFFLINE; m <= HNP_OPT_MESSAGES_MOCK; m++) {
            struct seen s = {.fail_on = -1};
            bool help = false;
            char *errors;
            enum hnp_err rc = parse((enum hnp_opt_messages)m, cases[i].with_arguments,
                                    cases[i].args, &s, &help, &errors);
            if (rc != HNP_ERR_USAGE || strcmp(errors, expected[m]) != 0)
                fail_msg("case %zu, wording %d: %s, message: %s", i, m, hnp_err_name(rc), errors);
            assert_string_equal(s.log, "");
            free(errors);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_value_forms),
        cmocka_unit_test(test_help_and_double_dash),
        cmocka_unit_test(test_handler_error_stops),
        cmocka_unit_test(test_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
