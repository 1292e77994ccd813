/*
 * fake_hcn.h - the test-only side of the fake computenetwork.dll
 * (fake_computenetwork.c): what the tests read back from it. The DLL's other
 * exports are the HCN functions themselves, with the SDK's signatures.
 *
 * Environment variables the fake reads on every call:
 *   HNP_FAKE_HCN_STATE        the mock HNS state file (docs/mock-hns.md); required
 *   HNP_FAKE_HCN_S_OK_ERRORS  "1": every failure returns S_OK with its ErrorRecord
 *                             (HNS does that sometimes) instead of a negative HRESULT
 *   HNP_FAKE_HCN_NO_ERROR_RECORD  "1": failures return only the HRESULT, no ErrorRecord
 *   HNP_FAKE_HNS_VERSION      its HNSCall's answer to GET /globals/version: "MAJOR.MINOR"
 *                             (default "15.0"), "fail" (E_FAIL, no answer), "error"
 *                             ({"Success":false,...}) or "garbage" (not JSON)
 */
#ifndef HNP_FAKE_HCN_H
#define HNP_FAKE_HCN_H

/* Counts since the DLL was loaded or HnpFakeHcnReset(). */
struct hnp_fake_hcn_stats {
    long enumerate_calls;
    long open_calls;
    long query_calls;
    long modify_calls;
    long close_calls;
    long hns_calls; /* HNSCall */
    /* Call discipline. */
    long handles_open;        /* opened and not closed yet (now) */
    long bad_handles;         /* calls with a handle that is not open (closed twice, made up) */
    long strings_out;         /* strings handed out (results and ErrorRecords) */
    long strings_freed;       /* ... of them freed with CoTaskMemFree */
    long strings_outstanding; /* handed out and not freed yet (now) */
    long double_frees;        /* CoTaskMemFree of a string of ours already freed */
    int spy_active;           /* the IMallocSpy that sees CoTaskMemFree is registered */
};

/* Exported by the fake DLL: fill *out. */
typedef void(hnp_fake_hcn_stats_fn)(struct hnp_fake_hcn_stats *out);
#define HNP_FAKE_HCN_STATS "HnpFakeHcnStats"

/* Exported by the fake DLL: zero the counters (handles_open and strings_outstanding stay). */
typedef void(hnp_fake_hcn_reset_fn)(void);
#define HNP_FAKE_HCN_RESET "HnpFakeHcnReset"

#endif /* HNP_FAKE_HCN_H */
