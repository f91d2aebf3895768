import ConvAlgorithms
import ConvCore
import Foundation

/// The property-test engine: generate cases, run every algorithm that supports each one against
/// the float64 reference, shrink every disagreement to a minimal case, and summarize.
public struct VerifyEngine {
    public struct Options: Sendable {
        public var cases: Int = 1000
        public var seed: UInt64 = 1
        /// Stop drawing new cases after this many seconds (nil: no limit).
        public var timeLimit: Double?
        /// Thread counts each algorithm runs with (2 catches races that one thread hides).
        public var threadCounts: [Int] = [1, 2]
        /// Run only this case (with every data kind, or `data`) instead of generated ones.
        public var fixedCase: ConvDescriptor?
        public var data: DataKind?
        /// Failures shrunk per algorithm; later ones are counted only.
        public var shrinkLimit: Int = 3
        public var generator = CaseGenerator()
        /// Cases per algorithm for the non-finite policy check (0 skips it).
        public var nonFiniteCases: Int = 30

        public init() {}
    }

    public var algorithms: [any ConvolutionAlgorithm]
    public var options: Options

    public init(algorithms: [any ConvolutionAlgorithm], options: Options) {
        self.algorithms = algorithms
        self.options = options
    }

    /// The weights of each data kind when the engine draws one.
    static let dataWeights: [(DataKind, Int)] = [
        (.smallIntegers, 30), (.normal, 25), (.uniform, 12), (.sparse, 10), (.large, 8), (.tiny, 8), (.zeros, 7),
    ]

    static func drawData(_ rng: inout SeededGenerator) -> DataKind {
        var r = Int(rng.next() % 100)
        for (kind, w) in dataWeights {
            if r < w { return kind }
            r -= w
        }
        return .normal
    }

    /// A generated case that at least one of `algorithms` supports (Winograd takes about one
    /// generated case in twenty), so every case checks something; gives up after 1,000 draws.
    static func drawCase(_ generator: CaseGenerator, _ rng: inout SeededGenerator,
                         supportedByOneOf algorithms: [any ConvolutionAlgorithm]) -> ConvDescriptor {
        var conv = generator.next(&rng)
        var draws = 1
        while draws < 1000 && !algorithms.contains(where: { $0.support(for: conv).isSupported }) {
            conv = generator.next(&rng)
            draws += 1
        }
        return conv
    }

    /// Runs the engine. `progress` is called after each case with (done, total).
    public func run(progress: ((Int, Int) -> Void)? = nil) -> VerifyReport {
        let start = Date()
        var rng = SeededGenerator(seed: options.seed)
        var summaries = Dictionary(uniqueKeysWithValues: algorithms.map { ($0.name, AlgorithmSummary(algorithm: $0.name)) })
        var report = VerifyReport(seed: options.seed, cases: 0, mistrusted: 0, seconds: 0, algorithms: [])
        let total = options.fixedCase == nil ? options.cases : (options.data == nil ? DataKind.allCases.count : 1)
        for i in 0..<total {
            if let limit = options.timeLimit, Date().timeIntervalSince(start) > limit { break }
            let conv: ConvDescriptor
            let data: DataKind
            let dataSeed: UInt64
            if let fixed = options.fixedCase {
                conv = fixed
                data = options.data ?? DataKind.allCases[i]
                dataSeed = options.seed
            } else {
                conv = Self.drawCase(options.generator, &rng, supportedByOneOf: algorithms)
                data = options.data ?? Self.drawData(&rng)
                dataSeed = rng.next()
            }
            var c = PreparedCase(conv, data: data, dataSeed: dataSeed)
            report.cases += 1
            if c.isMistrusted {
                report.mistrusted += 1
                // Still run it (a wrong value is a failure on any data) but count no pass; then
                // regenerate the data so the geometry gets a trustworthy check.
                check(c, countPasses: false, caseNumber: i + 1, into: &summaries)
                c = PreparedCase(conv, data: .normal, dataSeed: dataSeed &+ 1)
                if c.isMistrusted {
                    progress?(i + 1, total)
                    continue
                }
            }
            check(c, countPasses: true, caseNumber: i + 1, into: &summaries)
            progress?(i + 1, total)
        }
        if options.fixedCase == nil && options.nonFiniteCases > 0 {
            report.nonFinite = algorithms.map {
                NonFinitePolicy.check($0, cases: options.nonFiniteCases, seed: options.seed, threads: options.threadCounts.max() ?? 1)
            }
        }
        report.seconds = Date().timeIntervalSince(start)
        report.algorithms = algorithms.map { summaries[$0.name]! }
        return report
    }

