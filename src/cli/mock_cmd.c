/*
 * mock_cmd.c - `hnsnetpol hns-mock STATE COMMAND ...`: look at and edit the
 * mock HNS state file (docs/mock-hns.md) while an agent runs against it.
 *
 * Tests and the demo use it to add and remove endpoints, read the ACLs the
 * agent wrote, count its HNS calls, inject faults and write drift. Every
 * command is one locked, atomic transaction (hnp_hns_mock_edit), so it never
 * loses an update made concurrently by the agent or another command.
 */
#include "mock_cmd.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hnsnetpol/acl.h"
#include "exit_code.h"
#include "mock.h"
#include "options.h"
#include "hnsnetpol/rangeset.h"

#define MAX_IPS HNP_HNS_MAX_IPS
#define MAX_POLICIES 256

/* ---- help texts ---------------------------------------------------------- */

static const char usage_main[] =
    "Usage: hnsnetpol hns-mock STATE COMMAND [options]\n"
    "\n"
    "Looks at and edits the state file of the mock HNS backend, the one an agent\n"
    "started with `hnsnetpol run --hns mock:STATE` reads and writes. The file holds\n"
    "HCN endpoint documents as HNS returns them, counts of the agent's HNS calls\n"
    "and the faults to inject (docs/mock-hns.md). Every command takes the lock\n"
    "STATE.lock and replaces STATE atomically, so it is safe while the agent runs.\n"
    "A missing STATE is an empty one.\n"
    "\n"
    "Commands:\n"
    "  add-endpoint --id GUID --ip IP[/N] [--name NAME] [--state N] [--policy JSON]...\n"
    "                        add an attached endpoint (the agent sees it at its next\n"
    "                        endpoint poll); --policy adds a policy that is not ours,\n"
    "                        such as an OutBoundNAT, and may be repeated\n"
    "  remove-endpoint --id GUID\n"
    "                        remove an endpoint (a pod deleted)\n"
    "  show                  print the whole state as JSON\n"
    "  acls --id GUID        print our ACLs (Id \"hnp-...\") of one endpoint as JSON\n"
    "  calls                 print the HNS call counts, one \"OPERATION COUNT\" per line\n"
    "  reset-calls           set every call count to 0\n"
    "  fault --operation OP --fail N --code CODE\n"
    "                        make the next N calls of OP (list, query, modify) fail\n"
    "                        with HCN error CODE (0x803B0020 or 2151350304)\n"
    "  fault [--operation OP] --latency-ms N\n"
    "                        make every call of OP (default: every operation) take N\n"
    "                        milliseconds longer\n"
    "  fault --vanish GUID   make the endpoint disappear just before the next modify\n"
    "                        of it, which then fails with \"endpoint not found\"\n"
    "  clear-faults          remove every fault\n"
    "  set-policies --id GUID --json JSON\n"
    "                        overwrite the endpoint's Policies with the JSON array,\n"
    "                        unchecked (simulates drift: someone else edited the ACLs)\n"
    "\n"
    "IDs are compared ignoring case, as HNS does. `COMMAND --help` shows one command.\n"
    "\n"
    "Exit codes: 0 done, 1 no such endpoint (add-endpoint: it already exists),\n"
    "2 bad usage, or a state file that cannot be read, parsed or written.\n"
    "\n"
    "Example:\n"
    "  hnsnetpol hns-mock /tmp/hns.json add-endpoint --id 8a3c0d0e-0000-4000-8000-000000000001 \\\n"
    "      --ip 10.240.0.5/24 --name server \\\n"
    "      --policy '{\"Type\":\"OutBoundNAT\",\"Settings\":{\"Exceptions\":[\"10.0.0.0/8\"]}}'\n"
    "  hnsnetpol run --node-name n1 --kubeconfig kc --hns mock:/tmp/hns.json &\n"
    "  hnsnetpol hns-mock /tmp/hns.json acls --id 8a3c0d0e-0000-4000-8000-000000000001\n"
    "  hnsnetpol hns-mock /tmp/hns.json fault --operation modify --fail 2 --code 0x803B0020\n"
    "  hnsnetpol hns-mock /tmp/hns.json calls\n";

/* ---- options ------------------------------------------------------------- */

