import ConvCore

/// The CPU's maker, from /proc/cpuinfo (elsewhere `unknown`), for the kernel choices that measured
/// differently on Intel and AMD cores of the same vector width.
enum CPUVendor: Sendable {
    case intel, amd, unknown

    static let current: CPUVendor = {
        switch CPUInfo.field("vendor_id") {
        case "GenuineIntel": .intel
        case "AuthenticAMD": .amd
        default: .unknown
        }
    }()
}
