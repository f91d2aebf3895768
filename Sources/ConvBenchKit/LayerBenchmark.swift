import CGPerfTools
import ConvAlgorithms
import ConvCore
import Foundation

/// One layer timed under one algorithm.
public struct AlgorithmTiming: Codable, Sendable {
    public enum Status: String, Codable, Sendable {
        /// Timed and judged correct.
        case ok
        /// The algorithm does not support this geometry (reason given): skipped, not failed.
        case unsupported
        /// Ran but disagreed with the judge: never selected.
        case invalid
        /// Threw while preparing or running.
        case error
    }

    public var algorithm: String
    public var status: Status
    public var reason: String?
    public var prepareSeconds: Double?
    public var run: TimingStats?
    /// Direct-convolution FLOPs ÷ median time ("effective" for transform algorithms).
    public var gflops: Double?
    /// gflops ÷ the run's SGEMM calibration rate.
    public var fractionOfSGEMM: Double?
    /// gflops ÷ the rate of this layer's equivalent SGEMM, timed in the same process.
    public var ratioToEquivalentGEMM: Double?
    /// Compulsory bytes ÷ median time ÷ the run's copy bandwidth (how close to memory bound).
    public var fractionOfCopyBandwidth: Double?
    public var workspaceBytes: Int?
    /// Growth of tcmalloc's allocated bytes across one run (0 when `run` allocates nothing).
    public var heapGrowthBytes: Int?
    public var judgement: OutputChecker.Judgement?
    /// Bitwise-identical output on a second run and with one thread.
    public var deterministic: Bool?
    /// Where one run's time goes, for algorithms that account by phase (Winograd: input
    /// transform, multiply, output transform), from one extra run after the timed ones.
    public var phases: [PhaseTime]?

    public struct PhaseTime: Codable, Sendable, Equatable {
        public var name: String
        public var seconds: Double
    }

    public init(algorithm: String, status: Status) {
        self.algorithm = algorithm
        self.status = status
    }
}

/// One layer (one unique shape) and every algorithm's timing on it.
public struct LayerResult: Codable, Sendable {
    public var name: String
    public var caseLine: String
    /// How many layers of the network share this shape.
    public var occurrences: Int
    public var macs: Int
    public var flops: Int
    public var bytes: Int
    public var equivalentGEMMGFLOPS: Double
    public var algorithms: [AlgorithmTiming]
    /// Fastest valid algorithm and its margin over the runner-up (runner-up time ÷ its time − 1; from
    /// the runoff's paired repetitions when there was one).
    public var selected: String?
    public var marginOverRunnerUp: Double?
    /// The two fastest timed again in alternation, when their medians were close (`Runoff`).
    public var runoff: Runoff?

    public init(name: String, caseLine: String, occurrences: Int, macs: Int, flops: Int, bytes: Int,
                equivalentGEMMGFLOPS: Double, algorithms: [AlgorithmTiming], selected: String?, marginOverRunnerUp: Double?) {
        self.name = name; self.caseLine = caseLine; self.occurrences = occurrences
        self.macs = macs; self.flops = flops; self.bytes = bytes
        self.equivalentGEMMGFLOPS = equivalentGEMMGFLOPS; self.algorithms = algorithms
        self.selected = selected; self.marginOverRunnerUp = marginOverRunnerUp
    }
}

/// The two fastest valid algorithms of a layer timed again in alternating repetitions (A B, B A,
/// A B, …). Each algorithm's median comes from its own block of repetitions, taken seconds apart;
/// on a shared host whose speed drifts by 10–70% over minutes, two algorithms within a few percent
/// could swap places by when they happened to be timed. Paired repetitions see the same load, so
/// the median of their ratios decides.
public struct Runoff: Codable, Sendable, Equatable {
    /// [first, second]: the order of their separate medians.
    public var algorithms: [String]
    /// Seconds per repetition, in the order measured.
    public var first: [Double]
    public var second: [Double]
    /// Median over the pairs of second ÷ first: above 1, the first is faster.
    public var medianRatio: Double

