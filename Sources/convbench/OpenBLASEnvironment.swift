import ConvBenchKit
import Foundation

/// OpenBLAS reads its settings from the environment only when it loads, before `main`; convbench
/// sets the two it needs, when the user has not, and starts itself again (once: the restarted
/// process finds both set).
///
/// OPENBLAS_THREAD_TIMEOUT: OpenBLAS's worker threads spin for 2^28 cycles (about 0.1 s) after each
/// call before they sleep, and on a 2-core machine that spinning takes the cores from whatever runs
/// next: our own worker threads in Winograd, depthwise and the pooling passes, or a peer runtime's.
/// Measured in Xception's forward pass: the Winograd layer after an OpenBLAS layer took 15 ms
/// instead of 8.7, the pass 286 ms instead of 269. convbench sets it to the minimum, 4.
///
/// OPENBLAS_CORETYPE: set only when OpenBLAS did not recognise the CPU (`OpenBLASKernels`).
enum OpenBLASEnvironment {
    static let threadTimeout = "OPENBLAS_THREAD_TIMEOUT"

    static func ensure() {
        var changed = false
        if getenv(threadTimeout) == nil {
            setenv(threadTimeout, "4", 1)
            changed = true
        }
        if getenv(OpenBLASKernels.variable) == nil {
            let detected = OpenBLASKernels.core
            if let core = OpenBLASKernels.replacement(detected: detected, cpuFlags: MachineInfo.current.cpuFlags) {
                setenv(OpenBLASKernels.variable, core, 1)
                setenv(OpenBLASKernels.replacedVariable, detected, 1)
                changed = true
            }
        }
        guard changed else { return }
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        // Only reached when exec failed: run on with OpenBLAS's own choices.
    }
}
