import CBLAS

/// Row-major single-precision matrix product on OpenBLAS: C = op(A)·B + beta·C.
/// OpenBLAS keeps its own thread pool; its size is process-wide, so each run sets it to the
/// caller's thread count instead of letting it default to every core on top of ours.
public enum SGEMM {
    @inline(__always)
    public static func setThreads(_ threads: Int) {
        openblas_set_num_threads(Int32(threads))
    }

    /// C[m×n] = op(A)[m×k] · op(B)[k×n] + beta · C, all row-major with leading dimensions.
    /// `releasingCores`: false when called from inside one of our parallel regions with OpenBLAS
    /// at one thread (the call then runs on the calling worker; our helpers are all busy anyway).
    @inline(__always)
    public static func multiply(
        m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, lda: Int, transposeA: Bool = false,
        b: UnsafePointer<Float>, ldb: Int, transposeB: Bool = false,
        c: UnsafeMutablePointer<Float>, ldc: Int, beta: Float, releasingCores: Bool = true
    ) {
        if releasingCores { WorkerPool.shared.releaseCores() }
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), 1, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}

/// Helpers shared by algorithms that write bias first and accumulate onto it.
enum OutputInit {
    /// Fills each of `channels` planes of `plane` elements with its bias (or zero).
    static func fill(_ out: UnsafeMutablePointer<Float>, channels: Int, plane: Int, bias: UnsafePointer<Float>?) {
        for c in 0..<channels {
            (out + c * plane).update(repeating: bias?[c] ?? 0, count: plane)
        }
    }
}
