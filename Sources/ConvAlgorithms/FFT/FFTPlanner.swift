import CFFTW
import Foundation

/// The one place FFTW plans are made. FFTW's planner is not thread-safe, so planning (and wisdom
/// import and export) is serialized by a lock; executing a plan is thread-safe and runs in
/// parallel through the new-array execute functions. Plans are cached by their full
/// description for the life of the process, so preparing the same layer shape again costs
/// nothing, and FFTW's wisdom can be saved to and loaded from a file so a second process does not
/// pay for `measure` planning again.
public final class FFTPlanner: @unchecked Sendable {
    public static let shared = FFTPlanner()

    /// FFTW's planning rigor: `estimate` (heuristics, instant; the default) or `measure` (times
    /// candidate algorithms; seconds per new size, better plans; use it for benchmarks).
    public enum Rigor: String, Sendable, CaseIterable, Hashable {
        case estimate, measure
        var flags: UInt32 { self == .estimate ? 1 << 6 : 0 }
    }

    private let lock = NSLock()
    private var rigorSetting = Rigor.estimate
    private var plans: [Key: OpaquePointer] = [:]

    /// Which transform a plan computes, with its layout: `count` transforms of `height × width`
    /// reals, the real data `realDistance` apart (unit stride inside), the complex half spectrum
    /// (height × (width/2 + 1)) with element stride `complexStride` and `complexDistance` between
    /// transforms.
    struct Key: Hashable {
        var forward: Bool
        var height: Int, width: Int, count: Int
        var realDistance: Int
        var complexStride: Int, complexDistance: Int
        var rigor: Rigor
    }

    public var rigor: Rigor {
        get { lock.withLock { rigorSetting } }
        set { lock.withLock { rigorSetting = newValue } }
    }

    /// Loads wisdom from `path`. Throws a one-line error if the file cannot be read or parsed.
    public func importWisdom(from path: String) throws {
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw FFTError.wisdom("cannot read FFTW wisdom file '\(path)'")
        }
        let ok = lock.withLock { fftwf_import_wisdom_from_filename(path) }
        if ok == 0 { throw FFTError.wisdom("'\(path)' is not an FFTW single-precision wisdom file") }
    }

    /// Saves the accumulated wisdom to `path` atomically (temporary file, then rename).
    public func exportWisdom(to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).tmp")
        let ok = lock.withLock { fftwf_export_wisdom_to_filename(temporary.path) }
        if ok == 0 { throw FFTError.wisdom("cannot write FFTW wisdom to '\(path)'") }
        if rename(temporary.path, url.path) != 0 {
            try? FileManager.default.removeItem(at: temporary)
            throw FFTError.wisdom("cannot write FFTW wisdom to '\(path)'")
        }
    }

    /// A plan for `key`, made once. Planning uses scratch arrays of the right size (`measure`
    /// overwrites its arrays) and FFTW_UNALIGNED, because execution passes arrays at offsets
    /// whose alignment differs from the planning arrays.
    func plan(_ key: Key) throws -> OpaquePointer {
        try lock.withLock {
            var k = key
            k.rigor = rigorSetting
            if let p = plans[k] { return p }
            let complexCount = (k.count - 1) * k.complexDistance + (k.height * (k.width / 2 + 1) - 1) * k.complexStride + 1
            let realCount = (k.count - 1) * k.realDistance + k.height * k.width
            let real = fftwf_alloc_real(realCount)!
            let complex = fftwf_alloc_complex(complexCount)!
            defer { fftwf_free(real); fftwf_free(complex) }
            var n: [Int32] = [Int32(k.height), Int32(k.width)]
            let flags = k.rigor.flags | (1 << 1)   // FFTW_UNALIGNED
            let plan: OpaquePointer? = n.withUnsafeMutableBufferPointer { n in
                if k.forward {
                    return fftwf_plan_many_dft_r2c(2, n.baseAddress, Int32(k.count), real, nil, 1, Int32(k.realDistance),
                                                   complex, nil, Int32(k.complexStride), Int32(k.complexDistance), flags)
                } else {
                    return fftwf_plan_many_dft_c2r(2, n.baseAddress, Int32(k.count), complex, nil, Int32(k.complexStride),
                                                   Int32(k.complexDistance), real, nil, 1, Int32(k.realDistance), flags)
                }
            }
            guard let plan else {
                throw FFTError.planning("FFTW could not plan \(k.count) transforms of \(k.height)x\(k.width)")
            }
            plans[k] = plan
            return plan
        }
    }

    /// The smallest size ≥ n whose only prime factors are 2, 3, 5 and 7 (FFTW's fast codelets).
    public static func goodSize(atLeast n: Int) -> Int {
        var m = max(n, 1)
        while true {
            var r = m
            for p in [2, 3, 5, 7] { while r % p == 0 { r /= p } }
            if r == 1 { return m }
            m += 1
        }
    }
}

public enum FFTError: Error, CustomStringConvertible, Equatable {
    case wisdom(String)
    case planning(String)

    public var description: String {
        switch self {
        case let .wisdom(m), let .planning(m): return m
        }
    }
}