enum opt_id {
    OPT_ID,
    OPT_IP,
    OPT_NAME,
    OPT_STATE,
    OPT_POLICY,
    OPT_OPERATION,
    OPT_FAIL,
    OPT_CODE,
    OPT_LATENCY,
    OPT_VANISH,
    OPT_JSON,
};

/* The bit of an option in `given`, `allowed` and `required`. */
#define BIT(id) HNP_OPT_BIT(id)

struct options {
    uint64_t given; /* BIT() of each option given */
    const char *id;
    const char *name;
    long state;
    const char *ips[MAX_IPS];
    unsigned prefixes[MAX_IPS];
    size_t n_ips;
    json_t *policies; /* new: --policy objects */
    const char *operation;
    long fail;
    uint32_t code;
    long latency_ms;
    const char *vanish;
    json_t *json; /* new: --json */
    bool help;
};

/* Every option of the commands; struct command says which one takes which. */
static const struct hnp_opt mock_opts[] = {
    {"--id", 0, HNP_OPT_VALUE, OPT_ID},
    {"--ip", 0, HNP_OPT_VALUE, OPT_IP},
    {"--name", 0, HNP_OPT_VALUE, OPT_NAME},
    {"--state", 0, HNP_OPT_VALUE, OPT_STATE},
    {"--policy", 0, HNP_OPT_VALUE, OPT_POLICY},
    {"--operation", 0, HNP_OPT_VALUE, OPT_OPERATION},
    {"--fail", 0, HNP_OPT_VALUE, OPT_FAIL},
    {"--code", 0, HNP_OPT_VALUE, OPT_CODE},
    {"--latency-ms", 0, HNP_OPT_VALUE, OPT_LATENCY},
    {"--vanish", 0, HNP_OPT_VALUE, OPT_VANISH},
    {"--json", 0, HNP_OPT_VALUE, OPT_JSON},
};

static bool parse_long(const char *text, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (end == text || *end != '\0' || errno != 0 || v < min || v > max)
        return false;
    *out = v;
    return true;
}

/* An HCN code: decimal, 0x hex, or a negative 32-bit HRESULT. */
static bool parse_code(const char *text, uint32_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 0);
    if (end == text || *end != '\0' || errno != 0 || v < INT32_MIN || v > (long long)UINT32_MAX)
        return false;
    *out = (uint32_t)(v < 0 ? v + 0x100000000LL : v);
    return true;
}

/* "a.b.c.d" or "a.b.c.d/N"; the prefix length defaults to 24. */
static bool parse_ip(const char *text, char *addr, size_t addr_len, unsigned *prefix)
{
    const char *slash = strchr(text, '/');
    size_t len = slash ? (size_t)(slash - text) : strlen(text);
    long n = 24;
    if (len >= addr_len || (slash != NULL && !parse_long(slash + 1, 0, 32, &n)))
        return false;
    memcpy(addr, text, len);
    addr[len] = '\0';
    uint32_t value;
    if (!hnp_ipv4_parse(addr, &value))
        return false;
    *prefix = (unsigned)n;
    return true;
}