    private func check(_ c: PreparedCase, countPasses: Bool, caseNumber: Int,
                       into summaries: inout [String: AlgorithmSummary]) {
        for algorithm in algorithms {
            var s = summaries[algorithm.name]!
            var counted = false
            for threads in options.threadCounts {
                let verdict = DifferentialRunner(threads: threads).check(algorithm, on: c)
                switch verdict {
                case let .unsupported(reason):
                    if !counted { s.unsupported[reason, default: 0] += 1 }
                    counted = true
                case let .passed(ratio):
                    s.worstRatio = max(s.worstRatio, ratio)
                    if !counted { s.casesRun += 1; if countPasses { s.passed += 1 } }
                    counted = true
                case .failed, .threw:
                    if !counted { s.casesRun += 1 }
                    counted = true
                    s.failed += 1
                    if s.firstFailureCase == nil { s.firstFailureCase = caseNumber }
                    if s.failures.count < options.shrinkLimit {
                        s.failures.append(shrink(algorithm, c, threads: threads, verdict: verdict))
                    }
                }
                if case .unsupported = verdict { break }
                if verdict.isFailure { break }
            }
            summaries[algorithm.name] = s
        }
    }

    /// Shrinks a failure and describes the minimal case.
    func shrink(_ algorithm: any ConvolutionAlgorithm, _ c: PreparedCase, threads: Int, verdict: Verdict) -> FailureReport {
        let runner = DifferentialRunner(threads: threads)
        let seed = c.dataSeed
        let (minimal, steps) = Shrinker().shrink(.init(conv: c.conv, data: c.data)) { candidate in
            runner.check(algorithm, on: PreparedCase(candidate.conv, data: candidate.data, dataSeed: seed)).isFailure
        }
        let final = PreparedCase(minimal.conv, data: minimal.data, dataSeed: seed)
        return FailureReport(algorithm: algorithm.name, original: c.conv, originalData: c.data,
                             minimal: minimal.conv, data: minimal.data, dataSeed: seed, threads: threads,
                             shrinkSteps: steps, verdict: runner.check(algorithm, on: final))
    }
}

/// Per-algorithm results of a verify run.
public struct AlgorithmSummary: Sendable {
    public var algorithm: String
    public var casesRun = 0
    public var passed = 0
    public var failed = 0
    public var unsupported: [String: Int] = [:]
    /// Worst error seen on a passing run, as a fraction of its bound.
    public var worstRatio = 0.0
    /// 1-based number of the case on which the first failure appeared.
    public var firstFailureCase: Int?
    public var failures: [FailureReport] = []

    public init(algorithm: String) { self.algorithm = algorithm }
}

/// One disagreement, shrunk.
public struct FailureReport: Sendable {
    public var algorithm: String
    public var original: ConvDescriptor
    public var originalData: DataKind
    public var minimal: ConvDescriptor
    public var data: DataKind
    public var dataSeed: UInt64
    public var threads: Int
    public var shrinkSteps: Int
    /// The verdict on the minimal case (normally `.failed` with the first failing element).
    public var verdict: Verdict

    /// A command that replays the minimal case.
    public var replay: String {
        "convbench verify --case '\(minimal.caseLine)' --algorithm \(algorithm) --data \(data.rawValue) --seed \(dataSeed) --threads \(threads)"
    }

    /// (n, c, y, x) of a flat NCHW index of the minimal case's output.
    public func position(_ index: Int) -> (n: Int, c: Int, y: Int, x: Int) {
        let d = minimal
        let x = index % d.outWidth, y = (index / d.outWidth) % d.outHeight
        let c = (index / (d.outWidth * d.outHeight)) % d.outChannels, n = index / (d.outWidth * d.outHeight * d.outChannels)
        return (n, c, y, x)
    }
}

public struct VerifyReport: Sendable {
    public var seed: UInt64
    public var cases: Int
    public var mistrusted: Int
    public var seconds: Double
    public var algorithms: [AlgorithmSummary]
    public var nonFinite: [NonFinitePolicy.Result] = []

    public var failed: Bool { algorithms.contains { $0.failed > 0 } || nonFinite.contains { $0.violated } }
}
