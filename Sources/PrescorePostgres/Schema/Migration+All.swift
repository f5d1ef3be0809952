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
        Migration(
            version: 3, name: "scheduler: slots, leases and attempts",
            sql: """
                -- A run is one slot (job, scheduled_for) or one manual trigger; its attempts are rows
                -- of their own. The lease columns say which scheduler instance holds the run, until
                -- when, under which fencing token (the Redis run id of the current attempt).
                ALTER TABLE prescore.job_runs DROP CONSTRAINT job_runs_status_check;
                ALTER TABLE prescore.job_runs ADD CONSTRAINT job_runs_status_check CHECK (status IN
                    ('queued', 'running', 'retrying', 'succeeded', 'failed', 'cancelled', 'missed',
                     'skipped'));
                ALTER TABLE prescore.job_runs
                    ADD COLUMN attempts         integer NOT NULL DEFAULT 0,
                    ADD COLUMN not_before       timestamptz,
                    ADD COLUMN lease_owner      text,
                    ADD COLUMN lease_token      bigint,
                    ADD COLUMN lease_expires_at timestamptz,
                    ADD COLUMN cancel_requested text;
                UPDATE prescore.job_runs SET attempts = 1, lease_token = run_id;
                -- Once per slot: every instance computes the same scheduled_for, one INSERT wins.
                CREATE UNIQUE INDEX job_runs_slot ON prescore.job_runs (job, scheduled_for)
                    WHERE trigger IN ('schedule', 'catch-up');
                CREATE INDEX job_runs_open ON prescore.job_runs (job)
                    WHERE status IN ('queued', 'running', 'retrying');
                CREATE TABLE prescore.job_run_attempts (
                    job         text        NOT NULL,
                    run_id      bigint      NOT NULL,
                    attempt     integer     NOT NULL,
                    token       bigint      NOT NULL UNIQUE,
                    instance    text        NOT NULL,
                    started_at  timestamptz NOT NULL,
                    finished_at timestamptz,
                    status      text        NOT NULL
                                CHECK (status IN ('running', 'succeeded', 'failed', 'cancelled', 'abandoned')),
                    error       text,
                    PRIMARY KEY (job, run_id, attempt),
                    FOREIGN KEY (job, run_id) REFERENCES prescore.job_runs ON DELETE CASCADE
                );
                INSERT INTO prescore.job_run_attempts
                    (job, run_id, attempt, token, instance, started_at, finished_at, status, error)
                SELECT job, run_id, 1, run_id, 'prescore run', started_at, finished_at,
                       CASE WHEN status = 'running' THEN 'abandoned' ELSE status END, error
                FROM prescore.job_runs;
                """),
        Migration(
            version: 4, name: "heartbeats of process-owned runs, abandoned runs",
            sql: """
                -- A run of `prescore run` holds a lease too, renewed by its process (lease_holder
                -- 'process'); when it lapses the run is recorded 'abandoned' and its keys, found
                -- under output_prefix, are removed. Scheduler leases ('scheduler') are taken over
                -- by another instance instead.
                ALTER TABLE prescore.job_runs DROP CONSTRAINT job_runs_status_check;
                ALTER TABLE prescore.job_runs ADD CONSTRAINT job_runs_status_check CHECK (status IN
                    ('queued', 'running', 'retrying', 'succeeded', 'failed', 'cancelled', 'missed',
                     'skipped', 'abandoned'));
                ALTER TABLE prescore.job_runs
                    ADD COLUMN lease_holder  text CHECK (lease_holder IN ('scheduler', 'process')),
                    ADD COLUMN output_prefix text;
                UPDATE prescore.job_runs SET lease_holder = 'scheduler' WHERE lease_owner IS NOT NULL;
                """),
        Migration(
            version: 5, name: "superseded runs",
            sql: """
                -- A run whose publish found a newer run published is 'superseded': final, not
                -- retried (README "Schedule semantics").
                ALTER TABLE prescore.job_runs DROP CONSTRAINT job_runs_status_check;
                ALTER TABLE prescore.job_runs ADD CONSTRAINT job_runs_status_check CHECK (status IN
                    ('queued', 'running', 'retrying', 'succeeded', 'failed', 'cancelled', 'missed',
                     'skipped', 'abandoned', 'superseded'));
                ALTER TABLE prescore.job_run_attempts DROP CONSTRAINT job_run_attempts_status_check;
                ALTER TABLE prescore.job_run_attempts ADD CONSTRAINT job_run_attempts_status_check
                    CHECK (status IN ('running', 'succeeded', 'failed', 'cancelled', 'abandoned', 'superseded'));
                """),
        Migration(
            version: 6, name: "experiments: exposures and outcomes",
            sql: """
                -- Every score `serve` answered for an entity in an experiment (README "Experiments"),
                -- written in batches with COPY. cpu_us: the CPU time of a realtime scoring, else 0.
                CREATE TABLE prescore.exposures (
                    experiment  text             NOT NULL,
                    job         text             NOT NULL,
                    arm         text             NOT NULL CHECK (arm IN ('batch', 'realtime')),
                    key         text             NOT NULL,
                    score       real             NOT NULL,
                    source      text             NOT NULL CHECK (source IN ('batch', 'realtime', 'default')),
                    latency_us  integer          NOT NULL,
                    score_age_s double precision NOT NULL,
                    cpu_us      integer          NOT NULL DEFAULT 0,
                    at          timestamptz      NOT NULL
                );
                CREATE INDEX exposures_experiment_at ON prescore.exposures (experiment, at);
                -- What happened to an entity afterwards, posted to `serve` or loaded directly by a
                -- product: a metric's value at a time. pre_<metric> is <metric>'s pre-period value.
                CREATE TABLE prescore.outcomes (
                    experiment  text             NOT NULL,
                    key         text             NOT NULL,
                    metric      text             NOT NULL,
                    value       double precision NOT NULL,
                    at          timestamptz      NOT NULL DEFAULT now(),
                    recorded_at timestamptz      NOT NULL DEFAULT now()
                );
                CREATE INDEX outcomes_experiment_key ON prescore.outcomes (experiment, key, at);
                -- Each experiment as the serve that last started with it saw its job file: for
                -- dashboards (units against the split) and analysts reproducing the assignment.
                CREATE TABLE prescore.experiments (
                    experiment      text             PRIMARY KEY,
                    job             text             NOT NULL,
                    salt            text             NOT NULL,
                    batch_weight    integer          NOT NULL,
                    realtime_weight integer          NOT NULL,
                    value_per_unit  double precision,
                    cpu_hour_usd    double precision,
                    updated_at      timestamptz      NOT NULL DEFAULT now()
                );
                """),
        experimentRollups,
    ]
}
