/*
 * render.h - what the offline commands (offline.h) print: validate's
 * findings, translate's endpoints with their ACLs and explain's verdicts
 * and matrices, as text, table or JSON. The commands decide what to say,
 * these functions how it looks; the golden files in tests/golden/ hold
 * their exact output.
 */
#ifndef HNP_RENDER_H
#define HNP_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "hnsnetpol/acl.h"
#include "hnsnetpol/cluster.h"
#include "hnsnetpol/explain.h"
#include "hnsnetpol/objects.h"

/* The formats of -o / --output; each command takes some of them. */
enum hnp_output_format { HNP_OUTPUT_TEXT, HNP_OUTPUT_JSON, HNP_OUTPUT_TABLE };

/* How many policies of cluster are rejected. */
size_t hnp_render_rejected_count(const struct hnp_cluster *cluster);

/*
 * validate's report of cluster (borrowed, as every argument here): TEXT
 * one line per finding on out and a summary line on errout, mentioning
 * input errors unless inputs_ok; JSON one document of the policies, the
 * input errors (errors: the array of {"file","line"|"where","message"} the
 * loader recorded) and the summary, on out.
 */
void hnp_render_validate(const struct hnp_cluster *cluster, json_t *errors, bool inputs_ok,
                         enum hnp_output_format format, FILE *out, FILE *errout);

/* One warning line per finding of every rejected policy, on errout (translate, explain). */
void hnp_render_warn_rejected(const struct hnp_cluster *cluster, FILE *errout);

/* translate -o table: the endpoint of pod (its first IP) and its ACLs, then an empty line. */
void hnp_render_endpoint_table(FILE *out, const struct hnp_pod *pod,
                               const struct hnp_acl_list *acls);

/*
 * translate -o json: the endpoint of pod as {"pod","ip","node","request"},
 * request null when acls is empty. New reference; NULL when out of memory.
 */
json_t *hnp_render_endpoint_json(const struct hnp_pod *pod, const struct hnp_acl_list *acls);

/*
 * translate -o json: the document {"endpoints": endpoints, "rejected": [...]}
 * on out. endpoints (an array of hnp_render_endpoint_json()) is stolen.
 */
void hnp_render_translate_json(FILE *out, json_t *endpoints, const struct hnp_cluster *cluster);

/*
 * explain: the verdict on one connection from `from` (a pod, or NULL for an
 * outside address) at from_ip to `to` at to_ip, and which ACL decided at
 * each end; TEXT or JSON.
 */
void hnp_render_explain(FILE *out, enum hnp_output_format format, const struct hnp_pod *from,
                        uint32_t from_ip, const struct hnp_pod *to, uint32_t to_ip,
                        uint8_t protocol, uint16_t port, const struct hnp_explain_result *result);

/* One probe of explain --matrix: cells[i * n + j] is '.' when pod i reaches pod j, else 'X'. */
struct hnp_matrix_probe {
    uint8_t protocol;
    uint16_t port;
    const char *cells;
};

/*
 * explain --matrix: for each probe, a truth table of the n pods (rows are
 * sources, columns destinations), TEXT or one JSON document of every probe.
 */
void hnp_render_matrix(FILE *out, enum hnp_output_format format, const struct hnp_pod *const *pods,
                       size_t n, const struct hnp_matrix_probe *probes, size_t n_probes);

#endif /* HNP_RENDER_H */
