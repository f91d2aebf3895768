import Foundation

/// Everything a run measured: the source of truth that the CSV, HTML and Markdown are rendered from.
public struct RunReport: Codable, Sendable {
    public static let currentSchemaVersion = 1

    public var schemaVersion = RunReport.currentSchemaVersion
    public var suite: String
    public var createdAt: String
    public var command: String
    public var gitCommit: String?
    public var machine: MachineInfo
    public var threads: Int
    public var policy: TimingPolicy
    public var measurementMethod: String
    public var calibration: Calibration
    public var layers: [LayerResult]
    /// For model suites: the network and its forward passes.
    public var model: ModelInfo?
    public var endToEnd: [EndToEndResult]?
    /// Peer runtimes on the same network (`run --peers`): agreement and interleaved times.
    public var peers: [PeerResult]?
    /// How the peers' agreement tolerance is set (`ModelExport.toleranceRule`).
    public var peerToleranceRule: String?

    public init(suite: String, command: String, threads: Int, policy: TimingPolicy, coldCache: Bool = false, calibration: Calibration,
                layers: [LayerResult], model: ModelInfo? = nil, endToEnd: [EndToEndResult]? = nil, peers: [PeerResult]? = nil) {
        self.model = model
        self.endToEnd = endToEnd
        self.peers = peers
        peerToleranceRule = peers == nil ? nil : ModelExport.toleranceRule
        self.suite = suite
        let f = ISO8601DateFormatter()
        createdAt = f.string(from: Date())
        self.command = command
        gitCommit = RunReport.gitCommit()
        machine = .current
        self.threads = threads
        self.policy = policy
        measurementMethod = """
            \(coldCache ? "Cold cache: 256 MiB are written and read before every timed repetition, so inputs, weights and workspace start in memory." : "Warm cache: inputs and weights stay resident between repetitions.") No thread pinning. OpenBLAS threads sleep right after each call (OPENBLAS_THREAD_TIMEOUT=\(ProcessInfo.processInfo.environment["OPENBLAS_THREAD_TIMEOUT"] ?? "unset: they spin for about 0.1 s")). \
            Per layer and algorithm: prepare is timed once, apart; the output is judged against the \
            float64 reference (or a second algorithm above \(OutputChecker.referenceMACLimit) MACs) before \
            timing; then \(policy.warmup) warm-up run(s) and repetitions until at least \
            \(policy.minRepetitions) are in and the median is stable to \(Int(policy.stableFraction * 100))% \
            or \(policy.budget) s are spent (at most \(policy.maxRepetitions)). Median, p10 and p90 are over \
            those repetitions; GFLOP/s = direct-convolution FLOPs / median.
            """
        self.calibration = calibration
        self.layers = layers
    }

    static func gitCommit() -> String? {
        if let env = ProcessInfo.processInfo.environment["CONVBENCH_GIT_COMMIT"] { return env }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        p.arguments = ["rev-parse", "HEAD"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { return nil }
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { return nil }
        return String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    public func jsonData() throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try e.encode(self)
    }

    public static func load(path: String) throws -> RunReport {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw SuiteError("cannot read report \(path)")
        }
        do {
            let r = try JSONDecoder().decode(RunReport.self, from: data)
            if r.schemaVersion != currentSchemaVersion {
                throw SuiteError("\(path) has report schema \(r.schemaVersion), expected \(currentSchemaVersion)")
            }
            return r
        } catch let e as SuiteError {
            throw e
        } catch {
            throw SuiteError("\(path) is not a ConvBench report: \(error)")
        }
    }
}

/// Writes files atomically (temporary file in the same folder, then rename).
public enum AtomicFile {
    public static func write(_ data: Data, to path: String) throws {
        do {
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw SuiteError("cannot write \(path): \(error.localizedDescription)")
        }
    }
}