/* Store one option's value (hnp_opt_set_fn); HNP_ERR_USAGE (message printed) when it is bad. */
static enum hnp_err set_option(void *ctx, const struct hnp_opt *opt, const char *value,
                               FILE *errout)
{
    struct options *o = ctx;
    json_error_t jerr;
    json_t *parsed;
    enum opt_id id = (enum opt_id)opt->id;
    if (id != OPT_IP && id != OPT_POLICY && (o->given & BIT(id))) {
        fprintf(errout, "hns-mock: %s given twice\n", opt->name);
        return HNP_ERR_USAGE;
    }
    o->given |= BIT(id);
    switch (id) {
    case OPT_ID:
        o->id = value;
        break;
    case OPT_NAME:
        o->name = value;
        break;
    case OPT_VANISH:
        o->vanish = value;
        break;
    case OPT_OPERATION:
        if (strcmp(value, "list") != 0 && strcmp(value, "query") != 0 &&
            strcmp(value, "modify") != 0) {
            fprintf(errout, "hns-mock: --operation \"%s\": use list, query or modify\n", value);
            return HNP_ERR_USAGE;
        }
        o->operation = value;
        break;
    case OPT_STATE:
        if (!parse_long(value, 1, 6, &o->state)) {
            fprintf(errout,
                    "hns-mock: --state \"%s\": use 1..6 (2 Attached and 3 AttachedSharing are "
                    "local endpoints)\n",
                    value);
            return HNP_ERR_USAGE;
        }
        break;
    case OPT_FAIL:
        if (!parse_long(value, 1, 1000000, &o->fail)) {
            fprintf(errout, "hns-mock: --fail \"%s\": give a number of calls >= 1\n", value);
            return HNP_ERR_USAGE;
        }
        break;
    case OPT_LATENCY:
        if (!parse_long(value, 0, 600000, &o->latency_ms)) {
            fprintf(errout, "hns-mock: --latency-ms \"%s\": give 0..600000 milliseconds\n", value);
            return HNP_ERR_USAGE;
        }
        break;
    case OPT_CODE:
        if (!parse_code(value, &o->code)) {
            fprintf(errout,
                    "hns-mock: --code \"%s\": give an HCN error code such as 0x803B0020 or "
                    "2151350304\n",
                    value);
            return HNP_ERR_USAGE;
        }
        break;
    case OPT_IP: {
        char addr[16];
        if (o->n_ips >= MAX_IPS || !parse_ip(value, addr, sizeof(addr), &o->prefixes[o->n_ips])) {
            fprintf(errout,
                    "hns-mock: --ip \"%s\": give an IPv4 address, optionally /N (at most "
                    "%d addresses)\n",
                    value, MAX_IPS);
            return HNP_ERR_USAGE;
        }
        o->ips[o->n_ips++] = value;
        break;
    }
    case OPT_POLICY:
        parsed = json_loads(value, 0, &jerr);
        if (!json_is_object(parsed) || !json_is_string(json_object_get(parsed, "Type"))) {
            fprintf(errout, "hns-mock: --policy: %s\n",
                    parsed == NULL
                        ? jerr.text
                        : "give a policy object {\"Type\": \"...\", \"Settings\": {...}}");
            json_decref(parsed);
            return HNP_ERR_USAGE;
        }
        if (json_array_size(o->policies) >= MAX_POLICIES ||
            json_array_append_new(o->policies, parsed) != 0) {
            fprintf(errout, "hns-mock: too many --policy options\n");
            return HNP_ERR_USAGE;
        }
        break;
    case OPT_JSON:
        parsed = json_loads(value, 0, &jerr);
        if (!json_is_array(parsed)) {
            fprintf(errout, "hns-mock: --json: %s\n",
                    parsed == NULL ? jerr.text : "give a JSON array of policy objects");
            json_decref(parsed);
            return HNP_ERR_USAGE;
        }
        o->json = parsed;
        break;
    }
    return HNP_OK;
}

/* ---- the commands -------------------------------------------------------- */

struct run {
    const struct options *o;
    json_t *result; /* new: what to print (show, acls, calls) */
    bool conflict;  /* add-endpoint: the endpoint exists */
};

static enum hnp_err endpoint_not_found(struct hnp_error *err, const char *id)
{
    return hnp_error_set(err, HNP_ERR_NOT_FOUND, "--id", "no endpoint with ID %s", id);
}

static enum hnp_err nomem(struct hnp_error *err)
{
    return hnp_error_set(err, HNP_ERR_NOMEM, "", "out of memory");
}

/* An endpoint's Policies array, the key in any case as HNS varies it; NULL when absent. */
static json_t *policies_of(json_t *ep)
{
    const char *key;
    json_t *value;
    json_object_foreach(ep, key, value)
    {
        static const char name[] = "policies";
        size_t i = 0;
        while (i < sizeof(name) && key[i] != '\0' &&
               (key[i] >= 'A' && key[i] <= 'Z' ? key[i] + 'a' - 'A' : key[i]) == name[i])
            i++;
        if (i == sizeof(name) - 1 && key[i] == '\0')
            return value;
    }
    return NULL;
}

