import ConvCore

/// Where the output tiles of one image lie, for a 3×3 stride-1 convolution with dilation (dh, dw).
///
/// A convolution with dilation d is d² dense convolutions on interleaved sub-grids: output rows
/// a, a+d, a+2d, … (phase a) read input rows a − padTop + d·(u + kh), again a sub-grid with
/// step d. So every tile, dense or dilated, is an m×m block of output positions with a step,
/// reading an α×α block of input positions with the same step; positions outside the input are
/// padding (zero). Tiles of all phases go into one list, so the matrix products see many tiles
/// even when each phase is small (ASPP rate 12 on 64×64 has phases about 5×5).
final class WinogradTiles: @unchecked Sendable {
    /// Per tile: first input row read (may be negative: padding), first output row and column
    /// written, and how many of the m×m outputs fall inside the output. Plain pointers: the
    /// gather and scatter loops read them per tile.
    let inRow, outRow, outCol, rows, cols: UnsafeMutablePointer<Int32>
    let count: Int
    /// Every position any tile reads, image and padding, laid out by sub-grid (see `SubgridPlane`),
    /// and per tile the offset of its α×α input block there: α rows of α neighbours, `width` apart.
    let inputPlane: SubgridPlane
    let stagedIn: UnsafeMutablePointer<Int32>

    init(_ c: ConvDescriptor, m: Int) {
        let alpha = m + 2
        let dh = c.dilationHeight, dw = c.dilationWidth
        var fields = [[Int32]](repeating: [], count: 6)
        for a in 0..<min(dh, c.outHeight) {
            let phaseRows = (c.outHeight - a + dh - 1) / dh
            for th in stride(from: 0, to: phaseRows, by: m) {
                let r0 = a - c.padTop + dh * th
                // The sub-grids' tiles at the same place side by side: their first output columns
                // are neighbours, so with dilation the scatter stores runs of them as vectors.
                for tw in stride(from: 0, to: (c.outWidth + dw - 1) / dw, by: m) {
                    for b in 0..<min(dw, c.outWidth) {
                        let phaseCols = (c.outWidth - b + dw - 1) / dw
                        guard tw < phaseCols else { break }
                        let c0 = b - c.padLeft + dw * tw
                        let values = [r0, c0, a + dh * th, b + dw * tw, min(m, phaseRows - th), min(m, phaseCols - tw)]
                        for (f, v) in values.enumerated() { fields[f].append(Int32(v)) }
                    }
                }
            }
        }
        count = fields[0].count
        let firstRow = Int(fields[0].min() ?? 0), lastRow = Int(fields[0].max() ?? 0) + dh * (alpha - 1)
        let firstColumn = Int(fields[1].min() ?? 0), lastColumn = Int(fields[1].max() ?? 0) + dw * (alpha - 1)
        inputPlane = SubgridPlane(rows: min(0, firstRow)..<max(c.inHeight, lastRow + 1),
                                  columns: min(0, firstColumn)..<max(c.inWidth, lastColumn + 1), step: (dh, dw))
        let plane = inputPlane
        stagedIn = .allocate(capacity: max(count, 1))
        for i in 0..<count { stagedIn[i] = Int32(plane.offset(row: Int(fields[0][i]), column: Int(fields[1][i]))) }
        func copy<T>(_ values: [T]) -> UnsafeMutablePointer<T> {
            let p = UnsafeMutablePointer<T>.allocate(capacity: max(values.count, 1))
            p.initialize(from: values, count: values.count)
            return p
        }
        inRow = copy(fields[0])
        outRow = copy(fields[2]); outCol = copy(fields[3])
        rows = copy(fields[4]); cols = copy(fields[5])
    }

    deinit {
        for p in [inRow, outRow, outCol, rows, cols, stagedIn] { p.deallocate() }
    }
}

/// A region of a plane stored by sub-grid: position (r, c) goes to row (r′ mod dh)·rowsPerPhase +
/// r′/dh and column (c′ mod dw)·columnsPerPhase + c′/dw, where r′ and c′ count from the region's
/// first row and column. The positions a dilated tile reads, every dh-th row and dw-th column,
/// are then neighbours, so a tile's rows load as whole vectors; with no dilation it is a plain
/// copy of the region.
struct SubgridPlane {
    let firstRow, firstColumn: Int
    let rowStep, columnStep: Int
    let rowsPerPhase, columnsPerPhase: Int

    init(rows: Range<Int>, columns: Range<Int>, step: (Int, Int)) {
        firstRow = rows.lowerBound; firstColumn = columns.lowerBound
        (rowStep, columnStep) = step
        rowsPerPhase = (rows.count + rowStep - 1) / rowStep
        columnsPerPhase = (columns.count + columnStep - 1) / columnStep
    }

