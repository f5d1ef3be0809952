extension XGBoostModel {
    /// The model's arrays as pointers, and per-call scratch space, for the duration of one `score` call.
    struct KernelBuffers {
        let nodes: UnsafePointer<Node>
        let quantizedNodes: UnsafePointer<QuantizedForest.Node>
        let splats: UnsafePointer<QuantizedForest.Lanes>
        let leaves: UnsafePointer<Float>
        let scratch: UnsafeMutablePointer<SIMDMask<QuantizedForest.Lanes>>
        let positions: UnsafeMutablePointer<Int32>
    }

    func withKernelBuffers(_ body: (KernelBuffers) -> Void) {
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: Self.blockSize) { positions in
            withUnsafeTemporaryAllocation(
                of: SIMDMask<QuantizedForest.Lanes>.self, capacity: QuantizedForest.scratchMasks
            ) { scratch in
                nodes.withUnsafeBufferPointer { nodes in
                    forest.nodes.withUnsafeBufferPointer { quantizedNodes in
                        forest.splats.withUnsafeBufferPointer { splats in
                            forest.leaves.withUnsafeBufferPointer { leaves in
                                body(
                                    KernelBuffers(
                                        nodes: Self.address(nodes),
                                        quantizedNodes: Self.address(quantizedNodes),
                                        splats: Self.address(splats), leaves: Self.address(leaves),
                                        scratch: scratch.baseAddress!, positions: positions.baseAddress!))
                            }
                        }
                    }
                }
            }
        }
    }

    /// An array's address; an empty array (a model without trees, or none on one path) may have none,
    /// and then nothing is read through it, so any aligned address does.
    private static func address<T>(_ buffer: UnsafeBufferPointer<T>) -> UnsafePointer<T> {
        buffer.baseAddress ?? UnsafePointer(bitPattern: MemoryLayout<T>.alignment)!
    }
}
