import ConvAlgorithms

/// y[n, o] = Σ_i W[o, i]·x[n, i] + b[o]. One image is a matrix-vector product that streams the
/// weights once (Xception's 2048 → 1000 classifier: 8 MB, 2 M multiply-adds), so it runs as
/// row dot products on our workers (`MatrixVector`): OpenBLAS's SGEMM with one row took 0.8 ms there, ONNX
/// Runtime's Gemm 0.23. Batches use one SGEMM, Y = X·Wᵀ, onto the bias (a scalar float64 loop had
/// taken 2.8 ms for the classifier, the SGEMM 0.2 on the AVX2 machine).
enum FullyConnected {
    static func run(_ x: UnsafeBufferPointer<Float>, batch: Int, inFeatures: Int, weights w: UnsafeBufferPointer<Float>,
                    bias: UnsafeBufferPointer<Float>?, _ y: UnsafeMutableBufferPointer<Float>, outFeatures: Int, threads: Int) {
        if batch == 1 {
            MatrixVector.run(x.baseAddress!, w.baseAddress!, bias: bias?.baseAddress, y.baseAddress!, rows: outFeatures,
                             columns: inFeatures, threads: threads)
            return
        }
        for n in 0..<batch {
            let row = y.baseAddress! + n * outFeatures
            if let bias { row.update(from: bias.baseAddress!, count: outFeatures) } else { row.update(repeating: 0, count: outFeatures) }
        }
        SGEMM.setThreads(threads)
        SGEMM.multiply(m: batch, n: outFeatures, k: inFeatures, a: x.baseAddress!, lda: inFeatures,
                       b: w.baseAddress!, ldb: inFeatures, transposeB: true, c: y.baseAddress!, ldc: outFeatures, beta: 1)
    }
}
