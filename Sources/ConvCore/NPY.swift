import Foundation

/// NumPy `.npy` files (format versions 1, 2 and 3), float32 and float64, little-endian, C order.
/// Anything else is refused with a reason, never a crash: the files come from users.
/// Format: magic "\x93NUMPY", version (major, minor), header length (u16 in v1, u32 in v2/v3),
/// an ASCII Python dict `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`, then data.
public struct NPYArray: Sendable, Equatable {
    public enum Values: Sendable, Equatable {
        case float32([Float])
        case float64([Double])
    }
    public var shape: [Int]
    public var values: Values

    public init(shape: [Int], values: Values) {
        self.shape = shape
        self.values = values
    }

    public var count: Int {
        switch values {
        case let .float32(v): return v.count
        case let .float64(v): return v.count
        }
    }

    /// The elements widened to Double (exact for float32 data).
    public var doubles: [Double] {
        switch values {
        case let .float32(v): return v.map(Double.init)
        case let .float64(v): return v
        }
    }

    /// A float32 tensor (float64 data is rounded to nearest).
    public var tensor: Tensor {
        switch values {
        case let .float32(v): return Tensor(shape: shape, values: v)
        case let .float64(v): return Tensor(shape: shape, values: v.map { Float($0) })
        }
    }
}

public enum NPYError: Error, Equatable, Sendable, CustomStringConvertible {
    case cannotRead(path: String, reason: String)
    case cannotWrite(path: String, reason: String)
    case badMagic
    case unsupportedVersion(major: Int, minor: Int)
    case malformedHeader(String)
    case fortranOrder
    case unsupportedDType(String)
    case truncated(expectedBytes: Int, actualBytes: Int)
    case trailingBytes(Int)
    case shapeMismatch(what: String, expected: [Int], actual: [Int])

    public var description: String {
        switch self {
        case let .cannotRead(path, reason): return "cannot read \(path): \(reason)"
        case let .cannotWrite(path, reason): return "cannot write \(path): \(reason)"
        case .badMagic: return "not a .npy file (bad magic bytes)"
        case let .unsupportedVersion(major, minor): return "unsupported .npy format version \(major).\(minor)"
        case let .malformedHeader(why): return "malformed .npy header: \(why)"
        case .fortranOrder: return ".npy data is in Fortran order; only C order is supported"
        case let .unsupportedDType(d): return "unsupported .npy dtype '\(d)' (expected little-endian float32 '<f4' or float64 '<f8')"
        case let .truncated(expected, actual): return ".npy data is truncated: expected \(expected) bytes, found \(actual)"
        case let .trailingBytes(n): return ".npy file has \(n) unexpected bytes after its data"
        case let .shapeMismatch(what, expected, actual): return "\(what) has shape \(actual), expected \(expected)"
        }
    }
}

