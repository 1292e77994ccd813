/*
 * registry.h - the HNS backend classes this build has, and the
 * "NAME[:ARG]" spec (--hns, the config file's hns:) that names one.
 *
 * The registry is the only module that knows every backend; the backends
 * only know the interface (hns.h), and the agent is given a class and its
 * argument.
 */
#ifndef HNP_REGISTRY_H
#define HNP_REGISTRY_H

#include "hns.h"
#include "hnsnetpol/error.h"

/* The class called name (borrowed, static), or NULL when there is none. */
const struct hnp_hns_class *hnp_hns_class_find(const char *name);

/*
 * Split a backend spec as --hns takes it: "mock:PATH" gives the mock class
 * and *arg pointing at PATH inside spec (borrowed from spec); "hcn" the hcn
 * class and *arg NULL. HNP_ERR_USAGE (err says what to use, field "--hns")
 * for no spec, an unknown one or "mock:" without a path; outputs untouched.
 */
enum hnp_err hnp_hns_parse_spec(const char *spec, const struct hnp_hns_class **cls,
                                const char **arg, struct hnp_error *err);

/*
 * Open the backend named by spec: hnp_hns_parse_spec() then the class's
 * open (the mock's state file is created empty when missing). *out is new;
 * free with hnp_hns_close(). HNP_ERR_USAGE for an unusable spec,
 * HNP_ERR_UNSUPPORTED for "hcn" off Windows.
 */
enum hnp_err hnp_hns_open(const char *spec, struct hnp_hns **out, struct hnp_error *err);

#endif /* HNP_REGISTRY_H */
