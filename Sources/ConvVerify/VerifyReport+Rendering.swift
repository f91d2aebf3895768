import ConvCore
import Foundation

extension FailureReport {
    /// Multi-line description: the minimal case, seed, first failing element, bound, replay line.
    public var text: String {
        var s = "FAILED \(algorithm): minimal case \(minimal.caseLine)\n"
        s += "  data \(data.rawValue), seed \(dataSeed), threads \(threads); shrunk in \(shrinkSteps) steps from \(original.caseLine) (\(originalData.rawValue))\n"
        switch verdict {
        case let .failed(f, ratio):
            let p = position(f.index)
            s += "  first failing element [n\(p.n), c\(p.c), y\(p.y), x\(p.x)]: expected \(f.expected), got \(f.actual), bound \(f.bound) (worst error \(String(format: "%.3g", ratio))x the bound)\n"
        case let .threw(message):
            s += "  threw: \(message)\n"
        default:
            s += "  (the minimal case no longer fails on re-run: flaky, e.g. a race)\n"
        }
        s += "  replay: \(replay)"
        return s
    }

    var json: [String: Any] {
        var o: [String: Any] = [
            "algorithm": algorithm, "minimalCase": minimal.caseLine, "originalCase": original.caseLine,
            "data": data.rawValue, "originalData": originalData.rawValue, "seed": String(dataSeed),
            "threads": threads, "shrinkSteps": shrinkSteps, "replay": replay,
        ]
        if case let .failed(f, ratio) = verdict {
            let p = position(f.index)
            o["firstFailure"] = ["index": f.index, "n": p.n, "c": p.c, "y": p.y, "x": p.x,
                                 "expected": f.expected, "actual": Double(f.actual), "bound": f.bound, "worstRatio": ratio]
        } else if case let .threw(m) = verdict {
            o["threw"] = m
        }
        return o
    }
}

extension VerifyReport {
    public var text: String {
        var s = "convbench verify: \(cases) cases (seed \(seed)), \(mistrusted) mistrusted, \(String(format: "%.1f", seconds)) s\n\n"
        let width = max(9, algorithms.map(\.algorithm.count).max() ?? 0)
        s += "algorithm".padding(toLength: width, withPad: " ", startingAt: 0) + "    run  passed  failed  unsupported  worst/bound\n"
        for a in algorithms {
            let unsupported = a.unsupported.values.reduce(0, +)
            s += a.algorithm.padding(toLength: width, withPad: " ", startingAt: 0)
            s += String(format: " %6d  %6d  %6d  %11d  %11.3g\n", a.casesRun, a.passed, a.failed, unsupported, a.worstRatio)
        }
        for a in algorithms where !a.unsupported.isEmpty {
            s += "\n\(a.algorithm) unsupported:\n"
            for (reason, n) in a.unsupported.sorted(by: { $0.value > $1.value }) { s += "  \(n)  \(reason)\n" }
        }
        if !nonFinite.isEmpty {
            s += "\nnon-finite policy (one NaN and one +inf planted per case):\n"
            for r in nonFinite {
                let verdict = r.lost + r.invented == 0 ? "exact" :
                    (r.binding ? "VIOLATED" : "spreads (allowed for transforms)")
                s += "  \(r.algorithm): \(verdict) on \(r.cases) cases"
                if r.lost + r.invented > 0 { s += ", \(r.lost) lost, \(r.invented) invented; e.g. \(r.example ?? "")" }
                s += "\n"
            }
        }
        for a in algorithms { for f in a.failures { s += "\n" + f.text + "\n" } }
        s += failed ? "\nFAILED\n" : "\nall passed\n"
        return s
    }

    public func jsonData() throws -> Data {
        let o: [String: Any] = [
            "seed": String(seed), "cases": cases, "mistrusted": mistrusted, "seconds": seconds, "failed": failed,
            "algorithms": algorithms.map { a -> [String: Any] in
                ["algorithm": a.algorithm, "casesRun": a.casesRun, "passed": a.passed, "failed": a.failed,
                 "unsupported": a.unsupported, "worstRatio": a.worstRatio, "failures": a.failures.map(\.json)]
            },
            "nonFinite": nonFinite.map { r -> [String: Any] in
                ["algorithm": r.algorithm, "cases": r.cases, "lost": r.lost, "invented": r.invented,
                 "binding": r.binding, "violated": r.violated, "example": r.example ?? ""]
            },
        ]
        return try JSONSerialization.data(withJSONObject: o, options: [.prettyPrinted, .sortedKeys])
    }
}

extension FailureReport {
    /// Writes the minimal case's tensors as .npy (input, weight, bias, expected float64, actual) and
    /// a case.txt with the line and the replay command, so it replays through `convbench conv` or PyTorch.
    public func save(to folder: String, algorithmImplementation: any ConvolutionAlgorithmLike) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let c = PreparedCase(minimal, data: data, dataSeed: dataSeed)
        try NPY.write(c.input, to: folder + "/input.npy")
        try NPY.write(c.weights, to: folder + "/weight.npy")
        if let b = c.bias { try NPY.write(b, to: folder + "/bias.npy") }
        try NPY.writeAtomically(NPY.encode(shape: minimal.outputShape, float64: c.reference.values), to: folder + "/expected.npy")
        if let actual = algorithmImplementation.output(minimal, c, threads: threads) {
            try NPY.write(actual, to: folder + "/actual.npy")
        }
        var text = "\(minimal.caseLine)\n\(replay)\n"
        text += "convbench conv '\(minimal.caseLine)' --algorithm \(algorithm) --input input.npy --weight weight.npy"
        text += (c.bias != nil ? " --bias bias.npy" : "") + " --output actual.npy\n"
        try NPY.writeAtomically(Array(text.utf8), to: folder + "/case.txt")
    }
}

/// What `save` needs from an algorithm: its output on a case.
public protocol ConvolutionAlgorithmLike {
    func output(_ conv: ConvDescriptor, _ c: PreparedCase, threads: Int) -> Tensor?
}