    public init(algorithms: [String], first: [Double], second: [Double]) {
        precondition(algorithms.count == 2 && first.count == second.count && !first.isEmpty)
        self.algorithms = algorithms
        self.first = first
        self.second = second
        medianRatio = TimingStats.medianRatio(second, over: first)
    }

    public var winner: String { medianRatio >= 1 ? algorithms[0] : algorithms[1] }
    /// The loser's time ÷ the winner's, − 1, pair by pair.
    public var margin: Double { max(medianRatio, 1 / medianRatio) - 1 }
}

public struct LayerBenchmark {
    public var algorithms: [any ConvolutionAlgorithm]
    public var threads: Int
    public var policy: TimingPolicy
    public var calibration: Calibration
    public var checkDeterminism: Bool
    /// Flush the caches before every timed repetition (`CacheFlusher`); warm cache otherwise.
    public var coldCache: Bool
    /// Collect a gperftools CPU profile of the timed repetitions only (the profiler must have
    /// been started, `CPUProfile.start`; it is enabled around each timed region).
    public var profileTimedRegion: Bool
    /// Runoff (see `Runoff`) when the runner-up's median is within this fraction of the fastest's…
    public var runoffMargin: Double = 0.25
    /// …with this many pairs of repetitions (0: none). From the policy: its minimum repetitions.
    public var runoffRounds: Int

    public init(algorithms: [any ConvolutionAlgorithm], threads: Int, policy: TimingPolicy, calibration: Calibration,
                checkDeterminism: Bool = true, coldCache: Bool = false, profileTimedRegion: Bool = false) {
        self.algorithms = algorithms
        self.threads = threads
        self.policy = policy
        self.calibration = calibration
        self.checkDeterminism = checkDeterminism
        self.coldCache = coldCache
        self.profileTimedRegion = profileTimedRegion
        runoffRounds = policy.minRepetitions
    }

    public func run(name: String, conv: ConvDescriptor, occurrences: Int = 1, seed: UInt64 = 42) -> LayerResult {
        let x = Tensor.random(shape: conv.inputShape, .normal(mean: 0, std: 1), seed: seed)
        let w = Tensor.random(shape: conv.weightShape, .normal(mean: 0, std: 0.1), seed: seed + 1)
        let b = conv.hasBias ? Tensor.random(shape: conv.biasShape, .normal(mean: 0, std: 1), seed: seed + 2) : nil
        let checker = OutputChecker(conv: conv, input: x, weights: w, bias: b, threads: threads)
        let gemm = EquivalentGEMM.rate(conv, threads: threads, policy: policy).gflops
        var timings: [AlgorithmTiming] = []
        for algorithm in algorithms where algorithm.name != "reference" {
            timings.append(time(algorithm, conv: conv, x: x, w: w, b: b, checker: checker, gemmGFLOPS: gemm))
        }
        let valid = timings.filter { $0.status == .ok }.sorted { $0.run!.median < $1.run!.median }
        var result = LayerResult(
            name: name, caseLine: conv.caseLine, occurrences: occurrences, macs: conv.multiplyAccumulates,
            flops: conv.flops, bytes: conv.bytesTouched, equivalentGEMMGFLOPS: gemm, algorithms: timings,
            selected: valid.first?.algorithm,
            marginOverRunnerUp: valid.count > 1 ? valid[1].run!.median / valid[0].run!.median - 1 : nil)
        if runoffRounds > 0, valid.count > 1, let margin = result.marginOverRunnerUp, margin < runoffMargin,
           let runoff = self.runoff(valid[0].algorithm, valid[1].algorithm, conv: conv, x: x, w: w, b: b) {
            result.runoff = runoff
            result.selected = runoff.winner
            result.marginOverRunnerUp = runoff.margin
        }
        return result
    }