static enum hnp_err cmd_add(json_t *state, bool *write, void *ctx, struct hnp_error *err)
{
    struct run *run = ctx;
    const struct options *o = run->o;
    if (hnp_hns_mock_find(state, o->id, NULL) != NULL) {
        run->conflict = true;
        return hnp_error_set(err, HNP_ERR_INVALID, "--id", "an endpoint with ID %s already exists",
                             o->id);
    }
    json_t *ipc = json_array();
    for (size_t i = 0; ipc != NULL && i < o->n_ips; i++) {
        char addr[16] = "";
        unsigned prefix = 24;
        parse_ip(o->ips[i], addr, sizeof(addr), &prefix); /* checked when parsed */
        if (json_array_append_new(ipc, json_pack("{s:s, s:i}", "IpAddress", addr, "PrefixLength",
                                                 (int)prefix)) != 0) {
            json_decref(ipc);
            ipc = NULL;
        }
    }
    json_t *ep = json_pack("{s:s}", "ID", o->id);
    bool ok = ipc != NULL && ep != NULL;
    if (ok && o->name != NULL)
        ok = json_object_set_new(ep, "Name", json_string(o->name)) == 0;
    ok = ok && json_object_set_new(ep, "State",
                                   json_integer((o->given & BIT(OPT_STATE)) ? o->state : 3)) == 0;
    ok = ok && json_object_set(ep, "IpConfigurations", ipc) == 0;
    ok = ok && json_object_set_new(ep, "Policies", json_deep_copy(o->policies)) == 0;
    ok = ok && json_array_append(json_object_get(state, "endpoints"), ep) == 0;
    json_decref(ipc);
    json_decref(ep);
    if (!ok)
        return nomem(err);
    *write = true;
    return HNP_OK;
}

static enum hnp_err cmd_remove(json_t *state, bool *write, void *ctx, struct hnp_error *err)
{
    const struct run *run = ctx;
    size_t index;
    if (hnp_hns_mock_find(state, run->o->id, &index) == NULL)
        return endpoint_not_found(err, run->o->id);
    json_array_remove(json_object_get(state, "endpoints"), index);
    *write = true;
    return HNP_OK;
}

static enum hnp_err cmd_show(json_t *state, bool *write, void *ctx, struct hnp_error *err)
{
    struct run *run = ctx;
    run->result = json_incref(state);
    return HNP_OK;
}

static enum hnp_err cmd_acls(json_t *state, bool *write, void *ctx, struct hnp_error *err)
{
    struct run *run = ctx;
    json_t *ep = hnp_hns_mock_find(state, run->o->id, NULL);
    if (ep == NULL)
        return endpoint_not_found(err, run->o->id);
    json_t *policies = policies_of(ep);
    struct hnp_acl_list ours;
    hnp_acl_list_init(&ours);
    json_t *foreign = hnp_hns_split_policies(policies, &ours);
    json_t *out = json_array();
    bool ok = foreign != NULL && out != NULL;
    for (size_t i = 0; ok && i < ours.count; i++)
        ok = json_array_append_new(out, hnp_acl_to_json(&ours.items[i])) == 0;
    json_decref(foreign);
    hnp_acl_list_free(&ours);
    if (!ok) {
        json_decref(out);
        return nomem(err);
    }
    run->result = out;
    return HNP_OK;
}

static enum hnp_err cmd_calls(json_t *state, bool *write, void *ctx, struct hnp_error *err)
{
    struct run *run = ctx;
    run->result = json_incref(json_object_get(state, "calls"));
    return HNP_OK;
}

static enum hnp_err cmd_reset_calls(json_t *state, bool *write, void *ctx, struct hnp_error *err)
{
    json_t *calls = json_object_get(state, "calls");
    const char *key;
    json_t *value;
    json_object_foreach(calls, key, value)
    {
        if (json_integer_set(value, 0) != 0)
            return nomem(err);
    }
    *write = true;
    return HNP_OK;
}

/* faults.<key>, created as make() when absent; NULL on NOMEM. */
static json_t *fault_member(json_t *state, const char *key, json_t *(*make)(void))
{
    json_t *faults = json_object_get(state, "faults");
    json_t *v = json_object_get(faults, key);
    if (v != NULL)
        return v;
    v = make();
    if (json_object_set_new(faults, key, v) != 0)
        return NULL;
    return v;
}

