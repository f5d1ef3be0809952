import ArgumentParser
import Foundation
import PrescorePostgres

/// Rows/s of streaming the demo source query through `PostgresConnection.copyOut` and decoding every
/// field, against psql's own `COPY (…) TO STDOUT (FORMAT binary)` into /dev/null in the same run:
/// the read-side limit of the batch run.
struct CopyBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy",
        abstract: "Binary COPY streaming and decoding rows/s, versus psql's own binary COPY.")

    @Option(help: "How many rows of demo.users to read.") var rows: Int = 1_000_000
    @Option(help: "psql, for the reference.") var psql: String = "psql"
    @Option(name: .customLong("repeat"), help: "Timed repetitions; the best counts.") var repetitions: Int = 3

    func run() throws {
        let url = BenchSupport.databaseURL
        let query = "SELECT * FROM demo.users ORDER BY user_id LIMIT \(rows)"
        let connection = try PostgresConnection(url: url)
        var decoded = 0
        var checksum = 0.0
        let ours = try BenchSupport.bestSeconds(repetitions: repetitions) {
            var decoder = BinaryCopyDecoder()
            decoded = 0
            try connection.copyOut(query) { chunk in
                try decoder.feed(chunk) { row in
                    for field in 1..<(row.count - 1) {
                        checksum += row.double(field) ?? Double(row.integer(field) ?? 0)
                    }
                    decoded += 1
                }
            }
        }
        guard decoded == rows else {
            throw ValidationError("demo.users has \(decoded) rows; run prescore demo seed --entities \(rows)")
        }
        let theirs = try BenchSupport.bestSeconds(repetitions: repetitions) {
            try BenchSupport.run(
                psql, [url, "-qc", "COPY (\(query)) TO STDOUT (FORMAT binary)"], discardOutput: true)
        }
        print(
            """

            copy benchmark: \(rows) rows of demo.users (17 columns), binary COPY
              prescore copyOut + decode:   \(String(format: "%.2f", Double(rows) / ours / 1e6))M rows/s
              psql COPY to /dev/null:      \(String(format: "%.2f", Double(rows) / theirs / 1e6))M rows/s
              ratio: \(String(format: "%.2f", theirs / ours))x   (checksum \(checksum))
            """)
    }
}
