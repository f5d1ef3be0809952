import Foundation
import PrescoreTestSupport
import Testing

@testable import PrescorePostgres

/// History pruning on the real PostgreSQL: bounded batches, any job name, one session at a time.
@Suite struct RunLedgerPruningTests {
    /// Inserts `count` finished runs of `job`, finished at Unix time `finishedAt`.
    func insertFinished(_ connection: PostgresConnection, job: String, count: Int, finishedAt: Int) throws {
        try connection.execute(
            """
            INSERT INTO prescore.job_runs (job, run_id, trigger, started_at, finished_at, status)
            SELECT $1, nextval('prescore.run_ids'), 'manual', to_timestamp($3::float8),
                   to_timestamp($3::float8), 'succeeded'
            FROM generate_series(1, $2::int)
            """, [job, String(count), String(finishedAt)])
    }

    func count(_ connection: PostgresConnection, job: String) throws -> Int {
        try Int(
            connection.execute("SELECT count(*) FROM prescore.job_runs WHERE job = $1", [job]).scalar ?? "")
            ?? -1
    }

    @Test func prunesInBatchesEveryJobNameIncludingNull() throws {
        try TestServers.withTemporaryDatabase { url in
            let connection = try PostgresConnection(url: url)
            try Migrator().migrate(connection)
            try insertFinished(connection, job: "null", count: 2_500, finishedAt: 1_000)
            try insertFinished(connection, job: "kept", count: 10, finishedAt: 1_000)
            try insertFinished(connection, job: "null", count: 5, finishedAt: 9_000)  // within history
            let ledger = RunLedger(connection: connection)
            let removed = try ledger.prune(
                jobs: ["null"], finishedBefore: Date(timeIntervalSince1970: 5_000), batch: 1_000)
            #expect(removed == 2_500)
            #expect(try count(connection, job: "null") == 5)
            #expect(try count(connection, job: "kept") == 10)
        }
    }

    @Test func oneSessionPrunesAtATime() throws {
        try TestServers.withTemporaryDatabase { url in
            let first = RunLedger(connection: try PostgresConnection(url: url))
            let second = RunLedger(connection: try PostgresConnection(url: url))
            try Migrator().migrate(first.connection)
            let inner = try first.withPruningLock { () throws(PostgresError) in
                try second.withPruningLock { () throws(PostgresError) in 1 }
            }
            #expect(inner == .some(nil), "the second session skips while the first holds the lock")
            #expect(try second.withPruningLock { () throws(PostgresError) in 2 } == 2, "released after")
        }
    }
}
