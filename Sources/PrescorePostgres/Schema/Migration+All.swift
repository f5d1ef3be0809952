extension Migration {
    /// Every migration, in order. Append only: a released migration is never edited, since databases
    /// out there have already applied it.
    public static let all: [Migration] = [
        Migration(
            version: 1, name: "job run history",
            sql: """
                CREATE TABLE prescore.job_runs (
                    job             text        NOT NULL,
                    run_id          bigint      NOT NULL,
                    trigger         text        NOT NULL CHECK (trigger IN ('schedule', 'manual', 'catch-up')),
                    scheduled_for   timestamptz,
                    started_at      timestamptz NOT NULL DEFAULT now(),
                    finished_at     timestamptz,
                    status          text        NOT NULL
                                    CHECK (status IN ('running', 'succeeded', 'failed', 'cancelled')),
                    rows_read       bigint      NOT NULL DEFAULT 0,
                    rows_scored     bigint      NOT NULL DEFAULT 0,
                    rows_written    bigint      NOT NULL DEFAULT 0,
                    rows_failed     bigint      NOT NULL DEFAULT 0,
                    model_version   text,
                    definition_hash text,
                    cpu_seconds     double precision,
                    error           text,
                    PRIMARY KEY (job, run_id)
                );
                CREATE INDEX job_runs_started_at ON prescore.job_runs (started_at DESC);
                """),
        Migration(
            version: 2, name: "run ids",
            sql: """
                -- One sequence for every job: a later run always has a higher id, which the atomic
                -- publish compares (a slow or stale run never replaces a newer one).
                CREATE SEQUENCE prescore.run_ids AS bigint;
                CREATE INDEX job_runs_job_started_at ON prescore.job_runs (job, started_at DESC);
                """),
    ]
}
