import CBLAS
import CFFTW
import ConvCore
import Foundation

/// Where a run happened: recorded in every report so figures are never separated from their machine.
public struct MachineInfo: Codable, Sendable {
    public var cpuModel: String
    public var cores: Int
    public var cpuFlags: [String]
    public var cpuMHz: Double?
    public var os: String
    public var swiftVersion: String
    public var buildFlags: String
    public var openBLAS: String
    public var fftw: String
    public var hostname: String

    public static let current: MachineInfo = {
        let field = CPUInfo.field
        let flags = (field("flags") ?? "").split(separator: " ").map(String.init)
            .filter { $0.hasPrefix("avx") || $0 == "fma" || $0.hasPrefix("sse4") }
        let osRelease = (try? String(contentsOfFile: "/etc/os-release", encoding: .utf8)) ?? ""
        let pretty = osRelease.split(separator: "\n").first { $0.hasPrefix("PRETTY_NAME=") }
            .map { $0.dropFirst("PRETTY_NAME=".count).trimmingCharacters(in: CharacterSet(charactersIn: "\"")) } ?? "unknown"
        #if compiler(>=6.3)
        let swift = "6.3 or later"
        #else
        let swift = "before 6.3"
        #endif
        return MachineInfo(
            cpuModel: field("model name") ?? "unknown",
            cores: ProcessInfo.processInfo.activeProcessorCount,
            cpuFlags: flags,
            cpuMHz: field("cpu MHz").flatMap(Double.init),
            os: pretty,
            swiftVersion: swift,
            buildFlags: buildFlags,
            openBLAS: openBLASDescription,
            fftw: String(cString: convbench_fftwf_version()),
            hostname: ProcessInfo.processInfo.hostName)
    }()

    /// OpenBLAS's build and core, and the core convbench replaced (OpenBLASKernels) if it did.
    static var openBLASDescription: String {
        let config = openblas_get_config().map { String(cString: $0) } ?? "unknown"
        let environment = ProcessInfo.processInfo.environment
        guard let replaced = environment[OpenBLASKernels.replacedVariable],
              let core = environment[OpenBLASKernels.variable] else { return config }
        return "\(config) (\(OpenBLASKernels.variable)=\(core) set by convbench: OpenBLAS had chosen \(replaced) for this CPU)"
    }

    #if DEBUG
    static let buildFlags = "debug; kernels -Ounchecked -march=native"
    #else
    static let buildFlags = "release; kernels -Ounchecked -march=native"
    #endif

    /// Clock × FMA units (2) × lanes × 2 FLOPs × threads, with lanes 16 for AVX-512, 8 for AVX2.
    public func theoreticalPeakGFLOPS(threads: Int) -> Double? {
        guard let mhz = cpuMHz else { return nil }
        let lanes = cpuFlags.contains("avx512f") ? 16.0 : (cpuFlags.contains("avx2") ? 8.0 : 4.0)
        return mhz / 1000 * 2 * lanes * 2 * Double(threads)
    }
}