static enum hnp_err cmd_fault(json_t *state, bool *write, void *ctx, struct hnp_error *err)
{
    const struct run *run = ctx;
    const struct options *o = run->o;
    if (o->given & BIT(OPT_FAIL)) {
        json_t *fail = fault_member(state, "fail", json_array);
        if (fail == NULL ||
            json_array_append_new(fail,
                                  json_pack("{s:s, s:I, s:I}", "operation", o->operation, "count",
                                            (json_int_t)o->fail, "code", (json_int_t)o->code)) != 0)
            return nomem(err);
    }
    if (o->given & BIT(OPT_LATENCY)) {
        json_t *latency = fault_member(state, "latency_ms", json_object);
        static const char *const ops[] = {"list", "query", "modify"};
        for (size_t i = 0; i < 3; i++) {
            if (o->operation != NULL && strcmp(o->operation, ops[i]) != 0)
                continue;
            if (latency == NULL ||
                json_object_set_new(latency, ops[i], json_integer(o->latency_ms)) != 0)
                return nomem(err);
        }
    }
    if (o->given & BIT(OPT_VANISH)) {
        json_t *vanish = fault_member(state, "vanish", json_array);
        if (vanish == NULL || json_array_append_new(vanish, json_string(o->vanish)) != 0)
            return nomem(err);
    }
    *write = true;
    return HNP_OK;
}

static enum hnp_err cmd_clear_faults(json_t *state, bool *write, void *ctx, struct hnp_error *err)
{
    if (json_object_set_new(state, "faults", json_object()) != 0)
        return nomem(err);
    *write = true;
    return HNP_OK;
}

static enum hnp_err cmd_set_policies(json_t *state, bool *write, void *ctx, struct hnp_error *err)
{
    const struct run *run = ctx;
    json_t *ep = hnp_hns_mock_find(state, run->o->id, NULL);
    if (ep == NULL)
        return endpoint_not_found(err, run->o->id);
    json_t *policies = policies_of(ep); /* any spelling of the key */
    if (policies == NULL) {
        if (json_object_set_new(ep, "Policies", json_deep_copy(run->o->json)) != 0)
            return nomem(err);
    } else if (json_array_clear(policies) != 0 || json_array_extend(policies, run->o->json) != 0) {
        return nomem(err);
    }
    *write = true;
    return HNP_OK;
}

struct command {
    const char *name;
    hnp_hns_mock_edit_fn fn;
    uint64_t allowed;  /* BIT() of each option it takes */
    uint64_t required; /* BIT() of each option it needs */
    const char *usage;
};

