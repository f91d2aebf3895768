/// The 3×3 stride-1 depthwise kernel for small "same" planes (`DepthwiseSIMD.planeFlat3x3`).
extension DepthwiseSIMD {
    /// Output rows narrower than this, in planes of at least 16 pixels, take `planeFlat3x3` where
    /// the kernels have 32 vector registers: Xception's middle flow (19×19) and exit flow (10×10).
    /// A 19-wide row is two 16-lane vectors in the row kernels (32 lanes for 19 outputs), and
    /// each plane's rows were first copied one by one into a padded plane: on the Emerald Rapids
    /// VM the copy took 28% of the layer, the row kernel 50%.
    static let flatRowLimit = 32

    /// Whether small planes take `planeFlat3x3`: on Intel cores, whose two 512-bit FMA units run a
    /// 16-lane FMA at the rate of an 8-lane one (as `narrowRowsWiden`). Not measured on the Zen 4
    /// VM, where a 16-lane FMA costs two and its narrow rows keep the 8-lane kernel.
    static let flatPlanes = narrowRowsWiden

    /// Whether a plane's geometry suits `planeFlat3x3`: 3×3, stride 1, no dilation, one row and
    /// column of padding on every side (output as large as the input), rows narrower than
    /// `flatRowLimit`, at least 16 pixels, kernels built for 32 vector registers. Such planes take
    /// it where `flatPlanes` holds.
    static func runsFlat(_ p: DirectConvolution.Plan) -> Bool {
        DirectConvolution.wide && p.kh == 3 && p.kw == 3 && p.sh == 1 && p.sw == 1 && p.dh == 1 && p.dw == 1
            && p.rowOffset == 1 && p.colOffset == 1 && p.oh == p.ih && p.ow == p.iw
            && p.ow < flatRowLimit && p.oh * p.ow >= 16
    }

    /// Floats of zeros before and after a staged plane: a row and a column (the taps reach
    /// W + 1 pixels either side), rounded up to whole vectors.
    static func flatMargin(_ p: DirectConvolution.Plan) -> Int { (p.iw + 1 + 15) / 16 * 16 }

    /// Scratch floats per worker for a flat plane with its margins.
    static func flatBufferCount(_ p: DirectConvolution.Plan) -> Int { p.ih * p.iw + 2 * flatMargin(p) + 16 }

    /// Which lanes of each output vector of a flat plane lie in the first or the last column:
    /// there the left or right taps read the row before's last or the row after's first pixel,
    /// which the padding makes zero. One pair of masks per vector start (0, 16, …, and the last
    /// one overlapping the one before, as `SIMDTail.forEachOverlappingVector` walks the plane),
    /// set on the lanes whose tap reads zero (stored as masks: a comparison of stored integers
    /// into a `SIMDMask` was built lane by lane, 13× the time of the whole layer).
    final class FlatColumns: @unchecked Sendable {
        let starts: [Int]
        let left: UnsafeMutablePointer<SIMDMask<SIMD16<Int32>>>
        let right: UnsafeMutablePointer<SIMDMask<SIMD16<Int32>>>

        init(width: Int, pixels: Int) {
            var starts: [Int] = []
            SIMDTail.forEachOverlappingVector(count: pixels, width: 16) { starts.append($0) }
            self.starts = starts
            left = .allocate(capacity: starts.count)
            right = .allocate(capacity: starts.count)
            for (v, i) in starts.enumerated() {
                var l = SIMDMask<SIMD16<Int32>>(), r = SIMDMask<SIMD16<Int32>>()
                for lane in 0..<16 {
                    let column = (i + lane) % width
                    l[lane] = column == 0
                    r[lane] = column == width - 1
                }
                left[v] = l
                right[v] = r
            }
        }

        deinit {
            left.deallocate()
            right.deallocate()
        }
    }

