import ConvCore

/// Draws convolution cases over all the geometry CNNs use, weighted toward the edges where
/// indexing bugs live: a dilated kernel exactly as large as the padded input, a 1×1 output or a
/// single output row, one channel, a 1×1 image, prime sizes, padding larger than the kernel,
/// negative end padding. Sizes stay small so thousands of cases run in minutes.
public struct CaseGenerator: Sendable {
    /// Upper bound on multiply-accumulates per case (keeps the float64 reference fast).
    public var maxMACs: Int
    /// Upper bound on output elements per case.
    public var maxOutputElements: Int

    public init(maxMACs: Int = 300_000, maxOutputElements: Int = 40_000) {
        self.maxMACs = maxMACs
        self.maxOutputElements = maxOutputElements
    }

    static let primes = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37]

    public func next(_ rng: inout SeededGenerator) -> ConvDescriptor {
        while true {
            if let d = draw(&rng), d.multiplyAccumulates <= maxMACs, d.outputCount <= maxOutputElements {
                return d
            }
        }
    }

    private func pick<T>(_ choices: [T], _ rng: inout SeededGenerator) -> T {
        choices[Int(rng.next() % UInt64(choices.count))]
    }

    private func int(_ r: ClosedRange<Int>, _ rng: inout SeededGenerator) -> Int {
        r.lowerBound + Int(rng.next() % UInt64(r.count))
    }

    private func chance(_ p: Double, _ rng: inout SeededGenerator) -> Bool { rng.nextUnit() < p }

    private func size(_ rng: inout SeededGenerator) -> Int {
        switch int(0...9, &rng) {
        case 0...3: return int(1...8, &rng)
        case 4...7: return int(9...24, &rng)
        default: return pick(Self.primes, &rng)
        }
    }

    private func dilation(_ rng: inout SeededGenerator) -> Int {
        let u = rng.nextUnit()
        if u < 0.55 { return 1 }
        if u < 0.85 { return int(2...4, &rng) }
        return pick([5, 6, 8, 12, 18, 24, 36], &rng)
    }

    private func draw(_ rng: inout SeededGenerator) -> ConvDescriptor? {
        let transposed = chance(0.2, &rng)
        let batch = pick([1, 1, 1, 1, 1, 1, 1, 2, 2, 3], &rng)
        var groups = 1, cin = 1, cout = 1
        switch int(0...19, &rng) {
        case 0:     // wide: enough channels to cross the kernels' channel blocking
            cin = pick([33, 40, 64, 70], &rng); cout = pick([5, 9, 17, 36], &rng)
        case 1...11:
            cin = pick([1, 1, 2, 3, 4, 5, 8, 16], &rng); cout = pick([1, 1, 2, 3, 4, 6, 8, 16], &rng)
        case 12...15:
            groups = int(2...4, &rng); cin = groups * int(1...4, &rng); cout = groups * int(1...4, &rng)
        default:    // depthwise, depth multiplier 1–3
            groups = pick([1, 2, 3, 4, 5, 8], &rng); cin = groups; cout = groups * int(1...3, &rng)
        }
        var kh = pick([1, 1, 2, 3, 3, 3, 4, 5, 5, 7, 7, 9, 11], &rng)
        var kw = chance(0.25, &rng) ? pick([1, 2, 3, 5, 7, 11], &rng) : kh
        let sh = pick([1, 1, 1, 1, 2, 2, 2, 3, 4], &rng)
        let sw = chance(0.2, &rng) ? pick([1, 2, 3, 4], &rng) : sh
        var dh = dilation(&rng)
        var dw = chance(0.25, &rng) ? dilation(&rng) : dh
        if kh == 1 { dh = 1 }
        if kw == 1 { dw = 1 }
        var ih = size(&rng), iw = chance(0.3, &rng) ? size(&rng) : ih
        func pad(_ extent: Int, _ rng: inout SeededGenerator) -> Int {
            chance(0.1, &rng) ? int(extent...(extent + 3), &rng) : int(0...max(0, min(extent - 1, 12)), &rng)
        }
        var extentH = (kh - 1) * dh + 1, extentW = (kw - 1) * dw + 1
        var pt = pad(extentH, &rng), pb = chance(0.6, &rng) ? pt : pad(extentH, &rng)
        var pl = pad(extentW, &rng), pr = chance(0.6, &rng) ? pl : pad(extentW, &rng)
        var oph = 0, opw = 0
        if transposed {
            // PyTorch's transposed padding stays within the kernel's reach.
            pt = min(pt, extentH - 1); pb = min(pb, extentH - 1); pl = min(pl, extentW - 1); pr = min(pr, extentW - 1)
            oph = int(0...(max(sh, dh) - 1), &rng); opw = int(0...(max(sw, dw) - 1), &rng)
        } else {
            // Edge tweaks, forward only (their geometry is about the padded input).
            switch int(0...19, &rng) {
            case 0:  // dilated kernel exactly the padded input: one output row
                ih = max(1, extentH - pt - pb); pb = extentH - pt - ih
            case 1:  // 1×1 output
                ih = max(1, extentH - pt - pb); pb = extentH - pt - ih
                iw = max(1, extentW - pl - pr); pr = extentW - pl - iw
            case 2:  // one channel
                groups = 1; cin = 1; cout = 1
            case 3:  // 1×1 image
                ih = 1; iw = 1
            case 4:  // negative end padding: the last rows and columns are never read
                if ih + pt > extentH { pb = -int(1...(min(ih + pt - extentH, 3)), &rng) }
                if iw + pl > extentW { pr = -int(1...(min(iw + pl - extentW, 3)), &rng) }
            case 5:  // asymmetric kernel with asymmetric dilation
                kh = pick([1, 3], &rng); kw = pick([5, 7], &rng); dh = 1; dw = int(1...3, &rng)
                extentH = (kh - 1) * dh + 1; extentW = (kw - 1) * dw + 1
            default: break
            }
            // Make the padded input hold the dilated kernel.
            if ih + pt + pb < extentH { ih = extentH - pt - pb }
            if iw + pl + pr < extentW { iw = extentW - pl - pr }
            if ih < 1 { pb += 1 - ih; ih = 1 }
            if iw < 1 { pr += 1 - iw; iw = 1 }
        }
        return try? ConvDescriptor(
            batch: batch, groups: groups, inChannels: cin, outChannels: cout, inHeight: ih, inWidth: iw,
            kernelHeight: kh, kernelWidth: kw, strideHeight: sh, strideWidth: sw,
            padTop: pt, padBottom: pb, padLeft: pl, padRight: pr, dilationHeight: dh, dilationWidth: dw,
            transposed: transposed, outputPaddingHeight: oph, outputPaddingWidth: opw, hasBias: chance(0.7, &rng))
    }
}
