import CBLAS
import ConvAlgorithms
import ConvCore
import Foundation

/// What this machine can do, measured in the same run as the layers, so every figure can be given
/// as a fraction of it and runs on different machines can be compared.
public struct Calibration: Codable, Sendable {
    /// SGEMM rate at `sgemmSize`³ with the run's thread count (GFLOP/s).
    public var sgemmGFLOPS: Double
    public var sgemmSize: Int
    /// Streaming copy bandwidth (bytes read + written per second) over `copyBytes`-byte buffers.
    public var copyBytesPerSecond: Double
    public var copyBytes: Int
    /// Nominal peak from the CPU clock and vector width, where it can be read (GFLOP/s).
    public var theoreticalPeakGFLOPS: Double?
    public var threads: Int

    public init(sgemmGFLOPS: Double, sgemmSize: Int, copyBytesPerSecond: Double, copyBytes: Int,
                theoreticalPeakGFLOPS: Double?, threads: Int) {
        self.sgemmGFLOPS = sgemmGFLOPS
        self.sgemmSize = sgemmSize
        self.copyBytesPerSecond = copyBytesPerSecond
        self.copyBytes = copyBytes
        self.theoreticalPeakGFLOPS = theoreticalPeakGFLOPS
        self.threads = threads
    }

    public static func measure(threads: Int, policy: TimingPolicy, sgemmSize: Int = 1024,
                               copyBytes: Int = 64 << 20) -> Calibration {
        SGEMM.setThreads(threads)
        let n = sgemmSize
        let a = Tensor.random(shape: [n * n], .uniform(low: -1, high: 1), seed: 1)
        let b = Tensor.random(shape: [n * n], .uniform(low: -1, high: 1), seed: 2)
        var c = Tensor(shape: [n * n])
        let gemm = a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    policy.measure {
                        SGEMM.multiply(m: n, n: n, k: n, a: pa.baseAddress!, lda: n, b: pb.baseAddress!, ldb: n,
                                       c: pc.baseAddress!, ldc: n, beta: 0)
                    }
                }
            }
        }
        let floats = copyBytes / MemoryLayout<Float>.stride
        let src = Workspace(count: floats), dst = Workspace(count: floats)
        let copy = policy.measure {
            parallelFor(threads: threads, count: floats) { r in
                (dst.pointer + r.lowerBound).update(from: src.pointer + r.lowerBound, count: r.count)
            }
        }
        return Calibration(
            sgemmGFLOPS: 2 * Double(n * n * n) / gemm.median / 1e9, sgemmSize: n,
            copyBytesPerSecond: 2 * Double(copyBytes) / copy.median, copyBytes: copyBytes,
            theoreticalPeakGFLOPS: MachineInfo.current.theoreticalPeakGFLOPS(threads: threads), threads: threads)
    }
}

/// The matrix product a convolution amounts to: per image and group,
/// [Cout/g × (Cin/g)·kH·kW] · [(Cin/g)·kH·kW × Hout·Wout] (forward), so the same FLOPs.
public enum EquivalentGEMM {
    public static func shape(_ c: ConvDescriptor) -> (m: Int, n: Int, k: Int, count: Int) {
        if c.transposed {
            return (c.outChannelsPerGroup * c.kernelHeight * c.kernelWidth, c.inHeight * c.inWidth,
                    c.inChannelsPerGroup, c.batch * c.groups)
        }
        return (c.outChannelsPerGroup, c.outHeight * c.outWidth,
                c.inChannelsPerGroup * c.kernelHeight * c.kernelWidth, c.batch * c.groups)
    }

    /// Times the equivalent SGEMMs and returns their rate in GFLOP/s.
    public static func rate(_ c: ConvDescriptor, threads: Int, policy: TimingPolicy) -> (gflops: Double, stats: TimingStats) {
        let (m, n, k, count) = shape(c)
        SGEMM.setThreads(threads)
        let a = Tensor.random(shape: [m * k], .uniform(low: -1, high: 1), seed: 3)
        let b = Tensor.random(shape: [k * n], .uniform(low: -1, high: 1), seed: 4)
        var out = Tensor(shape: [m * n])
        let stats = a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                out.withUnsafeMutableBufferPointer { pc in
                    policy.measure {
                        for _ in 0..<count {
                            SGEMM.multiply(m: m, n: n, k: k, a: pa.baseAddress!, lda: k, b: pb.baseAddress!, ldb: n,
                                           c: pc.baseAddress!, ldc: n, beta: 0)
                        }
                    }
                }
            }
        }
        return (2 * Double(m * n * k * count) / stats.median / 1e9, stats)
    }
}
