/*
 * options.c - the command-line option parser shared by every command
 * (options.h): finds each argument's row in the command's table, takes its
 * value in whichever form it was given, and reports what is wrong in the
 * command's wording.
 */
#include "options.h"

#include <string.h>

/* The row of table p whose long name is name[0..len), among the options the command takes. */
static const struct hnp_opt *find_long(const struct hnp_opt_parser *p, const char *name, size_t len)
{
    for (size_t i = 0; i < p->n_opts; i++) {
        const struct hnp_opt *o = &p->opts[i];
        if ((p->allowed & HNP_OPT_BIT(o->id)) && strlen(o->name) == len &&
            strncmp(o->name, name, len) == 0)
            return o;
    }
    return NULL;
}

/* The row whose short form is c. */
static const struct hnp_opt *find_short(const struct hnp_opt_parser *p, char c)
{
    for (size_t i = 0; i < p->n_opts; i++) {
        const struct hnp_opt *o = &p->opts[i];
        if ((p->allowed & HNP_OPT_BIT(o->id)) && o->short_name != '\0' && o->short_name == c)
            return o;
    }
    return NULL;
}

/*
 * arg is no option of the command; name[0..len) is its name without
 * "=value". The one place an unknown option is reported.
 */
static enum hnp_err unknown_option(const struct hnp_opt_parser *p, const char *arg, size_t len,
                                   FILE *errout)
{
    switch (p->messages) {
    case HNP_OPT_MESSAGES_OFFLINE:
        fprintf(errout, "%s: unknown option '%s' (see %s --help)\n", p->prog, arg, p->prog);
        break;
    case HNP_OPT_MESSAGES_RUN:
        fprintf(errout, "%s: unknown option \"%.*s\" (see %s --help)\n", p->prog, (int)len, arg,
                p->prog);
        break;
    case HNP_OPT_MESSAGES_MOCK:
        fprintf(errout, "%s: %s: unknown option for %s\n", p->prog, arg, p->command);
        break;
    }
    return HNP_ERR_USAGE;
}

/* arg names opt, which needs a value, and none follows. */
static enum hnp_err missing_value(const struct hnp_opt_parser *p, const char *arg, FILE *errout)
{
    switch (p->messages) {
    case HNP_OPT_MESSAGES_OFFLINE:
        fprintf(errout, "%s: option '%s' needs a value\n", p->prog, arg);
        break;
    case HNP_OPT_MESSAGES_RUN:
        fprintf(errout, "%s: %s needs a value (see %s --help)\n", p->prog, arg, p->prog);
        break;
    case HNP_OPT_MESSAGES_MOCK:
        fprintf(errout, "%s: %s needs a value\n", p->prog, arg);
        break;
    }
    return HNP_ERR_USAGE;
}

/* A value was given to a switch: arg is the whole argument, name[0..len) the switch. */
static enum hnp_err value_to_switch(const struct hnp_opt_parser *p, const char *arg, size_t len,
                                    FILE *errout)
{
    if (p->messages != HNP_OPT_MESSAGES_RUN)
        return unknown_option(p, arg, len, errout);
    fprintf(errout, "%s: %.*s takes no value\n", p->prog, (int)len, arg);
    return HNP_ERR_USAGE;
}

/* An argument that is no option, where the command takes none. */
static enum hnp_err unexpected_argument(const struct hnp_opt_parser *p, const char *arg,
                                        FILE *errout)
{
    if (p->messages != HNP_OPT_MESSAGES_RUN)
        return unknown_option(p, arg, strlen(arg), errout);
    fprintf(errout, "%s: unexpected argument \"%s\" (see %s --help)\n", p->prog, arg, p->prog);
    return HNP_ERR_USAGE;
}

enum hnp_err hnp_opt_parse(const struct hnp_opt_parser *p, int argc, char **argv, int first,
                           bool *help, FILE *errout)
{
    bool only_arguments = false;
    for (int i = first; i < argc; i++) {
        const char *arg = argv[i];
        enum hnp_err rc;
        if (only_arguments || arg[0] != '-' || arg[1] == '\0') {
            rc = p->argument ? p->argument(p->ctx, arg, errout)
                             : unexpected_argument(p, arg, errout);
            if (rc != HNP_OK)
                return rc;
            continue;
        }
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            *help = true;
            continue;
        }
        if (strcmp(arg, "--") == 0 && p->argument != NULL) {
            only_arguments = true;
            continue;
        }
        const struct hnp_opt *opt;
        const char *value = NULL; /* given in the same argument */
        size_t len;               /* of the name in arg */
        if (arg[1] == '-') {
            const char *eq = strchr(arg, '=');
            len = eq ? (size_t)(eq - arg) : strlen(arg);
            value = eq ? eq + 1 : NULL;
            opt = find_long(p, arg, len);
        } else {
            opt = find_short(p, arg[1]);
            len = opt ? 2 : strlen(arg);
            value = arg[2] != '\0' ? arg + 2 : NULL;
        }
        if (opt == NULL)
            return unknown_option(p, arg, len, errout);
        if (opt->arg == HNP_OPT_SWITCH) {
            if (value != NULL)
                return value_to_switch(p, arg, len, errout);
        } else if (value == NULL) {
            if (i + 1 >= argc)
                return missing_value(p, arg, errout);
            value = argv[++i];
        }
        rc = p->set(p->ctx, opt, value, errout);
        if (rc != HNP_OK)
            return rc;
    }
    return HNP_OK;
}
