// CommitFiles answers are paged (proto/sluice/v1/worker.proto CommitFilesRequest): a worker
// holding 10^6 partitions of a shuffle would otherwise answer 100 MB in one message.

/** Items per page when the request says 0: about 2 MB of answer with long paths. */
export const COMMIT_PAGE_SIZE = 20_000;
/** The largest page a request may ask for: about 12 MB of answer. */
export const MAX_COMMIT_PAGE_SIZE = 100_000;
