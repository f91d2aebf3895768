/// Element-wise operations that stay scalar (ReLU and add are `ActivationKernels`, SIMD and threaded).
enum Elementwise {
    static func copy(_ x: UnsafeBufferPointer<Float>, _ y: UnsafeMutableBufferPointer<Float>) {
        if x.baseAddress == UnsafePointer(y.baseAddress) { return }
        y.baseAddress!.update(from: x.baseAddress!, count: y.count)
    }
}
