"""Background work: RQ queues, the job-ownership row, the job-status endpoint, the worker."""
