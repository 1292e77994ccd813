/*
 * hns_hcn.h - the real HNS backend (Windows only, win/hcn.c): the Host
 * Compute Network API of computenetwork.dll, loaded at run time.
 *
 * hnp_hns_open("hcn") calls hnp_hns_hcn_open() in Windows builds. The
 * backend behind it implements hns.h's interface; docs/hcn-backend.md says
 * how it calls HCN, how it maps errors and how it is tested (against a fake
 * computenetwork.dll under wine).
 *
 * This header includes no system header: the GUID helpers use their own
 * struct, laid out as Windows' GUID.
 */
#ifndef HNP_HNS_HCN_H
#define HNP_HNS_HCN_H

#include <stdbool.h>
#include <stdint.h>

#include "hnsnetpol/error.h"
#include "hns.h"

/* The oldest HNS with ACL address lists, port ranges and the rule Id (Windows 1803). */
#define HNP_HCN_MIN_VERSION_MAJOR 7
#define HNP_HCN_MIN_VERSION_MINOR 2

/* Win32 ERROR_NOT_FOUND as an HRESULT: HCN's other way of saying "no such endpoint". */
#define HNP_HCN_WIN32_NOT_FOUND 0x80070490u

/* When to ask HNS for its version (vmcompute.dll's HNSCall GET /globals/version). */
enum hnp_hcn_version_check {
    /* At the first successful open of the process only (the default). Later
     * opens - the agent opens a new backend after abandoning a hung call -
     * must not block on an HNS that is known to hang. */
    HNP_HCN_VERSION_ONCE = 0,
    HNP_HCN_VERSION_ALWAYS, /* at every open (tests) */
    HNP_HCN_VERSION_SKIP,   /* never */
};

struct hnp_hns_hcn_options {
    /* DLL names (UTF-8). A plain name is searched for in the program's own
     * folder, then in System32 - never in the current folder or PATH. NULL:
     * "computenetwork.dll" and "vmcompute.dll". */
    const char *computenetwork_dll;
    const char *vmcompute_dll;
    enum hnp_hcn_version_check version_check;
};

/*
 * Open the HCN backend with the default options. *out is new; free with
 * hnp_hns_close().
 *
 * Loads computenetwork.dll and looks up HcnEnumerateEndpoints,
 * HcnOpenEndpoint, HcnQueryEndpointProperties, HcnModifyEndpoint and
 * HcnCloseEndpoint, and CoTaskMemFree from ole32.dll. Then (see
 * enum hnp_hcn_version_check) reads the HNS version through vmcompute.dll
 * and logs it; when vmcompute.dll, HNSCall or a usable answer is missing it
 * logs a warning and goes on.
 *
 * Returns HNP_ERR_UNSUPPORTED when the DLL or one of the functions is
 * missing ("this host has no Host Compute Network API (computenetwork.dll)",
 * err->code the HRESULT of the Win32 error) or when HNS is older than
 * HNP_HCN_MIN_VERSION_MAJOR.HNP_HCN_MIN_VERSION_MINOR; HNP_ERR_NOMEM.
 */
enum hnp_err hnp_hns_hcn_open(struct hnp_hns **out, struct hnp_error *err);

/*
 * The hcn class in the registry (registry.h): "hcn", opening with
 * hnp_hns_hcn_open(); off Windows (src/posix/hcn_none.c) its open says
 * HNP_ERR_UNSUPPORTED.
 */
extern const struct hnp_hns_class hnp_hns_hcn_class;

/* The same with options (borrowed; NULL = the defaults). */
enum hnp_err hnp_hns_hcn_open_with(const struct hnp_hns_hcn_options *options, struct hnp_hns **out,
                                   struct hnp_error *err);

/* A GUID, laid out as Windows' GUID (and REFGUID's target). */
struct hnp_guid {
    uint32_t data1;
    uint16_t data2;
    uint16_t data3;
    uint8_t data4[8];
};

/*
 * Parse "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (hex digits in either case),
 * optionally inside one pair of braces, and nothing else (no spaces). Returns
 * false and leaves *out untouched for anything else.
 */
bool hnp_guid_parse(const char *text, struct hnp_guid *out);

/* Write g as 36 lower-case characters and a NUL into out. */
void hnp_guid_format(const struct hnp_guid *g, char out[37]);

#endif /* HNP_HNS_HCN_H */
