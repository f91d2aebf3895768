import Foundation
import Testing
@testable import ConvCore

@Suite struct NPYTests {
    @Test func float32RoundTripThroughAFile() throws {
        let t = Tensor.random(shape: [2, 3, 4, 5], .normal(mean: 0, std: 1), seed: 7)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("convbench-npy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("t.npy").path
        try NPY.write(t, to: path)
        let back = try NPY.read(path: path)
        #expect(back.shape == [2, 3, 4, 5])
        #expect(back.tensor == t)
        // Header padded so the data starts on a 64-byte boundary, as NumPy writes it.
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        #expect((10 + headerLength) % 64 == 0)
        // Atomic write leaves no temporary file beside it.
        let siblings = try FileManager.default.contentsOfDirectory(atPath: (path as NSString).deletingLastPathComponent)
        #expect(siblings == ["t.npy"])
    }

    @Test func float64AndOneDimensionalAndScalarShapes() throws {
        let v: [Double] = [1.5, -2.25, 1e-300, .infinity]
        let a = try NPY.decode(NPY.encode(shape: [4], float64: v))
        #expect(a.shape == [4] && a.doubles == v)
        let s = try NPY.decode(NPY.encode(shape: [], float32: [3]))
        #expect(s.shape == [] && s.count == 1)
    }

    /// A version 2.0 header as NumPy writes it for very large dicts (u32 length).
    @Test func readsVersionTwoHeaders() throws {
        var dict = "{\"descr\": \"<f4\", \"shape\": (2,), \"fortran_order\": False}"
        dict += String(repeating: " ", count: (64 - (12 + dict.utf8.count + 1) % 64) % 64) + "\n"
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [2, 0]
        let n = dict.utf8.count
        bytes += [UInt8(n & 0xFF), UInt8(n >> 8 & 0xFF), 0, 0] + Array(dict.utf8)
        for f: Float in [1, 2] { withUnsafeBytes(of: f.bitPattern.littleEndian) { bytes += $0 } }
        let a = try NPY.decode(bytes)
        #expect(a.values == .float32([1, 2]))
    }

    func withHeader(_ dict: String, data: [UInt8] = []) -> [UInt8] {
        var d = dict
        d += String(repeating: " ", count: (64 - (10 + d.utf8.count + 1) % 64) % 64) + "\n"
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(d.utf8.count & 0xFF), UInt8(d.utf8.count >> 8)] + Array(d.utf8) + data
    }

    @Test func errorsAreClearNeverCrashes() throws {
        let good = NPY.encode(shape: [2, 2], float32: [1, 2, 3, 4])
        #expect(throws: NPYError.badMagic) { try NPY.decode(Array("hello world, not npy".utf8)) }
        #expect(throws: NPYError.badMagic) { try NPY.decode([]) }
        #expect(throws: NPYError.truncated(expectedBytes: 16, actualBytes: 12)) { try NPY.decode(Array(good.dropLast(4))) }
        #expect(throws: NPYError.truncated(expectedBytes: 128, actualBytes: 40)) { try NPY.decode(Array(good.prefix(40))) }
        #expect(throws: NPYError.trailingBytes(3)) { try NPY.decode(good + [0, 0, 0]) }
        var v9 = good; v9[6] = 9
        #expect(throws: NPYError.unsupportedVersion(major: 9, minor: 0)) { try NPY.decode(v9) }
        #expect(throws: NPYError.fortranOrder) {
            try NPY.decode(withHeader("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", data: Array(repeating: 0, count: 16)))
        }
        #expect(throws: NPYError.unsupportedDType("<i4")) {
            try NPY.decode(withHeader("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", data: Array(repeating: 0, count: 8)))
        }
        #expect(throws: NPYError.unsupportedDType(">f4")) {
            try NPY.decode(withHeader("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", data: Array(repeating: 0, count: 8)))
        }
        #expect(throws: NPYError.malformedHeader("missing key 'shape'")) {
            try NPY.decode(withHeader("{'descr': '<f4', 'fortran_order': False, }"))
        }
        #expect(throws: NPYError.malformedHeader("shape entry '-2' is not a non-negative integer")) {
            try NPY.decode(withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }"))
        }
        #expect(throws: NPYError.malformedHeader("shape [4611686018427387904, 4] overflows")) {
            try NPY.decode(withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4), }"))
        }
        #expect(throws: NPYError.malformedHeader("not a dict")) { try NPY.decode(withHeader("garbage")) }
        let missing = "/nonexistent/dir/x.npy"
        #expect(throws: NPYError.cannotRead(path: missing, reason: "no such file")) { try NPY.read(path: missing) }
        #expect(throws: NPYError.self) { try NPY.write(Tensor(shape: [1]), to: "/nonexistent/dir/y.npy") }
    }
}
