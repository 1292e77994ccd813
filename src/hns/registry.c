/*
 * registry.c - the backend classes of this build and the spec that names
 * one (registry.h).
 */
#include "registry.h"

#include <string.h>

#include "hns_hcn.h"
#include "mock.h"

/* The mock over a JSON state file (mock.c), the Host Compute Network API (hns_hcn.h). */
static const struct hnp_hns_class *const classes[] = {&hnp_hns_mock_class, &hnp_hns_hcn_class};

const struct hnp_hns_class *hnp_hns_class_find(const char *name)
{
    for (size_t i = 0; name != NULL && i < sizeof(classes) / sizeof(classes[0]); i++) {
        if (strcmp(classes[i]->name, name) == 0)
            return classes[i];
    }
    return NULL;
}

enum hnp_err hnp_hns_parse_spec(const char *spec, const struct hnp_hns_class **cls,
                                const char **arg, struct hnp_error *err)
{
    if (spec == NULL || spec[0] == '\0')
        return hnp_error_set(err, HNP_ERR_USAGE, "--hns",
                             "no HNS backend given: use \"mock:PATH\" or \"hcn\"");
    const char *colon = strchr(spec, ':');
    size_t name_len = colon ? (size_t)(colon - spec) : strlen(spec);
    for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++) {
        const struct hnp_hns_class *c = classes[i];
        if (strlen(c->name) != name_len || strncmp(c->name, spec, name_len) != 0 ||
            c->takes_arg != (colon != NULL))
            continue;
        if (c->takes_arg && colon[1] == '\0')
            return hnp_error_set(err, HNP_ERR_USAGE, "--hns",
                                 "\"%s:\" needs the path of the state file, as in "
                                 "\"mock:/tmp/hns.json\"",
                                 c->name);
        *cls = c;
        *arg = c->takes_arg ? colon + 1 : NULL;
        return HNP_OK;
    }
    return hnp_error_set(err, HNP_ERR_USAGE, "--hns",
                         "unknown HNS backend \"%s\": use \"mock:PATH\" or \"hcn\"", spec);
}

enum hnp_err hnp_hns_open(const char *spec, struct hnp_hns **out, struct hnp_error *err)
{
    const struct hnp_hns_class *cls = NULL;
    const char *arg = NULL;
    enum hnp_err rc = hnp_hns_parse_spec(spec, &cls, &arg, err);
    if (rc != HNP_OK || cls == NULL)
        return rc != HNP_OK ? rc : HNP_ERR_USAGE;
    return cls->open(arg, out, err);
}
