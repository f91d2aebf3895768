import ConvAlgorithms
import ConvCore
import ConvVerify
import Testing

/// Every registered algorithm against the float64 reference on a seeded sweep over geometry and data.
/// Small-integer and all-zero data demand exact equality from algorithms without a numeric transform.
@Suite struct AlgorithmSweepTests {
    static let names = AlgorithmRegistry.standard.names

    @Test(arguments: names)
    func agreesWithReferenceOnSeededSweep(_ name: String) throws {
        let algorithm = try AlgorithmRegistry.standard.algorithm(named: name)
        let seed: UInt64 = 0xC0_FFEE
        var rng = SeededGenerator(seed: seed)
        let generator = CaseGenerator()
        var supported = 0
        for i in 0..<400 {
            let conv = generator.next(&rng)
            let data = DataKind.allCases[i % DataKind.allCases.count]
            let c = PreparedCase(conv, data: data, dataSeed: seed &+ UInt64(i))
            for threads in [1, 2] {
                let verdict = DifferentialRunner(threads: threads).check(algorithm, on: c)
                switch verdict {
                case .passed: supported += 1
                case .unsupported: break
                case let .failed(f, ratio):
                    Issue.record("""
                        \(name) failed on \(conv.caseLine) data \(data) seed \(seed) case \(i) threads \(threads): \
                        element \(f.index) expected \(f.expected) got \(f.actual) bound \(f.bound) (worst \(ratio)×)
                        """)
                case let .threw(message):
                    Issue.record("\(name) threw on \(conv.caseLine) seed \(seed) case \(i): \(message)")
                }
            }
        }
        print("sweep \(name): \(supported) supported runs of 800")
        #expect(supported > 0, "\(name) supported no case of the sweep")
    }
}
