import Testing
@testable import ConvCore

@Suite struct TensorTests {
    @Test func storageIsSixtyFourByteAligned() {
        for n in [1, 3, 17, 1000] {
            let t = Tensor(shape: [n])
            t.withUnsafeBufferPointer { #expect(Int(bitPattern: $0.baseAddress!) % 64 == 0) }
        }
    }

    @Test func seededFillsAreDeterministicAndDistinctBySeed() {
        let a = Tensor.random(shape: [4, 5], .uniform(low: -1, high: 1), seed: 1)
        let b = Tensor.random(shape: [4, 5], .uniform(low: -1, high: 1), seed: 1)
        let c = Tensor.random(shape: [4, 5], .uniform(low: -1, high: 1), seed: 2)
        #expect(a == b)
        #expect(a != c)
        #expect(a.scalars.allSatisfy { $0 >= -1 && $0 < 1 })
        let ints = Tensor.random(shape: [1000], .integers(low: -3, high: 3), seed: 5)
        #expect(Set(ints.scalars) == Set([-3, -2, -1, 0, 1, 2, 3].map(Float.init)))
        let normal = Tensor.random(shape: [20000], .normal(mean: 0, std: 2), seed: 9).scalars
        let mean = normal.reduce(0, +) / Float(normal.count)
        let variance = normal.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(normal.count)
        #expect(abs(mean) < 0.05 && abs(variance - 4) < 0.2)
    }

    @Test func copyOnWriteKeepsValueSemantics() {
        let a = Tensor(shape: [3], values: [1, 2, 3])
        var b = a
        b[0] = 9
        #expect(a.scalars == [1, 2, 3])
        #expect(b.scalars == [9, 2, 3])
    }
}

/// Buffers of 2 MiB and more start on a 2 MiB boundary (so their whole huge pages can be huge
/// pages); smaller ones on 64 bytes, as kernels' aligned loads need.
@Suite struct AlignedMemoryTests {
    @Test func largeBuffersStartOnHugePageBoundaries() {
        for floats in [AlignedMemory.hugePageBytes / 4, AlignedMemory.hugePageBytes / 4 + 17, 5_000_000] {
            let p = AlignedMemory.allocate(floats: floats)
            defer { p.deallocate() }
            #expect(Int(bitPattern: p) % AlignedMemory.hugePageBytes == 0, "\(floats) floats")
            p[floats - 1] = 1
            #expect(p[floats - 1] == 1)
        }
        for floats in [1, 100, AlignedMemory.hugePageBytes / 4 - 1] {
            let p = AlignedMemory.allocate(floats: floats)
            defer { p.deallocate() }
            #expect(Int(bitPattern: p) % Tensor.alignment == 0, "\(floats) floats")
        }
        let t = Tensor(shape: [1, 728, 19, 19 * 4])
        t.withUnsafeBufferPointer { #expect(Int(bitPattern: $0.baseAddress!) % AlignedMemory.hugePageBytes == 0) }
    }
}
