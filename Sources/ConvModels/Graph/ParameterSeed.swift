import ConvCore
import Foundation

/// Seeds for generated parameters. Each tensor gets its own stream, derived from the model seed,
/// the layer's name and the tensor's role, so a layer's weights do not depend on what was built
/// before it: the same layer name in two graphs (Xception with and without its top) gets the same
/// weights.
enum ParameterSeed {
    /// FNV-1a of "layer#role", mixed with the model seed through one SplitMix64 step.
    static func derive(model: UInt64, layer: String, role: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in (layer + "#" + role).utf8 {
            h ^= UInt64(byte)
            h &*= 0x0000_0100_0000_01B3
        }
        var g = SeededGenerator(seed: h ^ (model &* 0x9E37_79B9_7F4A_7C15))
        return g.next()
    }
}

extension Tensor {
    /// He-normal (Kaiming, fan-in): N(0, 2 / fanIn), so ReLU layers keep activations at the same
    /// scale (He et al. 2015, "Delving Deep into Rectifiers"). Box–Muller using both outputs of
    /// each pair of uniforms: models have tens of millions of weights, and this is most of the
    /// time it takes to set one up.
    static func heNormal(shape: [Int], fanIn: Int, seed: UInt64) -> Tensor {
        let std = (2.0 / Double(fanIn)).squareRoot()
        var t = Tensor(shape: shape)
        var rng = SeededGenerator(seed: seed)
        t.withUnsafeMutableBufferPointer { w in
            var i = 0
            while i < w.count {
                let u1 = max(Double(rng.next() >> 11) * 0x1.0p-53, 0x1.0p-60)
                let u2 = Double(rng.next() >> 11) * 0x1.0p-53
                let r = (-2 * log(u1)).squareRoot() * std
                let angle = 2 * Double.pi * u2
                w[i] = Float(r * cos(angle))
                if i + 1 < w.count { w[i + 1] = Float(r * sin(angle)) }
                i += 2
            }
        }
        return t
    }
}
