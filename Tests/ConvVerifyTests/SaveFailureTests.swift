import ConvAlgorithms
import ConvCore
import ConvVerify
import Foundation
import Testing

@Suite struct SaveFailureTests {
    @Test func shrunkFailureIsSavedAsReplayableNPY() throws {
        var o = VerifyEngine.Options()
        o.cases = 200
        o.seed = 7
        let mutant = MutantConvolution(bug: .groupsMixedUp)
        let report = VerifyEngine(algorithms: [mutant], options: o).run()
        let f = try #require(report.algorithms[0].failures.first)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("convbench-save-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try f.save(to: dir, algorithmImplementation: AlgorithmOutput(mutant))
        let d = f.minimal
        let x = try NPY.read(path: dir + "/input.npy"), w = try NPY.read(path: dir + "/weight.npy")
        let expected = try NPY.read(path: dir + "/expected.npy"), actual = try NPY.read(path: dir + "/actual.npy")
        #expect(x.shape == d.inputShape && w.shape == d.weightShape)
        #expect(expected.shape == d.outputShape && actual.shape == d.outputShape)
        // Replaying through the reference gives the saved expectation; the mutant's output differs.
        let r = ReferenceConvolution.compute(d, input: x.tensor, weights: w.tensor,
                                             bias: d.hasBias ? try NPY.read(path: dir + "/bias.npy").tensor : nil)
        #expect(r.values == expected.doubles)
        #expect(actual.doubles != expected.doubles)
        let text = try String(contentsOfFile: dir + "/case.txt", encoding: .utf8)
        #expect(text.contains(d.caseLine) && text.contains("convbench verify --case") && text.contains("convbench conv"))
        #expect(f.text.contains("replay: convbench verify --case"))
    }
}
