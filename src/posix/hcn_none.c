/*
 * hcn_none.c - the "hcn" backend class of builds without Windows: the Host
 * Compute Network API exists only there (win/hcn.c replaces this file in
 * Windows builds), so opening it says what to use instead.
 */
#include "hns_hcn.h"

enum hnp_err hnp_hns_hcn_open_with(const struct hnp_hns_hcn_options *options, struct hnp_hns **out,
                                   struct hnp_error *err)
{
    (void)options;
    (void)out;
    return hnp_error_set(err, HNP_ERR_UNSUPPORTED, "--hns",
                         "the \"hcn\" backend (computenetwork.dll) exists only in the Windows "
                         "build; on this platform use \"mock:PATH\"");
}

enum hnp_err hnp_hns_hcn_open(struct hnp_hns **out, struct hnp_error *err)
{
    return hnp_hns_hcn_open_with(NULL, out, err);
}

static enum hnp_err hcn_class_open(const char *arg, struct hnp_hns **out, struct hnp_error *err)
{
    (void)arg;
    return hnp_hns_hcn_open(out, err);
}

const struct hnp_hns_class hnp_hns_hcn_class = {
    .name = "hcn",
    .takes_arg = false,
    .open = hcn_class_open,
    .help = "hcn        the Host Compute Network API (Windows only)",
};