static const struct command commands[] = {
    {"add-endpoint", cmd_add,
     BIT(OPT_ID) | BIT(OPT_IP) | BIT(OPT_NAME) | BIT(OPT_STATE) | BIT(OPT_POLICY),
     BIT(OPT_ID) | BIT(OPT_IP),
     "Usage: hnsnetpol hns-mock STATE add-endpoint --id GUID --ip IP[/N] [--ip ...] [--name NAME]\n"
     "                                [--state N] [--policy JSON]...\n"
     "\n"
     "Adds an endpoint as HNS reports it: {\"ID\", \"Name\", \"State\", \"IpConfigurations\":\n"
     "[{\"IpAddress\", \"PrefixLength\"}], \"Policies\"}. The agent finds it at its next\n"
     "endpoint poll and puts the ACLs of the pod with that IP on it.\n"
     "\n"
     "  --id GUID      the endpoint ID (compared ignoring case)\n"
     "  --ip IP[/N]    an IPv4 address, prefix length N (default 24); up to 4\n"
     "  --name NAME    the endpoint name (HNS uses the container ID)\n"
     "  --state N      HCN state: 1 Created, 2 Attached, 3 AttachedSharing (default),\n"
     "                 4 Detached, 5 Degraded, 6 Destroyed; only 2 and 3 are listed\n"
     "                 as local endpoints\n"
     "  --policy JSON  a policy already on the endpoint, such as\n"
     "                 "
     "'{\"Type\":\"OutBoundNAT\",\"Settings\":{\"Exceptions\":[\"10.0.0.0/8\"]}}';\n"
     "                 repeatable; stored as given\n"
     "\n"
     "Exit codes: 0 added, 1 an endpoint with this ID exists, 2 bad usage or state.\n"},
    {"remove-endpoint", cmd_remove, BIT(OPT_ID), BIT(OPT_ID),
     "Usage: hnsnetpol hns-mock STATE remove-endpoint --id GUID\n"
     "\n"
     "Removes the endpoint, as when its pod is deleted.\n"
     "Exit codes: 0 removed, 1 no such endpoint, 2 bad usage or state.\n"},
    {"show", cmd_show, 0, 0,
     "Usage: hnsnetpol hns-mock STATE show\n"
     "\n"
     "Prints the whole state (endpoints, calls, faults) as indented JSON; a missing\n"
     "file shows as the empty state.\n"},
    {"acls", cmd_acls, BIT(OPT_ID), BIT(OPT_ID),
     "Usage: hnsnetpol hns-mock STATE acls --id GUID\n"
     "\n"
     "Prints the endpoint's ACLs that hnsnetpol owns (Settings.Id starting \"hnp-\") as a\n"
     "JSON array, in the endpoint's order, each in the canonical form hnsnetpol sends.\n"
     "Other policies (OutBoundNAT, other agents' ACLs) and ACLs of ours that HNS would\n"
     "refuse are left out; `show` prints everything as stored.\n"
     "Exit codes: 0 printed, 1 no such endpoint, 2 bad usage or state.\n"},
    {"calls", cmd_calls, 0, 0,
     "Usage: hnsnetpol hns-mock STATE calls\n"
     "\n"
     "Prints how many HNS calls the backend has served, one \"OPERATION COUNT\" line per\n"
     "operation: list (enumerate local endpoints), query (read one endpoint), modify\n"
     "(HcnModifyEndpoint: one per Update the agent sends). Failed calls count too.\n"},
    {"reset-calls", cmd_reset_calls, 0, 0,
     "Usage: hnsnetpol hns-mock STATE reset-calls\n"
     "\n"
     "Sets every call count to 0, for instance before restarting the agent to check\n"
     "that a restart with nothing changed sends no Update.\n"},
    {"fault", cmd_fault,
     BIT(OPT_OPERATION) | BIT(OPT_FAIL) | BIT(OPT_CODE) | BIT(OPT_LATENCY) | BIT(OPT_VANISH), 0,
     "Usage: hnsnetpol hns-mock STATE fault --operation OP --fail N --code CODE\n"
     "       hnsnetpol hns-mock STATE fault [--operation OP] --latency-ms N\n"
     "       hnsnetpol hns-mock STATE fault --vanish GUID\n"
     "\n"
     "Injects a fault; the forms can be combined in one command.\n"
     "  --fail N --code CODE  the next N calls of OP fail with HCN error CODE, given\n"
     "                        in hex (0x803B0020 manager stopped) or decimal; each\n"
     "                        failed call counts down, the fault is gone at 0.\n"
     "                        0x803B0002 reads as \"endpoint not found\".\n"
     "  --latency-ms N        every call of OP (default: list, query and modify) takes\n"
     "                        N ms longer, until changed or cleared (0 turns it off)\n"
     "  --vanish GUID         the endpoint disappears just before the next modify of\n"
     "                        it, which fails with 0x803B0002 endpoint not found\n"
     "  --operation OP        list, query or modify\n"
     "\n"
     "clear-faults removes every fault.\n"},
    {"clear-faults", cmd_clear_faults, 0, 0,
     "Usage: hnsnetpol hns-mock STATE clear-faults\n"
     "\n"
     "Removes every injected fault (pending failures, latencies, vanishing endpoints).\n"},
    {"set-policies", cmd_set_policies, BIT(OPT_ID) | BIT(OPT_JSON), BIT(OPT_ID) | BIT(OPT_JSON),
     "Usage: hnsnetpol hns-mock STATE set-policies --id GUID --json JSON\n"
     "\n"
     "Overwrites the endpoint's Policies with the JSON array as given, without any\n"
     "check: this is how a test writes drift (ACLs changed or deleted by someone\n"
     "else), which the agent repairs at its next resync. `--json '[]'` deletes every\n"
     "policy of the endpoint.\n"
     "Exit codes: 0 written, 1 no such endpoint, 2 bad usage or state.\n"},
};

/* Options a command needs but was not given, and fault's combinations. */
static bool check_required(const struct command *cmd, const struct options *o, FILE *errout)
{
    for (size_t k = 0; k < sizeof(mock_opts) / sizeof(mock_opts[0]); k++) {
        uint64_t bit = BIT(mock_opts[k].id);
        if ((cmd->required & bit) && !(o->given & bit)) {
            fprintf(errout, "hns-mock: %s needs %s (see `hns-mock STATE %s --help`)\n", cmd->name,
                    mock_opts[k].name, cmd->name);
            return false;
        }
    }
    if (cmd->fn != cmd_fault)
        return true;
    if (!(o->given & (BIT(OPT_FAIL) | BIT(OPT_LATENCY) | BIT(OPT_VANISH)))) {
        fprintf(errout, "hns-mock: fault needs --fail, --latency-ms or --vanish\n");
        return false;
    }
    if ((o->given & BIT(OPT_FAIL)) &&
        (!(o->given & BIT(OPT_CODE)) || !(o->given & BIT(OPT_OPERATION)))) {
        fprintf(errout, "hns-mock: fault --fail needs --operation and --code\n");
        return false;
    }
    if ((o->given & BIT(OPT_CODE)) && !(o->given & BIT(OPT_FAIL))) {
        fprintf(errout, "hns-mock: fault --code goes with --fail N\n");
        return false;
    }
    if ((o->given & BIT(OPT_OPERATION)) && !(o->given & (BIT(OPT_FAIL) | BIT(OPT_LATENCY)))) {
        fprintf(errout, "hns-mock: fault --operation goes with --fail or --latency-ms\n");
        return false;
    }
    return true;
}

