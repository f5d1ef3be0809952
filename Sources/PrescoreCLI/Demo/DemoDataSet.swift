/// The demo data set: `demo.users`, one row per user with 16 fraud-risk features and a label, built by
/// set-based SQL in the server (no rows cross the wire).
///
/// Deterministic: every value is a function of `user_id` through `hashint8extended`, so user 42 has the
/// same features whatever N is and however often it is seeded; that keeps the committed model and its
/// parity fixture reproducible. Some features are NULL, as real features are.
enum DemoDataSet {
    /// Bumped when the generator changes, so a re-seed rebuilds instead of keeping old rows.
    static let generatorVersion = 1

    /// The feature columns, in table order. The demo job file and the model use these names.
    static let featureColumns = [
        "f_amount_avg_30d", "f_amount_max_30d", "f_txn_count_7d", "f_txn_count_30d", "f_account_age_days",
        "f_distinct_merchants_30d", "f_distinct_countries_30d", "f_night_txn_ratio", "f_declined_ratio_30d",
        "f_chargebacks_365d", "f_avg_ticket_change", "f_device_count_30d", "f_ip_risk_score",
        "f_email_age_days", "f_failed_logins_7d", "f_velocity_1h",
    ]

    static func comment(entities: Int) -> String { "prescore demo v\(generatorVersion) entities=\(entities)" }

    static let schema = """
        CREATE SCHEMA IF NOT EXISTS demo;
        -- A uniform number in [0, 1) from a user id and a stream number.
        CREATE OR REPLACE FUNCTION demo.u(id bigint, stream bigint) RETURNS double precision
            LANGUAGE sql IMMUTABLE PARALLEL SAFE
            AS 'SELECT (hashint8extended(id, stream) & 2147483647)::double precision / 2147483648.0';
        -- An exponential draw with the given mean.
        CREATE OR REPLACE FUNCTION demo.exp(id bigint, stream bigint, mean double precision)
            RETURNS double precision LANGUAGE sql IMMUTABLE PARALLEL SAFE
            AS 'SELECT -ln(1.0 - demo.u(id, stream)) * mean';
        """

    /// Rebuilds `demo.users` with users 1…entities. `$1` is the entity count.
    static let build = """
        DROP TABLE IF EXISTS demo.users;
        CREATE TABLE demo.users (
            user_id                  bigint NOT NULL,
            f_amount_avg_30d         double precision,
            f_amount_max_30d         double precision,
            f_txn_count_7d           integer,
            f_txn_count_30d          integer,
            f_account_age_days       integer,
            f_distinct_merchants_30d integer,
            f_distinct_countries_30d integer,
            f_night_txn_ratio        double precision,
            f_declined_ratio_30d     double precision,
            f_chargebacks_365d       integer,
            f_avg_ticket_change      double precision,
            f_device_count_30d       integer,
            f_ip_risk_score          double precision,
            f_email_age_days         integer,
            f_failed_logins_7d       integer,
            f_velocity_1h            integer,
            is_fraud                 boolean NOT NULL
        );
        INSERT INTO demo.users
        SELECT user_id, amount_avg, round((amount_avg * (1 + 4 * demo.u(user_id, 2)))::numeric, 2)::float8,
               txn_7d, txn_30d, account_age, merchants, countries, night, declined, chargebacks,
               ticket_change, devices, ip_risk, email_age, failed_logins, velocity,
               demo.u(user_id, 99) < 1 / (1 + exp(-(-6.2 + 0.9 * (countries - 1) + 0.8 * chargebacks
                   + 4 * coalesce(declined, 0) + 0.025 * coalesce(ip_risk, 60) + 1.4 * night
                   + 0.35 * velocity + 0.3 * failed_logins - 0.0005 * account_age
                   + 0.4 * (devices - 1) + 0.6 * greatest(ticket_change, 0)
                   + CASE WHEN email_age IS NULL OR email_age < 30 THEN 0.8 ELSE 0 END)))
        FROM (
            SELECT user_id, amount_avg, txn_7d, txn_30d, account_age,
                   least(txn_30d, floor(demo.u(user_id, 6) * 25)::int) AS merchants,
                   1 + floor(demo.exp(user_id, 7, 0.4))::int AS countries,
                   round((demo.u(user_id, 8) ^ 2)::numeric, 4)::float8 AS night,
                   CASE WHEN txn_30d = 0 THEN NULL
                        ELSE round((demo.u(user_id, 9) ^ 4 * 0.6)::numeric, 4)::float8 END AS declined,
                   floor(demo.exp(user_id, 10, 0.15))::int AS chargebacks,
                   round(((demo.u(user_id, 11) - 0.5) * 3)::numeric, 3)::float8 AS ticket_change,
                   1 + floor(demo.exp(user_id, 12, 0.7))::int AS devices,
                   CASE WHEN demo.u(user_id, 20) < 0.03 THEN NULL
                        ELSE round((demo.u(user_id, 13) ^ 1.5 * 100)::numeric, 2)::float8 END AS ip_risk,
                   CASE WHEN demo.u(user_id, 21) < 0.08 THEN NULL
                        ELSE floor(demo.u(user_id, 14) * 4000)::int END AS email_age,
                   floor(demo.exp(user_id, 15, 0.5))::int AS failed_logins,
                   floor(demo.exp(user_id, 16, 0.8))::int AS velocity
            FROM (
                SELECT user_id,
                       round((15 + demo.exp(user_id, 1, 180))::numeric, 2)::float8 AS amount_avg,
                       floor(demo.exp(user_id, 3, 6))::int AS txn_7d,
                       floor(demo.exp(user_id, 3, 6))::int * 3 + floor(demo.u(user_id, 4) * 20)::int AS txn_30d,
                       floor(demo.u(user_id, 5) * 3650)::int AS account_age
                FROM generate_series(1::bigint, $1::bigint) AS user_id
            ) base
        ) features;
        ALTER TABLE demo.users ADD PRIMARY KEY (user_id);
        ANALYZE demo.users;
        """
}