    /// Runoff between two algorithms already judged correct on this layer (nil if either fails to
    /// prepare or run now).
    func runoff(_ first: String, _ second: String, conv: ConvDescriptor, x: Tensor, w: Tensor, b: Tensor?) -> Runoff? {
        guard let a = algorithms.first(where: { $0.name == first }), let c = algorithms.first(where: { $0.name == second }),
              let pa = try? a.prepare(conv, weights: w, bias: b, options: AlgorithmOptions(threads: threads)),
              let pc = try? c.prepare(conv, weights: w, bias: b, options: AlgorithmOptions(threads: threads))
        else { return nil }
        var y = Tensor(shape: conv.outputShape)
        var times: ([Double], [Double]) = ([], [])
        do {
            try pa.run(x, into: &y)
            try pc.run(x, into: &y)
            for round in 0..<runoffRounds {
                // Alternate which goes first, so neither always runs right after the other.
                for firstOfPair in round % 2 == 0 ? [true, false] : [false, true] {
                    if coldCache { CacheFlusher.shared.flush() }
                    let p = firstOfPair ? pa : pc
                    let t = try Clock.time { try p.run(x, into: &y) }
                    if firstOfPair { times.0.append(t) } else { times.1.append(t) }
                }
            }
        } catch {
            return nil
        }
        return Runoff(algorithms: [first, second], first: times.0, second: times.1)
    }

    func time(_ algorithm: any ConvolutionAlgorithm, conv: ConvDescriptor, x: Tensor, w: Tensor, b: Tensor?,
              checker: OutputChecker, gemmGFLOPS: Double) -> AlgorithmTiming {
        var t = AlgorithmTiming(algorithm: algorithm.name, status: .ok)
        if case let .unsupported(reason) = algorithm.support(for: conv) {
            t.status = .unsupported
            t.reason = reason
            return t
        }
        do {
            var prepared: (any PreparedConvolution)?
            t.prepareSeconds = try Clock.time {
                prepared = try algorithm.prepare(conv, weights: w, bias: b, options: AlgorithmOptions(threads: threads))
            }
            let p = prepared!
            t.workspaceBytes = p.workspaceBytes
            var y = Tensor(shape: conv.outputShape)
            y.fill(.nan)
            try p.run(x, into: &y)
            let judgement = try checker.judge(algorithm, output: y)
            t.judgement = judgement
            if !judgement.valid {
                t.status = .invalid
                t.reason = judgement.firstFailure
                return t
            }
            let before = Heap.allocatedBytes()
            try p.run(x, into: &y)
            t.heapGrowthBytes = Heap.allocatedBytes().flatMap { after in before.map { after - $0 } }
            if profileTimedRegion { CPUProfile.enable() }
            defer { if profileTimedRegion { CPUProfile.disable() } }
            let stats = try policy.measure(between: coldCache ? { CacheFlusher.shared.flush() } : nil) { try p.run(x, into: &y) }
            t.run = stats
            let gflops = Double(conv.flops) / stats.median / 1e9
            t.gflops = gflops
            t.fractionOfSGEMM = gflops / calibration.sgemmGFLOPS
            t.ratioToEquivalentGEMM = gflops / gemmGFLOPS
            t.fractionOfCopyBandwidth = Double(conv.bytesTouched) / stats.median / calibration.copyBytesPerSecond
            if let timed = p as? PhaseTimed {
                timed.resetPhaseTimes()
                try p.run(x, into: &y)
                t.phases = timed.phaseSeconds.map { AlgorithmTiming.PhaseTime(name: $0.0, seconds: $0.1) }
            }
            if checkDeterminism {
                let first = y
                var again = Tensor(shape: conv.outputShape)
                try p.run(x, into: &again)
                var same = again == first
                if same && threads > 1 {
                    let single = try algorithm.prepare(conv, weights: w, bias: b, options: AlgorithmOptions(threads: 1))
                    var one = Tensor(shape: conv.outputShape)
                    try single.run(x, into: &one)
                    same = one == first
                }
                t.deterministic = same
            }
        } catch {
            t.status = .error
            t.reason = "\(error)"
        }
        return t
    }
}

/// tcmalloc's view of the heap (nil when tcmalloc is not the allocator).
public enum Heap {
    public static func allocatedBytes() -> Int? {
        var value = 0
        let ok = "generic.current_allocated_bytes".withCString { MallocExtension_GetNumericProperty($0, &value) }
        return ok != 0 ? value : nil
    }
}
