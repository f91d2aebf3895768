import Foundation

/// Softmax over dimension 1 of `[N, C, …]`: for each image and position, exp(x − max) normalized
/// (subtracting the max keeps exp from overflowing), in float64.
enum Softmax {
    static func run(_ x: UnsafeBufferPointer<Float>, shape s: [Int], _ y: UnsafeMutableBufferPointer<Float>) {
        let channels = s[1]
        let inner = s.dropFirst(2).reduce(1, *)
        var e = [Double](repeating: 0, count: channels)
        for n in 0..<s[0] {
            for p in 0..<inner {
                let base = n * channels * inner + p
                var m = -Double.infinity
                for c in 0..<channels { m = Swift.max(m, Double(x[base + c * inner])) }
                var sum = 0.0
                for c in 0..<channels {
                    e[c] = exp(Double(x[base + c * inner]) - m)
                    sum += e[c]
                }
                for c in 0..<channels { y[base + c * inner] = Float(e[c] / sum) }
            }
        }
    }
}
