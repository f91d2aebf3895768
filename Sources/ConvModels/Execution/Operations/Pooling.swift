import ConvAlgorithms

/// Average pooling over NCHW planes, and global average pooling (max pooling is
/// `ActivationKernels.maxPool`). Windows are clipped to the input.
enum Pooling {
    /// PyTorch's `avg_pool2d`: the divisor is the window clipped to input + padding when
    /// `countsPadding` (`count_include_pad=True`), else the number of input elements in it.
    static func average(_ g: PoolGeometry, countsPadding: Bool, _ x: UnsafeBufferPointer<Float>, inShape s: [Int],
                        _ y: UnsafeMutableBufferPointer<Float>, outShape o: [Int]) {
        let (ih, iw, oh, ow) = (s[2], s[3], o[2], o[3])
        for plane in 0..<(s[0] * s[1]) {
            let xp = x.baseAddress! + plane * ih * iw, yp = y.baseAddress! + plane * oh * ow
            for oy in 0..<oh {
                var ys = oy * g.strideHeight - g.padTop
                var ye = Swift.min(ys + g.kernelHeight, ih + g.padBottom)
                let padded = ye - ys
                ys = Swift.max(ys, 0); ye = Swift.min(ye, ih)
                for ox in 0..<ow {
                    var xs = ox * g.strideWidth - g.padLeft
                    var xe = Swift.min(xs + g.kernelWidth, iw + g.padRight)
                    let divisor = countsPadding ? padded * (xe - xs) : 0
                    xs = Swift.max(xs, 0); xe = Swift.min(xe, iw)
                    var sum: Float = 0
                    for r in ys..<ye {
                        for c in xs..<xe { sum += xp[r * iw + c] }
                    }
                    yp[oy * ow + ox] = sum / Float(countsPadding ? divisor : (ye - ys) * (xe - xs))
                }
            }
        }
    }

    /// Mean of each plane, summed in float64 (`ActivationKernels.planeMeans`).
    static func globalAverage(_ x: UnsafeBufferPointer<Float>, inShape s: [Int], _ y: UnsafeMutableBufferPointer<Float>,
                              threads: Int) {
        ActivationKernels.planeMeans(x.baseAddress!, planes: s[0] * s[1], area: s[2] * s[3], y.baseAddress!, threads: threads)
    }
}