    var width: Int { columnStep * columnsPerPhase }
    /// Floats, with eight more: a tile's row loads as one 8-lane vector even when α < 8.
    var count: Int { rowStep * rowsPerPhase * width + 8 }

    func rowOffset(_ r: Int) -> Int {
        let rr = r - firstRow
        return ((rr % rowStep) * rowsPerPhase + rr / rowStep) * width
    }

    func columnOffset(_ c: Int) -> Int {
        let cc = c - firstColumn
        return (cc % columnStep) * columnsPerPhase + cc / columnStep
    }

    func offset(row r: Int, column c: Int) -> Int { rowOffset(r) + columnOffset(c) }

    /// Copies rows `rows` of an image `imageWidth` wide into their places; the padding positions
    /// are never written, so they keep the zeros the plane starts with.
    @inline(__always)
    func stage(_ x: UnsafePointer<Float>, imageWidth iw: Int, rows: Range<Int>, into plane: UnsafeMutablePointer<Float>) {
        for r in rows {
            let src = x + r * iw, dst = plane + rowOffset(r)
            if columnStep == 1 {
                (dst + columnOffset(0)).update(from: src, count: iw)
                continue
            }
            // One sub-grid column at a time: strided reads, contiguous writes.
            for phase in 0..<min(columnStep, iw) {
                let out = dst + columnOffset(phase)
                var c = phase, n = 0
                while c < iw {
                    out[n] = src[c]
                    c += columnStep; n += 1
                }
            }
        }
    }
}

/// A transform matrix as the nonzero terms of each row, so the vector loops skip the zeros
/// (Bᵀ of F(4,3) is a third zeros). Plain pointers: the kernels read them without array overhead.
final class SparseRows: @unchecked Sendable {
    /// Row i's terms are start[i]..<start[i+1]: column[t] with coefficient[t].
    let start: UnsafeMutablePointer<Int>
    let column: UnsafeMutablePointer<Int>
    let coefficient: UnsafeMutablePointer<Float>

    init(_ matrix: [Double], rows: Int, columns: Int) {
        let nonzero = matrix.filter { $0 != 0 }.count
        start = .allocate(capacity: rows + 1)
        column = .allocate(capacity: max(nonzero, 1))
        coefficient = .allocate(capacity: max(nonzero, 1))
        var t = 0
        for i in 0..<rows {
            start[i] = t
            for j in 0..<columns where matrix[i * columns + j] != 0 {
                column[t] = j
                coefficient[t] = Float(matrix[i * columns + j])
                t += 1
            }
        }
        start[rows] = t
    }

    deinit {
        start.deallocate()
        column.deallocate()
        coefficient.deallocate()
    }

    /// dst[·] = bias + Σ_terms coefficient · source[column · stride + ·] over `vectors` groups of
    /// eight lanes; four groups at a time so four independent FMA chains hide the FMA latency.
    @inline(__always)
    func combine(row: Int, source: UnsafePointer<Float>, stride: Int, into dst: UnsafeMutablePointer<Float>,
                 vectors: Int, bias: Float = 0) {
        let lo = start[row], hi = start[row + 1]
        var vi = 0
        while vi + 4 <= vectors {
            var a0 = SIMD8<Float>(repeating: bias), a1 = a0, a2 = a0, a3 = a0
            for t in lo..<hi {
                let p = UnsafeRawPointer(source + column[t] * stride + vi * 8)
                let c = SIMD8<Float>(repeating: coefficient[t])
                a0.addProduct(p.loadUnaligned(as: SIMD8<Float>.self), c)
                a1.addProduct(p.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self), c)
                a2.addProduct(p.loadUnaligned(fromByteOffset: 64, as: SIMD8<Float>.self), c)
                a3.addProduct(p.loadUnaligned(fromByteOffset: 96, as: SIMD8<Float>.self), c)
            }
            let d = UnsafeMutableRawPointer(dst + vi * 8)
            d.storeBytes(of: a0, as: SIMD8<Float>.self)
            d.storeBytes(of: a1, toByteOffset: 32, as: SIMD8<Float>.self)
            d.storeBytes(of: a2, toByteOffset: 64, as: SIMD8<Float>.self)
            d.storeBytes(of: a3, toByteOffset: 96, as: SIMD8<Float>.self)
            vi += 4
        }
        while vi < vectors {
            var a = SIMD8<Float>(repeating: bias)
            for t in lo..<hi {
                let p = UnsafeRawPointer(source + column[t] * stride + vi * 8)
                a.addProduct(p.loadUnaligned(as: SIMD8<Float>.self), SIMD8(repeating: coefficient[t]))
            }
            UnsafeMutableRawPointer(dst + vi * 8).storeBytes(of: a, as: SIMD8<Float>.self)
            vi += 1
        }
    }
}
