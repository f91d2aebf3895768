import Testing
@testable import ConvCore

@Suite struct CaseRoundTripTests {
    /// Random valid descriptors across every geometry feature; print, parse, compare.
    @Test func printingThenParsingGivesTheSameDescriptor() throws {
        let seed: UInt64 = 20261123
        var rng = SeededGenerator(seed: seed)
        func r(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(rng.next() % UInt64(range.count)) }
        var checked = 0
        for _ in 0..<3000 {
            let groups = r(1...3)
            let transposed = r(0...3) == 0
            let (kh, kw) = (r(1...5), r(1...5))
            let (sh, sw) = (r(1...3), r(1...3))
            let (dh, dw) = (r(1...3), r(1...3))
            let d: ConvDescriptor
            do {
                d = try ConvDescriptor(
                    batch: r(1...3), groups: groups, inChannels: groups * r(1...3), outChannels: groups * r(1...3),
                    inHeight: r(1...12), inWidth: r(1...12), kernelHeight: kh, kernelWidth: kw,
                    strideHeight: sh, strideWidth: sw,
                    padTop: r(0...4), padBottom: r(-2...4), padLeft: r(0...4), padRight: r(-2...4),
                    dilationHeight: dh, dilationWidth: dw, transposed: transposed,
                    outputPaddingHeight: transposed ? r(0...(max(sh, dh) - 1)) : 0,
                    outputPaddingWidth: transposed ? r(0...(max(sw, dw) - 1)) : 0,
                    hasBias: r(0...1) == 1)
            } catch { continue }    // invalid draws are fine; the validation tests cover them
            let line = d.caseLine
            let back = try ConvDescriptor(parsing: line)
            #expect(back == d, "seed \(seed): \(line)")
            checked += 1
        }
        #expect(checked > 1000)
    }

    @Test func canonicalLineIsBenchdnnReadable() throws {
        let d = try ConvDescriptor(batch: 1, inChannels: 64, outChannels: 64, inHeight: 56, inWidth: 56,
                                   kernelHeight: 3, kernelWidth: 3, padTop: 1, padBottom: 1, padLeft: 1, padRight: 1,
                                   hasBias: true)
        #expect(d.caseLine == "g1mb1ic64ih56iw56oc64oh56ow56kh3kw3sh1sw1ph1pw1dh0dw0")
    }
}
