/// The matrices of Winograd's minimal filtering algorithm F(m×m, r×r) (Lavin & Gray 2016),
///
///     Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A        d: α×α input tile, g: r×r kernel, α = m + r − 1,
///
/// derived here from interpolation points by the Toom–Cook construction rather than typed in, so
/// the points are the single stated choice. With finite points p₀…p_{α−2} and the point at
/// infinity, the linear convolution s = g ∗ h of a length-r and a length-m sequence is
/// s = V⁻¹ [(V_r g) ⊙ (V_m h)], V_k the α×k evaluation (Vandermonde) matrix with an ∞ row that
/// picks the leading coefficient. Correlation, which is what a CNN layer computes, is the
/// transpose of convolution by g, so y = V_mᵀ [(V_r g) ⊙ (V⁻ᵀ d)]:
///   Aᵀ = V_mᵀ,  G = V_r,  Bᵀ = V⁻ᵀ,
/// with each Lagrange denominator moved from Bᵀ's row into G's row (the fractions live in G,
/// which is transformed once, in float64, at prepare time; Bᵀ and Aᵀ stay small exact numbers).
public struct WinogradTransform: Sendable, Equatable {
    /// Output tile size m.
    public let m: Int
    /// Kernel size r.
    public let r: Int
    /// Input tile size α = m + r − 1.
    public var alpha: Int { m + r - 1 }
    /// The finite interpolation points (α − 1 of them); the point at infinity is implied.
    public let points: [Double]
    /// Aᵀ, m × α, row-major.
    public internal(set) var outputTransform: [Double]
    /// G, α × r, row-major.
    public internal(set) var kernelTransform: [Double]
    /// Bᵀ, α × α, row-major.
    public internal(set) var inputTransform: [Double]

    /// F(2×2, 3×3): points 0, 1, −1 (Lavin & Gray's matrices up to row signs).
    public static let f2x2_3x3 = WinogradTransform(m: 2, r: 3, points: [0, 1, -1])
    /// F(4×4, 3×3): points 0, −1, 1, ½, −2, the choice Barabasz et al. (2020) found most accurate.
    public static let f4x4_3x3 = WinogradTransform(m: 4, r: 3, points: [0, -1, 1, 0.5, -2])
    /// F(6×6, 3×3): points 0, ±1, ±½, ±2. Integer points ±3 instead of ±½ lose about 100× in accuracy.
    public static let f6x6_3x3 = WinogradTransform(m: 6, r: 3, points: [0, 1, -1, 0.5, -0.5, 2, -2])

    public init(m: Int, r: Int, points: [Double]) {
        precondition(m >= 1 && r >= 1 && points.count == m + r - 2, "F(\(m),\(r)) needs \(m + r - 2) finite points")
        precondition(Set(points).count == points.count, "interpolation points must be distinct")
        self.m = m
        self.r = r
        self.points = points
        let alpha = m + r - 1
        let finite = points.count

        // Aᵀ[i][j] = p_j^i; the ∞ column takes the top coefficient (i = m − 1).
        var at = [Double](repeating: 0, count: m * alpha)
        for i in 0..<m {
            for j in 0..<finite { at[i * alpha + j] = Self.power(points[j], i) }
            at[i * alpha + finite] = i == m - 1 ? 1 : 0
        }
        // G[j][k] = p_j^k / Π_{l≠j}(p_j − p_l); the ∞ row takes g's last tap.
        var g = [Double](repeating: 0, count: alpha * r)
        for j in 0..<finite {
            var denominator = 1.0
            for l in 0..<finite where l != j { denominator *= points[j] - points[l] }
            for k in 0..<r { g[j * r + k] = Self.power(points[j], k) / denominator }
        }
        g[finite * r + (r - 1)] = 1
        // Bᵀ row j = coefficients (by ascending power) of Π_{l≠j}(x − p_l), the unnormalized
        // Lagrange basis polynomial of p_j; the ∞ row = coefficients of Π_l(x − p_l).
        var bt = [Double](repeating: 0, count: alpha * alpha)
        for j in 0...finite {
            var poly = [1.0]
            for l in 0..<finite where l != j { poly = Self.multiplyByLinear(poly, root: points[l]) }
            for (power, coefficient) in poly.enumerated() { bt[j * alpha + power] = coefficient }
        }
        outputTransform = at
        kernelTransform = g
        inputTransform = bt
    }

    /// Which matrix `perturbing` changes.
    public enum Matrix: Sendable { case input, kernel, output }

    /// A copy with one coefficient multiplied by `factor`: the mutation the tests must catch.
    public func perturbing(_ matrix: Matrix, index: Int, by factor: Double) -> WinogradTransform {
        var t = self
        switch matrix {
        case .input: t.inputTransform[index] *= factor
        case .kernel: t.kernelTransform[index] *= factor
        case .output: t.outputTransform[index] *= factor
        }
        return t
    }

    private static func power(_ x: Double, _ n: Int) -> Double {
        var y = 1.0
        for _ in 0..<n { y *= x }
        return y
    }

    /// poly(x) · (x − root), coefficients by ascending power.
    private static func multiplyByLinear(_ poly: [Double], root: Double) -> [Double] {
        var out = [Double](repeating: 0, count: poly.count + 1)
        for (i, c) in poly.enumerated() {
            out[i + 1] += c
            out[i] -= root * c
        }
        return out
    }

    /// One-dimensional F(m, r) in float64: y_i = Σ_k g_k d_{i+k} for i < m, through the transforms.
    /// Used by tests to check the derivation against the definition.
    public func correlate1D(input d: [Double], kernel g: [Double]) -> [Double] {
        precondition(d.count == alpha && g.count == r)
        var product = [Double](repeating: 0, count: alpha)
        for j in 0..<alpha {
            var gj = 0.0, dj = 0.0
            for k in 0..<r { gj += kernelTransform[j * r + k] * g[k] }
            for l in 0..<alpha { dj += inputTransform[j * alpha + l] * d[l] }
            product[j] = gj * dj
        }
        return (0..<m).map { i in (0..<alpha).reduce(0.0) { $0 + outputTransform[i * alpha + $1] * product[$1] } }
    }

    /// The transformed kernel G g Gᵀ (α × α, row-major) of one r × r kernel, in float64.
    func transformKernel(_ g: UnsafePointer<Float>) -> [Double] {
        var gg = [Double](repeating: 0, count: alpha * r)    // G g: α × r
        for i in 0..<alpha {
            for k in 0..<r {
                var s = 0.0
                for l in 0..<r { s += kernelTransform[i * r + l] * Double(g[l * r + k]) }
                gg[i * r + k] = s
            }
        }
        var u = [Double](repeating: 0, count: alpha * alpha)  // (G g) Gᵀ
        for i in 0..<alpha {
            for j in 0..<alpha {
                var s = 0.0
                for k in 0..<r { s += gg[i * r + k] * kernelTransform[j * r + k] }
                u[i * alpha + j] = s
            }
        }
        return u
    }
}