public enum NPY {
    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]    // \x93NUMPY

    /// Reads a file.
    public static func read(path: String) throws(NPYError) -> NPYArray {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            let reason = FileManager.default.fileExists(atPath: path) ? "unreadable" : "no such file"
            throw .cannotRead(path: path, reason: reason)
        }
        return try decode([UInt8](data))
    }

    /// Parses the bytes of a `.npy` file.
    public static func decode(_ bytes: [UInt8]) throws(NPYError) -> NPYArray {
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else { throw .badMagic }
        let major = Int(bytes[6]), minor = Int(bytes[7])
        let headerLength: Int, headerStart: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw .truncated(expectedBytes: 12, actualBytes: bytes.count) }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        default:
            throw .unsupportedVersion(major: major, minor: minor)
        }
        let dataStart = headerStart + headerLength
        guard dataStart <= bytes.count else {
            throw .truncated(expectedBytes: dataStart, actualBytes: bytes.count)
        }
        guard let header = String(bytes: bytes[headerStart..<dataStart], encoding: major == 3 ? .utf8 : .ascii) else {
            throw .malformedHeader("header is not text")
        }
        let (descr, fortran, shape) = try parseHeader(header)
        if fortran { throw .fortranOrder }
        let itemSize: Int
        switch descr {
        case "<f4": itemSize = 4
        case "<f8": itemSize = 8
        default: throw .unsupportedDType(descr)
        }
        var count = 1
        for dim in shape {
            let (p, o) = count.multipliedReportingOverflow(by: dim)
            if o { throw .malformedHeader("shape \(shape) overflows") }
            count = p
        }
        let (byteCount, o) = count.multipliedReportingOverflow(by: itemSize)
        if o { throw .malformedHeader("shape \(shape) overflows") }
        let available = bytes.count - dataStart
        if available < byteCount { throw .truncated(expectedBytes: byteCount, actualBytes: available) }
        if available > byteCount { throw .trailingBytes(available - byteCount) }
        return bytes.withUnsafeBytes { raw in
            let base = raw.baseAddress! + dataStart
            if itemSize == 4 {
                let v = (0..<count).map { Float(bitPattern: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
                return NPYArray(shape: shape, values: .float32(v))
            } else {
                let v = (0..<count).map { Double(bitPattern: UInt64(littleEndian: base.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self))) }
                return NPYArray(shape: shape, values: .float64(v))
            }
        }
    }

    /// Reads the three keys of the header dict. Accepts either quote style and any key order.
    static func parseHeader(_ header: String) throws(NPYError) -> (String, Bool, [Int]) {
        let h = header.trimmingCharacters(in: .whitespacesAndNewlines)
        guard h.hasPrefix("{"), h.hasSuffix("}") else { throw .malformedHeader("not a dict") }
        func valueText(after key: String) throws(NPYError) -> Substring {
            for quote in ["'", "\""] {
                if let r = h.range(of: quote + key + quote) {
                    var rest = h[r.upperBound...].drop(while: { $0 == " " })
                    guard rest.first == ":" else { throw .malformedHeader("no ':' after '\(key)'") }
                    rest = rest.dropFirst().drop(while: { $0 == " " })
                    return rest
                }
            }
            throw .malformedHeader("missing key '\(key)'")
        }
        let d = try valueText(after: "descr")
        guard let q = d.first, q == "'" || q == "\"", let end = d.dropFirst().firstIndex(of: q) else {
            throw .malformedHeader("'descr' is not a string")
        }
        let descr = String(d[d.index(after: d.startIndex)..<end])
        let f = try valueText(after: "fortran_order")
        let fortran: Bool
        if f.hasPrefix("True") { fortran = true } else if f.hasPrefix("False") { fortran = false } else {
            throw .malformedHeader("'fortran_order' is not True or False")
        }
        let s = try valueText(after: "shape")
        guard s.first == "(", let close = s.firstIndex(of: ")") else { throw .malformedHeader("'shape' is not a tuple") }
        var shape: [Int] = []
        for part in s[s.index(after: s.startIndex)..<close].split(separator: ",") {
            let t = part.trimmingCharacters(in: .whitespaces)
            if t.isEmpty { continue }
            guard let v = Int(t.hasSuffix("L") ? String(t.dropLast()) : t), v >= 0 else {
                throw .malformedHeader("shape entry '\(t)' is not a non-negative integer")
            }
            shape.append(v)
        }
        return (descr, fortran, shape)
    }

    /// Encodes float32 data as a version 1.0 `.npy` file (header padded to 64 bytes).
    public static func encode(shape: [Int], float32 values: [Float]) -> [UInt8] {
        var out = header(shape: shape, descr: "<f4")
        out.reserveCapacity(out.count + values.count * 4)
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { out.append(contentsOf: $0) } }
        return out
    }

    /// Encodes float64 data as a version 1.0 `.npy` file.
    public static func encode(shape: [Int], float64 values: [Double]) -> [UInt8] {
        var out = header(shape: shape, descr: "<f8")
        out.reserveCapacity(out.count + values.count * 8)
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { out.append(contentsOf: $0) } }
        return out
    }

    static func header(shape: [Int], descr: String) -> [UInt8] {
        let dims = shape.count == 1 ? "\(shape[0])," : shape.map(String.init).joined(separator: ", ")
        var dict = "{'descr': '\(descr)', 'fortran_order': False, 'shape': (\(dims)), }"
        let unpadded = 10 + dict.utf8.count + 1
        dict += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var out = magic + [1, 0]
        let n = dict.utf8.count
        out += [UInt8(n & 0xFF), UInt8(n >> 8)]
        out += Array(dict.utf8)
        return out
    }

    /// Writes `bytes` atomically: a temporary file in the same folder, then a rename, so a reader
    /// never sees half a file and a failed write leaves no file behind.
    public static func writeAtomically(_ bytes: [UInt8], to path: String) throws(NPYError) {
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw .cannotWrite(path: path, reason: (error as NSError).localizedDescription)
        }
    }

    /// Writes a tensor as float32.
    public static func write(_ tensor: Tensor, to path: String) throws(NPYError) {
        try writeAtomically(encode(shape: tensor.shape, float32: tensor.scalars), to: path)
    }
}
