import CBLAS
import Foundation

/// OpenBLAS picks its kernels when it loads, from the CPU's family and model number. A CPU newer
/// than the library gets its generic fallback: Debian's 0.3.21 runs an Emerald Rapids Xeon
/// (family 6, model 207, AVX-512) on its Prescott (SSE3) kernels, where SGEMM reached 61 GFLOP/s
/// at 1024³ on 2 threads and the Winograd layers' batched products took 3.5–7× as long as with
/// its SkylakeX kernels. OpenBLAS reads OPENBLAS_CORETYPE only as it loads, so the choice is made
/// here and convbench starts itself again with the variable set (`convbench` main).
public enum OpenBLASKernels {
    public static let variable = "OPENBLAS_CORETYPE"
    /// Set in the restarted process to the core OpenBLAS had chosen, so reports can say so.
    public static let replacedVariable = "CONVBENCH_OPENBLAS_REPLACED_CORE"

    /// OpenBLAS's names for pre-AVX cores, which it also falls back to for CPUs it does not know.
    static let fallbackCores: Set<String> = ["prescott", "core2", "penryn", "dunnington", "nehalem", "atom", "katmai",
                                             "coppermine", "northwood", "banias", "unknown"]

    /// The core whose kernels OpenBLAS should use instead of `detected`, or nil to keep its choice:
    /// only a fallback core is replaced (a core OpenBLAS recognised, e.g. Zen on a Zen 4, is kept),
    /// by the newest kernel family the CPU's flags support.
    public static func replacement(detected: String, cpuFlags: [String]) -> String? {
        guard fallbackCores.contains(detected.lowercased()) else { return nil }
        let flags = Set(cpuFlags)
        if ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"].allSatisfy(flags.contains) { return "SkylakeX" }
        if flags.contains("avx2") && flags.contains("fma") { return "Haswell" }
        if flags.contains("avx") { return "Sandybridge" }
        return nil
    }

    /// The core whose kernels this process's OpenBLAS runs.
    public static var core: String { openblas_get_corename().map { String(cString: $0) } ?? "unknown" }
}
