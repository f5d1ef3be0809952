extension JobDefinition {
    /// The scheduler's job keys. Their meaning follows Kubernetes CronJob, which most users already
    /// know: `starting_deadline` is `startingDeadlineSeconds`, `concurrency` is `concurrencyPolicy`,
    /// `suspend` is `suspend`.
    public struct Scheduling: Sendable, Equatable {
        /// How late a slot may still be started (after downtime, say). Of the slots missed within
        /// it only the most recent is started, once; older ones are recorded as `missed`.
        public var startingDeadline: Duration
        public var concurrency: Concurrency
        public var retries: RetryPolicy
        /// A suspended job is not started by its schedule; manual triggers still run.
        public var suspend: Bool
        /// Receives a JSON POST when a run fails for good (after its retries).
        public var webhookURL: String?
        /// How long finished runs stay in `prescore.job_runs`.
        public var history: Duration

        public init(
            startingDeadline: Duration = .seconds(3_600), concurrency: Concurrency = .forbid,
            retries: RetryPolicy = .default, suspend: Bool = false, webhookURL: String? = nil,
            history: Duration = .seconds(90 * 86_400)
        ) {
            self.startingDeadline = startingDeadline
            self.concurrency = concurrency
            self.retries = retries
            self.suspend = suspend
            self.webhookURL = webhookURL
            self.history = history
        }

        public static let `default` = Scheduling()
    }

    /// What to do when a slot comes due while an earlier run of the job is still going.
    public enum Concurrency: String, Sendable, CaseIterable {
        /// Skip the new slot (recorded as `skipped`); the running run goes on.
        case forbid
        /// Cancel the running run and start the new slot.
        case replace
        /// Start the new slot beside the running one.
        case allow
    }
}
