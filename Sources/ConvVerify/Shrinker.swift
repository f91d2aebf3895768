import ConvAlgorithms
import ConvCore

/// Reduces a failing case to a local minimum: it tries simpler variants one at a time (fewer
/// images and channels, smaller image and kernel, stride and dilation toward 1, padding toward 0,
/// no bias, then simpler data) and keeps any variant that still fails, until none does.
public struct Shrinker: Sendable {
    public var maxAttempts: Int

    public init(maxAttempts: Int = 2000) { self.maxAttempts = maxAttempts }

    public struct Candidate: Sendable {
        public var conv: ConvDescriptor
        public var data: DataKind
    }

    /// Simpler data first: small integers show an indexing bug with exact arithmetic.
    static let dataOrder: [DataKind] = [.smallIntegers, .uniform, .normal]

    /// `stillFails` re-runs the check; it is called at most `maxAttempts` times.
    public func shrink(_ start: Candidate, stillFails: (Candidate) -> Bool) -> (Candidate, steps: Int) {
        var current = start
        var attempts = 0, steps = 0
        var progress = true
        while progress && attempts < maxAttempts {
            progress = false
            for next in variants(of: current) {
                attempts += 1
                if stillFails(next) {
                    current = next
                    steps += 1
                    progress = true
                    break
                }
                if attempts >= maxAttempts { break }
            }
        }
        return (current, steps)
    }

    /// Valid, strictly simpler variants, most aggressive first.
    func variants(of c: Candidate) -> [Candidate] {
        let d = c.conv
        var out: [Candidate] = []
        func add(_ make: (inout Fields) -> Void) {
            var f = Fields(d)
            make(&f)
            if let conv = f.descriptor(), conv != d { out.append(Candidate(conv: conv, data: c.data)) }
        }
        for b in [1, d.batch - 1] where b >= 1 && b < d.batch { add { $0.batch = b } }
        // Channels: drop grouping, then shrink per-group counts.
        if d.groups > 1 {
            add { $0.groups = 1; $0.inChannels = d.inChannelsPerGroup; $0.outChannels = d.outChannelsPerGroup }
            for g in [d.groups / 2, d.groups - 1] where g >= 1 && g < d.groups {
                add { $0.groups = g; $0.inChannels = g * d.inChannelsPerGroup; $0.outChannels = g * d.outChannelsPerGroup }
            }
        }
        for v in Self.smaller(d.inChannelsPerGroup) { add { $0.inChannels = v * d.groups } }
        for v in Self.smaller(d.outChannelsPerGroup) { add { $0.outChannels = v * d.groups } }
        for v in Self.smaller(d.inHeight) { add { $0.inHeight = v } }
        for v in Self.smaller(d.inWidth) { add { $0.inWidth = v } }
        for v in Self.smaller(d.kernelHeight) { add { $0.kernelHeight = v } }
        for v in Self.smaller(d.kernelWidth) { add { $0.kernelWidth = v } }
        for v in Self.smaller(d.strideHeight) { add { $0.strideHeight = v } }
        for v in Self.smaller(d.strideWidth) { add { $0.strideWidth = v } }
        for v in Self.smaller(d.dilationHeight) { add { $0.dilationHeight = v } }
        for v in Self.smaller(d.dilationWidth) { add { $0.dilationWidth = v } }
        for v in Self.towardZero(d.padTop) { add { $0.padTop = v } }
        for v in Self.towardZero(d.padBottom) { add { $0.padBottom = v } }
        for v in Self.towardZero(d.padLeft) { add { $0.padLeft = v } }
        for v in Self.towardZero(d.padRight) { add { $0.padRight = v } }
        for v in Self.towardZero(d.outputPaddingHeight) { add { $0.outputPaddingHeight = v } }
        for v in Self.towardZero(d.outputPaddingWidth) { add { $0.outputPaddingWidth = v } }
        if d.hasBias { add { $0.hasBias = false } }
        if let rank = Self.dataOrder.firstIndex(of: c.data) {
            for simpler in Self.dataOrder[..<rank] { out.append(Candidate(conv: d, data: simpler)) }
        } else {
            for simpler in Self.dataOrder { out.append(Candidate(conv: d, data: simpler)) }
        }
        return out
    }

    /// 1, half, one less — the values below `v` worth trying, smallest first.
    static func smaller(_ v: Int) -> [Int] {
        var s: [Int] = []
        for c in [1, v / 2, v - 1] where c >= 1 && c < v && !s.contains(c) { s.append(c) }
        return s
    }

    static func towardZero(_ v: Int) -> [Int] {
        if v == 0 { return [] }
        var s = [0]
        let step = v > 0 ? v - 1 : v + 1
        if step != 0 { s.append(step) }
        if v > 1 && v / 2 != 0 && !s.contains(v / 2) { s.append(v / 2) }
        return s
    }

    /// Mutable copy of a descriptor's fields.
    struct Fields {
        var batch, groups, inChannels, outChannels, inHeight, inWidth, kernelHeight, kernelWidth: Int
        var strideHeight, strideWidth, padTop, padBottom, padLeft, padRight, dilationHeight, dilationWidth: Int
        var transposed: Bool
        var outputPaddingHeight, outputPaddingWidth: Int
        var hasBias: Bool

        init(_ d: ConvDescriptor) {
            batch = d.batch; groups = d.groups; inChannels = d.inChannels; outChannels = d.outChannels
            inHeight = d.inHeight; inWidth = d.inWidth; kernelHeight = d.kernelHeight; kernelWidth = d.kernelWidth
            strideHeight = d.strideHeight; strideWidth = d.strideWidth
            padTop = d.padTop; padBottom = d.padBottom; padLeft = d.padLeft; padRight = d.padRight
            dilationHeight = d.dilationHeight; dilationWidth = d.dilationWidth; transposed = d.transposed
            outputPaddingHeight = d.outputPaddingHeight; outputPaddingWidth = d.outputPaddingWidth; hasBias = d.hasBias
        }

        func descriptor() -> ConvDescriptor? {
            try? ConvDescriptor(
                batch: batch, groups: groups, inChannels: inChannels, outChannels: outChannels,
                inHeight: inHeight, inWidth: inWidth, kernelHeight: kernelHeight, kernelWidth: kernelWidth,
                strideHeight: strideHeight, strideWidth: strideWidth,
                padTop: padTop, padBottom: padBottom, padLeft: padLeft, padRight: padRight,
                dilationHeight: dilationHeight, dilationWidth: dilationWidth, transposed: transposed,
                outputPaddingHeight: min(outputPaddingHeight, max(strideHeight, dilationHeight) - 1),
                outputPaddingWidth: min(outputPaddingWidth, max(strideWidth, dilationWidth) - 1),
                hasBias: hasBias)
        }
    }
}
