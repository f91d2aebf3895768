/// y[n, o] = Σ_i W[o, i]·x[n, i] + b[o], accumulated in float64 (a classifier layer is small).
enum FullyConnected {
    static func run(_ x: UnsafeBufferPointer<Float>, batch: Int, inFeatures: Int, weights w: UnsafeBufferPointer<Float>,
                    bias: UnsafeBufferPointer<Float>?, _ y: UnsafeMutableBufferPointer<Float>, outFeatures: Int) {
        for n in 0..<batch {
            for o in 0..<outFeatures {
                var sum = bias.map { Double($0[o]) } ?? 0
                for i in 0..<inFeatures { sum += Double(w[o * inFeatures + i]) * Double(x[n * inFeatures + i]) }
                y[n * outFeatures + o] = Float(sum)
            }
        }
    }
}
