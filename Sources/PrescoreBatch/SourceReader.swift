import PrescoreCore
import PrescorePostgres

/// The reading stage: streams the planned source with binary COPY and cuts it into `RowBatch`es.
struct SourceReader {
    let connection: PostgresConnection
    let plan: SourcePlan
    let batchSize: Int

    /// Reads every row, handing each full batch (and the last, partial one) to `deliver`. Stops
    /// with `BatchError.runCancelled` as soon as `cancellation` is set; when `deliver` returns false
    /// (the next stage has stopped), the COPY is abandoned the same way.
    func read(cancellation: CancellationFlag, deliver: (RowBatch) -> Bool) throws {
        var decoder = BinaryCopyDecoder()
        var batch = RowBatch(capacity: batchSize, featureCount: plan.featureCount)
        let fieldCount = plan.featureCount + 1
        let keyKind = plan.keyKind
        try connection.copyOut(plan.query) { chunk in
            if let reason = cancellation.cancellationReason { throw BatchError(.runCancelled, reason) }
            try decoder.feed(chunk) { row in
                guard row.count == fieldCount else {
                    throw BatchError(
                        .malformedSource, "the source sent \(row.count) columns; \(fieldCount) were planned")
                }
                batch.appendRow(
                    key: { bytes in
                        switch keyKind {
                        case .integer:
                            guard let value = row.integer(0) else { return false }
                            bytes.appendDecimal(value)
                        case .text:
                            guard let raw = row.bytes(0) else { return false }
                            bytes.append(contentsOf: raw)
                        }
                        return true
                    },
                    features: { features in
                        for field in 1..<fieldCount {
                            features[field - 1] = row.double(field).map(Float.init) ?? .nan
                        }
                    })
                if batch.count == batchSize {
                    guard deliver(batch) else { throw BatchError(.runCancelled, "a later stage stopped") }
                    batch = RowBatch(capacity: batchSize, featureCount: plan.featureCount)
                }
            }
        }
        if batch.count > 0 { _ = deliver(batch) }
    }
}