/* Print what a reading command produced. */
static void print_result(const struct command *cmd, const json_t *result, FILE *out)
{
    if (cmd->fn == cmd_calls) {
        static const char *const ops[] = {"list", "query", "modify"};
        for (size_t i = 0; i < 3; i++)
            fprintf(out, "%s %lld\n", ops[i],
                    (long long)json_integer_value(json_object_get(result, ops[i])));
        const char *key;
        json_t *value;
        json_object_foreach((json_t *)result, key, value)
        {
            if (strcmp(key, "list") != 0 && strcmp(key, "query") != 0 && strcmp(key, "modify") != 0)
                fprintf(out, "%s %lld\n", key, (long long)json_integer_value(value));
        }
        return;
    }
    char *text = json_dumps(result, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (text != NULL) {
        fprintf(out, "%s\n", text);
        free(text);
    }
}

int hnp_cli_mock_main(int argc, char **argv, FILE *out, FILE *errout)
{
    if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
                      strcmp(argv[1], "help") == 0)) {
        fputs(usage_main, out);
        return HNP_EXIT_OK;
    }
    if (argc < 3) {
        fprintf(errout, "hns-mock: %s\n\n%s",
                argc < 2 ? "missing STATE and COMMAND" : "missing COMMAND", usage_main);
        return HNP_EXIT_USAGE;
    }
    const char *path = argv[1];
    const struct command *cmd = NULL;
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(argv[2], commands[i].name) == 0)
            cmd = &commands[i];
    }
    if (cmd == NULL) {
        fprintf(errout, "hns-mock: unknown command \"%s\" (see `hnsnetpol hns-mock --help`)\n",
                argv[2]);
        return HNP_EXIT_USAGE;
    }

    struct options o;
    memset(&o, 0, sizeof(o));
    o.policies = json_array();
    if (o.policies == NULL) {
        fprintf(errout, "hns-mock: out of memory\n");
        return HNP_EXIT_USAGE;
    }
    int code = HNP_EXIT_USAGE;
    const struct hnp_opt_parser parser = {
        .prog = "hns-mock",
        .command = cmd->name,
        .messages = HNP_OPT_MESSAGES_MOCK,
        .opts = mock_opts,
        .n_opts = sizeof(mock_opts) / sizeof(mock_opts[0]),
        .allowed = cmd->allowed,
        .set = set_option,
        .ctx = &o,
    };
    if (hnp_opt_parse(&parser, argc, argv, 3, &o.help, errout) != HNP_OK)
        goto done;
    if (o.help) {
        fputs(cmd->usage, out);
        code = HNP_EXIT_OK;
        goto done;
    }
    if (path[0] == '\0') {
        fprintf(errout, "hns-mock: STATE is an empty path\n");
        goto done;
    }
    if (!check_required(cmd, &o, errout))
        goto done;

    struct run run = {.o = &o};
    struct hnp_error err = {0};
    enum hnp_err rc = hnp_hns_mock_edit(path, cmd->fn, &run, &err);
    if (rc == HNP_OK) {
        if (run.result != NULL)
            print_result(cmd, run.result, out);
        code = HNP_EXIT_OK;
    } else {
        fprintf(errout, "hns-mock: %s\n", err.message[0] ? err.message : hnp_strerror(rc));
        code = rc == HNP_ERR_NOT_FOUND || run.conflict ? HNP_EXIT_FAILURE : HNP_EXIT_USAGE;
    }
    json_decref(run.result);

done:
    json_decref(o.policies);
    json_decref(o.json);
    return code;
}
