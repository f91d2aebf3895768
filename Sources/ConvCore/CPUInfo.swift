import Foundation

/// Fields of /proc/cpuinfo's first processor (Linux; nil elsewhere), read once: the kernels' CPU
/// vendor choice (`CPUVendor`) and the machine facts in reports (`MachineInfo`).
public enum CPUInfo {
    static let text = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""

    /// The value after the colon of the first line starting with `name`.
    public static func field(_ name: String) -> String? {
        for line in text.split(separator: "\n") where line.hasPrefix(name) {
            if let colon = line.firstIndex(of: ":") {
                return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        return nil
    }
}
