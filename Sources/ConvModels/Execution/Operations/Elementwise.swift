/// Element-wise operations. Operands may alias the output (the buffer plan runs these in place).
enum Elementwise {
    static func add(_ a: UnsafeBufferPointer<Float>, _ b: UnsafeBufferPointer<Float>, _ y: UnsafeMutableBufferPointer<Float>) {
        for i in 0..<y.count { y[i] = a[i] + b[i] }
    }

    static func relu(_ x: UnsafeBufferPointer<Float>, _ y: UnsafeMutableBufferPointer<Float>) {
        for i in 0..<y.count { y[i] = Swift.max(x[i], 0) }
    }

    static func reluInPlace(_ y: UnsafeMutableBufferPointer<Float>) {
        for i in 0..<y.count where y[i] < 0 { y[i] = 0 }
    }

    static func copy(_ x: UnsafeBufferPointer<Float>, _ y: UnsafeMutableBufferPointer<Float>) {
        if x.baseAddress == UnsafePointer(y.baseAddress) { return }
        y.baseAddress!.update(from: x.baseAddress!, count: y.count)
    }
}
