// Compiled twice, into PrescoreCore and PrescoreScoringAVX2: see XGBoostModel+Kernel.swift.
#if PRESCORE_SCORING_AVX2
    import PrescoreCore
#endif

extension XGBoostModel {
    /// The model's arrays as pointers, and per-call scratch space, for the duration of one `score` call.
    struct KernelBuffers {
        let nodes: UnsafePointer<Node>
        let quantizedNodes: UnsafePointer<QuantizedForest.Node>
        let byteSplats: UnsafePointer<SIMD32<Int8>>
        let wordSplats: UnsafePointer<SIMD16<Int16>>
        let leaves: UnsafePointer<Float>
        /// Room for `QuantizedForest.scratchMasks` masks of either width.
        let scratch: UnsafeMutableRawPointer
        let positions: UnsafeMutablePointer<Int32>
    }

    func withKernelBuffers(_ body: (KernelBuffers) -> Void) {
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: Self.blockSize) { positions in
            withUnsafeTemporaryAllocation(
                byteCount: QuantizedForest.scratchMasks * QuantizedForest.vectorBytes, alignment: 64
            ) { scratch in
                nodes.withUnsafeBufferPointer { nodes in
                    forest.nodes.withUnsafeBufferPointer { quantizedNodes in
                        forest.byteSplats.withUnsafeBufferPointer { byteSplats in
                            forest.wordSplats.withUnsafeBufferPointer { wordSplats in
                                forest.leaves.withUnsafeBufferPointer { leaves in
                                    body(
                                        KernelBuffers(
                                            nodes: Self.address(nodes),
                                            quantizedNodes: Self.address(quantizedNodes),
                                            byteSplats: Self.address(byteSplats),
                                            wordSplats: Self.address(wordSplats),
                                            leaves: Self.address(leaves),
                                            scratch: scratch.baseAddress!, positions: positions.baseAddress!))
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// An array's address; an empty array (a model without trees, or none on one path) may have none,
    /// and then nothing is read through it, so any aligned address does.
    static func address<T>(_ buffer: UnsafeBufferPointer<T>) -> UnsafePointer<T> {
        buffer.baseAddress ?? UnsafePointer(bitPattern: MemoryLayout<T>.alignment)!
    }
}
