/*
 * options.h - the one command-line option parser of every hnsnetpol
 * command (validate, translate, explain, run, service, hns-mock).
 *
 * A command describes its options in a table of struct hnp_opt rows and
 * hands each value to one handler of its own, which checks it and stores
 * it; the parser does the rest in one place: the forms "--name value",
 * "--name=value", "-n value" and "-nvalue", switches, -h / --help, "--"
 * (end of options, for commands that take arguments), arguments that are
 * not options, and the messages about an unknown option, a missing value
 * and so on.
 *
 * An alias is one more row with the same id ({"--node-name", 0,
 * HNP_OPT_VALUE, OPT_NODE} next to {"--node", ...}): the handler sees the
 * id and cannot tell them apart. Every unknown option is reported by one
 * function (options.c: unknown_option), where a suggestion from the table
 * can be added.
 *
 * The messages keep the wording each command has always had (struct
 * hnp_opt_parser's `messages`), since scripts and tests read them.
 */
#ifndef HNP_OPTIONS_H
#define HNP_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "hnsnetpol/error.h"

/* Whether an option takes a value. */
enum hnp_opt_arg {
    HNP_OPT_SWITCH, /* "--all-nodes": no value; "--all-nodes=x" is an error */
    HNP_OPT_VALUE,  /* "--node NAME", "--node=NAME"; with a short form "-o json", "-ojson" */
};

/* One row of a command's option table. */
struct hnp_opt {
    const char *name;     /* the long form with its dashes: "--output" */
    char short_name;      /* 'o' for "-o"; '\0' for none */
    enum hnp_opt_arg arg; /* switch or value */
    int id;               /* the command's number for it, 0..63; rows with one id are aliases */
};

/* The bit of option id in struct hnp_opt_parser's `allowed`. */
#define HNP_OPT_BIT(id) ((uint64_t)1 << (id))
/* Every option of the table. */
#define HNP_OPT_ALL (~(uint64_t)0)

/*
 * Which wording the parser's own messages have ("P" is the parser's prog,
 * ARG the argument as given, NAME the option's name without "=value"):
 *
 *                    OFFLINE (validate,      RUN (run, service)            MOCK (hns-mock)
 *                    translate, explain)
 *   unknown option   P: unknown option 'ARG'  P: unknown option "NAME"      P: ARG: unknown option
 *                    (see P --help)           (see P --help)                for COMMAND
 *   no value         P: option 'ARG' needs    P: NAME needs a value         P: ARG needs a value
 *                    a value                  (see P --help)
 *   value to switch  as unknown option        P: NAME takes no value        as unknown option
 *   argument, none   -                        P: unexpected argument "ARG"  as unknown option
 *   taken                                     (see P --help)
 */
enum hnp_opt_messages { HNP_OPT_MESSAGES_OFFLINE, HNP_OPT_MESSAGES_RUN, HNP_OPT_MESSAGES_MOCK };

/*
 * Store one option: opt is the row that matched (borrowed from the table),
 * value the text given (borrowed from argv; NULL for a switch). Returns
 * HNP_OK, or an error after printing to errout why (HNP_ERR_USAGE for a bad
 * value, HNP_ERR_NOMEM); the parser then stops and returns that error.
 */
typedef enum hnp_err (*hnp_opt_set_fn)(void *ctx, const struct hnp_opt *opt, const char *value,
                                       FILE *errout);

/* Take one argument that is not an option (a file name); errors as for hnp_opt_set_fn. */
typedef enum hnp_err (*hnp_opt_arg_fn)(void *ctx, const char *arg, FILE *errout);

/* A command's options and where they go. */
struct hnp_opt_parser {
    const char *prog;    /* starts every message: "hnsnetpol translate", "hns-mock" */
    const char *command; /* HNP_OPT_MESSAGES_MOCK: the command named; else unused */
    enum hnp_opt_messages messages;
    const struct hnp_opt *opts;
    size_t n_opts;
    uint64_t allowed;        /* HNP_OPT_BIT(id) of each option the command takes, or HNP_OPT_ALL */
    hnp_opt_set_fn set;      /* every option's value; may be NULL when n_opts is 0 */
    hnp_opt_arg_fn argument; /* NULL: the command takes no arguments; else each one, and "--"
                                ends the options ("-" alone is an argument) */
    void *ctx;               /* passed to set and argument */
};

/*
 * Parse argv[first..argc) as p says, in order, calling p->set and
 * p->argument. "-h" and "--help" anywhere set *help (which is otherwise
 * left as it is) and are not passed on. Returns HNP_OK; HNP_ERR_USAGE after
 * printing the problem to errout (an unknown option, a missing value, ...);
 * or the first error of a handler. What the handlers stored before an error
 * stays; the caller discards it.
 */
enum hnp_err hnp_opt_parse(const struct hnp_opt_parser *p, int argc, char **argv, int first,
                           bool *help, FILE *errout);

#endif /* HNP_OPTIONS_H */
