import Testing

@testable import PrescoreCore

@Suite struct FeatureBindingTests {
    @Test func bindsColumnsToFeaturesByNameInAnyOrder() throws {
        let binding = try FeatureBinding(
            columns: ["c", "a", "b"], featureNames: ["a", "b", "c"], featureCount: 3)
        #expect(binding.featureIndexForColumn == [2, 0, 1])
        #expect(!binding.isPositional)
    }

    @Test func namesWhatIsMissingUnusedOrRepeated() {
        do {
            _ = try FeatureBinding(columns: ["a", "x", "a"], featureNames: ["a", "b"], featureCount: 2)
            Issue.record("expected an error")
        } catch let error as CoreError {
            #expect(error.code == .featureMismatch)
            #expect(error.message.contains("needs b"))
            #expect(error.message.contains("does not use x"))
            #expect(error.message.contains("a more than once"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}
