import Foundation

/// OpenBLAS's worker threads spin for 2^28 cycles (about 0.1 s) after each call before they sleep,
/// and on a 2-core machine that spinning takes the cores from whatever runs next: our own worker
/// threads in Winograd, depthwise and the pooling passes, or a peer runtime's. Measured in
/// Xception's forward pass: the Winograd layer after an OpenBLAS layer took 15 ms instead of 8.7,
/// the pass 286 ms instead of 269. OpenBLAS reads OPENBLAS_THREAD_TIMEOUT (log2 of the spin in
/// cycles) only when it loads, before `main`, so convbench sets it to the minimum, 4, and starts
/// itself again; a value the user set is left alone.
enum QuietOpenBLASThreads {
    static let variable = "OPENBLAS_THREAD_TIMEOUT"

    static func ensure() {
        guard getenv(variable) == nil else { return }
        setenv(variable, "4", 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        // Only reached when exec failed: run on with OpenBLAS's default.
    }
}
