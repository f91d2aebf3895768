@testable import ConvAlgorithms
import ConvCore
import Testing

/// im2col-gemm's tap pruning: the regions of equal valid-tap sets, the share of work kept, and the
/// pruned path against the reference on layers where most taps read padding.
@Suite struct TapRegionsTests {
    /// DeepLab v3's ASPP rate 36 on a 64×64 map: rows 0–27 see kernel rows 1–2, rows 28–35 only the
    /// centre, rows 36–63 rows 0–1; 14,400 of 36,864 tap positions are inside (39%).
    @Test func asppRate36Regions() throws {
        let rows = TapRegions.intervals(count: 64, input: 64, taps: 3, stride: 1, dilation: 36, padBegin: 36)
        #expect(rows.map(\.range) == [0..<28, 28..<36, 36..<64])
        #expect(rows.map(\.taps) == [[1, 2], [1], [0, 1]])
        let conv = try ConvDescriptor(inChannels: 4, outChannels: 2, inHeight: 64, inWidth: 64, kernelHeight: 3, kernelWidth: 3,
                                      padTop: 36, padBottom: 36, padLeft: 36, padRight: 36, dilationHeight: 36, dilationWidth: 36)
        let w = Tensor.random(shape: conv.weightShape, .uniform(low: -1, high: 1), seed: 1)
        let regions = try #require(TapRegions(conv, weights: w, plan: Im2colGEMM()))
        #expect(abs(regions.keptFraction - 14_400.0 / 36_864) < 1e-12)
        #expect(regions.regions.count == 9 && regions.regions.map(\.k).reduce(0, +) == 4 * 25)
        // Each region is one band (one GEMM) when its unfold fits the region budget; else equal bands.
        #expect(regions.regions.allSatisfy { $0.bandRows == $0.rows.range.count })
        let corner = try #require(regions.regions.first)  // rows 0..<28 × columns 0..<28, 4 taps: 16 floats per column
        let tight = Im2colGEMM(maxRegionColumnBytes: 16 * 4 * 28 * 10)  // 10 rows of 28 fit
        #expect(tight.regionBandRows(total: 28, rowWidth: 28, k: corner.k) == 10)  // 3 bands of 10, 10, 8 rows
        #expect(Im2colGEMM(maxRegionColumnBytes: 16 * 4 * 28 * 14).regionBandRows(total: 28, rowWidth: 28, k: corner.k) == 14)
        #expect(Im2colGEMM(maxRegionColumnBytes: 1).regionBandRows(total: 28, rowWidth: 28, k: corner.k) == 1)
        // An ordinary 3×3 with padding 1 skips too little to bother.
        let plain = try ConvDescriptor(inChannels: 4, outChannels: 2, inHeight: 56, inWidth: 56, kernelHeight: 3, kernelWidth: 3,
                                       padTop: 1, padBottom: 1, padLeft: 1, padRight: 1)
        #expect(TapRegions(plain, weights: Tensor.random(shape: plain.weightShape, .uniform(low: -1, high: 1), seed: 2),
                           plan: Im2colGEMM()) == nil)
    }

    /// Layers that take the pruned path (checked), through the differential runner: dilation with
    /// padding beyond the map, strides, asymmetric padding, groups, batch, a kernel row that never
    /// lands inside, and bands smaller than a region (a 1 KiB column budget).
    @Test func prunedLayersAgreeWithTheReference() throws {
        let cases = [
            "g1mb1ic5ih9iw11oc3kh3kw3ph5pw5dh4dw4",
            "g2mb2ic6ih13iw7oc4kh3kw3sh2sw2ph6pw3dh5dw2",
            "g1mb1ic3ih6iw6oc2kh5kw3ph4pw1dh2dw0",
            "g1mb1ic4ih10iw10oc5kh3kw3ph12pw12dh11dw11",
        ]
        var seed: UInt64 = 300
        for line in cases {
            let conv = try ConvCase(parsing: line).descriptor
            let w = Tensor.random(shape: conv.weightShape, .uniform(low: -1, high: 1), seed: 3)
            #expect(TapRegions(conv, weights: w, plan: Im2colGEMM()) != nil, "\(line) should take the pruned path")
            let small = Im2colGEMM(maxColumnBytes: 1 << 10, cacheBytes: 1 << 10, minColumns: 1, maxRegionColumnBytes: 1 << 10)
            #expect(TapRegions(conv, weights: w, plan: small) != nil)
            seed += 2
            expectAgreement(Im2colGEMM(), on: conv, seed: seed)
            expectAgreement(small, on: conv, seed: seed + 1)
        }
    }
}
