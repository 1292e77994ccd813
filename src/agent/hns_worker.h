/*
 * hns_worker.h - the thread that makes the agent's HNS calls, and the job
 * that describes one call and carries its outcome back.
 *
 * The controller (controller.h) decides which call to make next and returns
 * it as a job; the wiring (agent.c) hands the job to the worker, which makes
 * the call on its own backend instance and hands the finished job back
 * through a callback. A call that hangs is abandoned with its worker.
 */
#ifndef HNP_HNS_WORKER_H
#define HNP_HNS_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "hnsnetpol/error.h"
#include "hns.h"

enum hnp_hns_op { HNP_HNS_LIST, HNP_HNS_QUERY, HNP_HNS_MODIFY };

/* "list", "query", "modify": the operation label of the metrics and the mock's call counts. */
const char *hnp_hns_op_name(enum hnp_hns_op op);

/* One HNS call and, once made, its outcome. */
struct hnp_hns_job {
    enum hnp_hns_op op;
    char *id;        /* owned; QUERY and MODIFY */
    json_t *request; /* owned reference; MODIFY */
    size_t n_acls;   /* MODIFY: how many ACLs of ours the request carries (set by the submitter) */
    uint64_t seq;    /* the submitter's number for it, echoed */
    /* Filled by the worker: */
    enum hnp_err rc;
    struct hnp_error err;
    struct hnp_hns_endpoint *eps; /* LIST: owned array of n_eps */
    size_t n_eps;
    struct hnp_hns_endpoint one; /* QUERY: owned */
    double seconds;              /* how long the call took */
    struct hnp_hns_job *next;    /* free for whoever holds the job (queue link) */
};

/*
 * A new job for op; id is copied (may be NULL for LIST), request gets a new
 * reference (may be NULL). NULL when out of memory.
 */
struct hnp_hns_job *hnp_hns_job_new(enum hnp_hns_op op, const char *id, json_t *request);
/* Free the job and everything it owns. Accepts NULL. */
void hnp_hns_job_free(struct hnp_hns_job *job);

/*
 * Make the call job asks for on hns (borrowed), on the calling thread, and
 * fill in its outcome: rc, err, eps/n_eps (LIST) or one (QUERY), and
 * seconds. What the worker thread does with each job; tests call it too.
 */
void hnp_hns_job_run(struct hnp_hns_job *job, struct hnp_hns *hns);

/* Receives each finished job (stolen), on the worker's thread. */
typedef void (*hnp_hns_done_fn)(struct hnp_hns_job *job, void *ctx);

struct hnp_hns_worker;

/*
 * Start a worker thread that makes the calls of the jobs handed to it, one
 * at a time, on hns (stolen, also on failure: the worker closes it when it
 * ends), and hands each finished job to done(job, done_ctx). done_ctx must
 * stay valid until the worker is stopped or abandoned. *out is new.
 * HNP_ERR_NOMEM when the thread cannot be created.
 */
enum hnp_err hnp_hns_worker_start(struct hnp_hns *hns, hnp_hns_done_fn done, void *done_ctx,
                                  struct hnp_hns_worker **out);

/* Hand job (stolen) to an idle worker: one job at a time, the next after done() has it back. */
void hnp_hns_worker_submit(struct hnp_hns_worker *w, struct hnp_hns_job *job);

/*
 * Give up on the job in flight (its call hangs): from when this returns,
 * done() is never called again; the thread finishes the call, frees the job,
 * closes its backend and ends on its own. Then the worker is only good for
 * hnp_hns_worker_exited(), hnp_hns_worker_stop() once exited, or
 * hnp_hns_worker_detach().
 */
void hnp_hns_worker_abandon(struct hnp_hns_worker *w);

/* Has the thread of an abandoned worker ended (a stop can join it at once)? */
bool hnp_hns_worker_exited(struct hnp_hns_worker *w);

/*
 * End the thread and free: an idle worker quits at once, one with a job in
 * flight after the call returns (that job is freed, done() not called), an
 * abandoned one when its call returns. Joins. Accepts NULL.
 */
void hnp_hns_worker_stop(struct hnp_hns_worker *w);

/* Forget an abandoned worker whose call still hangs: its thread frees everything when it ends. */
void hnp_hns_worker_detach(struct hnp_hns_worker *w);

#endif /* HNP_HNS_WORKER_H */
