#if canImport(Glibc)
import Glibc
#endif

/// The CPU's maker, from /proc/cpuinfo (elsewhere `unknown`), for the kernel choices that measured
/// differently on Intel and AMD cores of the same vector width.
enum CPUVendor: Sendable {
    case intel, amd, unknown

    static let current: CPUVendor = {
        #if os(Linux)
        guard let file = fopen("/proc/cpuinfo", "r") else { return .unknown }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 1024)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = line.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            guard text.hasPrefix("vendor_id") else { continue }
            if text.contains("GenuineIntel") { return .intel }
            if text.contains("AuthenticAMD") { return .amd }
            return .unknown
        }
        #endif
        return .unknown
    }()
}