    /// A plane of W-wide rows as one row of 16-lane vectors: output pixel i sums its nine taps at
    /// i + (ky − 1)·W + kx − 1 in the staged plane, whose margins hold the rows above and below,
    /// and the taps that would wrap around a row's end read zero (`FlatColumns`). 19×19 is 23
    /// vectors where the row kernels compute 38. The taps are summed in `plane3x3`'s order from
    /// the bias, a zero where the padded plane has one: the same bits.
    @inline(never)
    static func planeFlat3x3(width: Int, columns: FlatColumns, staged s: UnsafePointer<Float>, w: UnsafePointer<Float>,
                             bias: Float, y: UnsafeMutablePointer<Float>) {
        typealias V = SIMD16<Float>
        let k0 = V(repeating: w[0]), k1 = V(repeating: w[1]), k2 = V(repeating: w[2])
        let k3 = V(repeating: w[3]), k4 = V(repeating: w[4]), k5 = V(repeating: w[5])
        let k6 = V(repeating: w[6]), k7 = V(repeating: w[7]), k8 = V(repeating: w[8])
        let start = V(repeating: bias)
        @inline(__always) func at(_ i: Int) -> V { UnsafeRawPointer(s + i).loadUnaligned(as: V.self) }
        @inline(__always) func at(_ i: Int, keeping edge: SIMDMask<SIMD16<Int32>>) -> V {
            at(i).replacing(with: 0, where: edge)
        }
        columns.starts.withUnsafeBufferPointer { starts in
            // Four vectors at a time: each output's nine taps are one chain of dependent FMAs
            // (36 cycles of latency), and one vector per step left the FMA units waiting.
            var v = 0
            while v + 4 <= starts.count {
                let i0 = starts[v], i1 = starts[v + 1], i2 = starts[v + 2], i3 = starts[v + 3]
                var a0 = start, a1 = start, a2 = start, a3 = start
                @inline(__always) func taps(_ offset: Int, _ k: V, _ edges: UnsafeMutablePointer<SIMDMask<SIMD16<Int32>>>?) {
                    if let edges {
                        a0.addProduct(at(i0 + offset, keeping: edges[v]), k)
                        a1.addProduct(at(i1 + offset, keeping: edges[v + 1]), k)
                        a2.addProduct(at(i2 + offset, keeping: edges[v + 2]), k)
                        a3.addProduct(at(i3 + offset, keeping: edges[v + 3]), k)
                    } else {
                        a0.addProduct(at(i0 + offset), k)
                        a1.addProduct(at(i1 + offset), k)
                        a2.addProduct(at(i2 + offset), k)
                        a3.addProduct(at(i3 + offset), k)
                    }
                }
                taps(-width - 1, k0, columns.left); taps(-width, k1, nil); taps(-width + 1, k2, columns.right)
                taps(-1, k3, columns.left); taps(0, k4, nil); taps(1, k5, columns.right)
                taps(width - 1, k6, columns.left); taps(width, k7, nil); taps(width + 1, k8, columns.right)
                UnsafeMutableRawPointer(y + i0).storeBytes(of: a0, as: V.self)
                UnsafeMutableRawPointer(y + i1).storeBytes(of: a1, as: V.self)
                UnsafeMutableRawPointer(y + i2).storeBytes(of: a2, as: V.self)
                UnsafeMutableRawPointer(y + i3).storeBytes(of: a3, as: V.self)
                v += 4
            }
            // The last vectors one at a time: a single loop of four that repeated the last vector
            // took 1.6 times as long on 728 planes of 19×19.
            while v < starts.count {
                let i = starts[v]
                let left = columns.left[v], right = columns.right[v]
                let above = i - width, below = i + width
                var a = start
                a.addProduct(at(above - 1, keeping: left), k0)
                a.addProduct(at(above), k1)
                a.addProduct(at(above + 1, keeping: right), k2)
                a.addProduct(at(i - 1, keeping: left), k3)
                a.addProduct(at(i), k4)
                a.addProduct(at(i + 1, keeping: right), k5)
                a.addProduct(at(below - 1, keeping: left), k6)
                a.addProduct(at(below), k7)
                a.addProduct(at(below + 1, keeping: right), k8)
                UnsafeMutableRawPointer(y + i).storeBytes(of: a, as: V.self)
                v += 1
            }
        }
    }
}
