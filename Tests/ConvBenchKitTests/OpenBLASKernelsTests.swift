import ConvBenchKit
import Testing

/// Which OpenBLAS kernels convbench asks for (OPENBLAS_CORETYPE) when OpenBLAS did not know the CPU.
@Suite struct OpenBLASKernelsTests {
    static let emeraldRapids = ["fma", "avx", "avx2", "avx512f", "avx512dq", "avx512cd", "avx512bw", "avx512vl",
                                "avx512_bf16", "avx512_fp16", "sse4_1", "sse4_2"]
    static let avx2Only = ["fma", "avx", "avx2", "sse4_1", "sse4_2"]

    @Test func aFallbackCoreIsReplacedByTheWidestKernelsTheFlagsAllow() {
        #expect(OpenBLASKernels.replacement(detected: "Prescott", cpuFlags: Self.emeraldRapids) == "SkylakeX")
        #expect(OpenBLASKernels.replacement(detected: "prescott", cpuFlags: Self.avx2Only) == "Haswell")
        #expect(OpenBLASKernels.replacement(detected: "Nehalem", cpuFlags: ["avx", "sse4_2"]) == "Sandybridge")
    }

    @Test func aCoreOpenBLASRecognisedIsKept() {
        // Zen 4 has AVX-512 but OpenBLAS 0.3.21 knows it as Zen; its choice stands.
        #expect(OpenBLASKernels.replacement(detected: "Zen", cpuFlags: Self.emeraldRapids) == nil)
        #expect(OpenBLASKernels.replacement(detected: "SkylakeX", cpuFlags: Self.emeraldRapids) == nil)
        #expect(OpenBLASKernels.replacement(detected: "Haswell", cpuFlags: Self.emeraldRapids) == nil)
    }

    @Test func aCPUWithoutAVXKeepsTheFallback() {
        #expect(OpenBLASKernels.replacement(detected: "Prescott", cpuFlags: ["sse4_1", "sse4_2"]) == nil)
        // Part of AVX-512 (no BW/DQ/VL, as on Knights Landing) is not enough for SkylakeX's kernels.
        #expect(OpenBLASKernels.replacement(detected: "Prescott", cpuFlags: ["fma", "avx", "avx2", "avx512f", "avx512cd"]) == "Haswell")
    }
}
