import Foundation
import Testing

/// `convbench export` and `run --peers`, with a stand-in peer (Fixtures/fake_peer.py) so the tests
/// need neither PyPI nor ONNX Runtime; scripts/peers-check.sh runs the real peers in CI.
@Suite struct PeersCommandTests {
    static let fakePeer = CLI.packageRoot.appendingPathComponent("Tests/CLITests/Fixtures/fake_peer.py").path

    func json(_ path: String) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
    }

    @Test func exportWritesGraphWeightsInputAndCheckpoints() throws {
        let dir = CLI.temporaryDirectory().path
        let r = try CLI.run(["export", "--model", "xception", "--input", "71x71", "--algorithm", "winograd-f2x2-3x3",
                             "--threads", "1", "--out", dir])
        #expect(r.status == 0, "\(r.stderr)")
        let g = try json(dir + "/graph.json")
        #expect(g["format"] as? String == "convbench-model-export" && g["model"] as? String == "xception")
        let nodes = try #require(g["nodes"] as? [[String: Any]])
        #expect(nodes.count == 105 && nodes[0]["op"] as? String == "input")
        let stem = try #require(nodes.first { $0["name"] as? String == "block1_conv1" })
        #expect(stem["stride"] as? [Int] == [2, 2] && stem["pads"] as? [Int] == [0, 0, 0, 0] && stem["relu"] as? Bool == true)
        let framework = try #require(stem["framework"] as? [String: Any])
        let bn = try #require(framework["batchNorm"] as? [String: Any])
        #expect(bn["name"] as? String == "block1_conv1_bn" && bn["epsilon"] as? Double == 1e-3)
        // Keras 'same' 3×3/2 pooling on 33×33: one row and column of padding on each side.
        let pool = try #require(nodes.first { $0["name"] as? String == "block2_pool" })
        #expect(pool["op"] as? String == "maxpool" && pool["pads"] as? [Int] == [1, 1, 1, 1] && pool["shape"] as? [Int] == [1, 128, 17, 17])
        let checkpoints = try #require(g["checkpoints"] as? [[String: Any]])
        // One per block, plus the logits before the softmax.
        #expect(checkpoints.map { $0["node"] as? String } .suffix(2) == ["predictions", "predictions/softmax"])
        #expect(checkpoints.count == 16)
        for c in checkpoints {
            let spread = try #require(c["spread"] as? Double), tolerance = try #require(c["tolerance"] as? Double)
            #expect(tolerance >= 10 * spread && tolerance > 0)
            let file = dir + "/" + (c["file"] as! String)
            #expect(FileManager.default.fileExists(atPath: file))
        }
        // Winograd against im2col-gemm: the tables differ from the second convolution on.
        #expect((checkpoints[0]["spread"] as? Double ?? 0) > 0)
        for f in [stem["weight"], framework["weight"], bn["variance"]] {
            #expect(FileManager.default.fileExists(atPath: dir + "/" + (f as! String)))
        }
    }

    @Test func exportRejectsBadInput() throws {
        for (args, needle) in [(["export", "--model", "resnet", "--out", "/tmp/x"], "resnet"),
                               (["export", "--model", "xception", "--input", "71", "--out", "/tmp/x"], "--input"),
                               (["export", "--model", "xception", "--algorithm", "nope", "--out", "/tmp/x"], "unknown algorithm"),
                               (["export", "--model", "xception", "--input", "70x70", "--out", "/tmp/x"], "71")] {
            let r = try CLI.run(args)
            #expect(r.status != 0, "\(args)")
            #expect(r.stderr.contains(needle), "\(args): \(r.stderr)")
        }
    }

    func runWithFakePeer(_ mode: String, out: String) throws -> CLIResult {
        setenv("FAKE_PEER_MODE", mode, 1)
        defer { unsetenv("FAKE_PEER_MODE") }
        return try CLI.run(["run", "--suite", "xception", "--input", "71x71", "--quick", "--threads", "1",
                            "--algorithm", "im2col-gemm", "--peers", "--peer-rounds", "4", "--peer-script", Self.fakePeer,
                            "--out", out])
    }

    @Test func peersGoIntoEveryReport() throws {
        let out = CLI.temporaryDirectory().path
        let r = try runWithFakePeer("", out: out)
        #expect(r.status == 0, "\(r.stderr)")
        let report = try json(out + "/report.json")
        let peers = try #require(report["peers"] as? [[String: Any]])
        #expect(peers.count == 1 && peers[0]["runtime"] as? String == "fake-onnxruntime" && peers[0]["agrees"] as? Bool == true)
        let run = try #require(peers[0]["run"] as? [String: Any])
        #expect(run["repetitions"] as? Int == 4)
        // The fake peer sleeps 10 ms; convbench's own passes come from the same rounds.
        #expect((run["median"] as? Double ?? 0) >= 0.01)
        #expect((peers[0]["convbench"] as? [String: Any])?["repetitions"] as? Int == 4)
        #expect((peers[0]["convbenchTimeRatio"] as? Double ?? 0) > 0)
        #expect((peers[0]["pairedTimeRatio"] as? Double ?? 0) > 0)
        #expect((report["peerToleranceRule"] as? String)?.contains("√(Σ K") == true)
        let csv = try String(contentsOfFile: out + "/forward.csv", encoding: .utf8).split(separator: "\n")
        #expect(csv[0].hasPrefix("suite,model,input,pass,kind,status,median_ms"))
        #expect(csv[0].hasSuffix(",worst_relative_difference,convbench_paired_ratio"))
        #expect(csv.contains { line in
            line.contains("\"fake-onnxruntime\",peer,\"ok\"") && line.contains(",yes,0,")
                && (Double(line.split(separator: ",").last ?? "") ?? 0) > 0
        })
        let html = try String(contentsOfFile: out + "/report.html", encoding: .utf8)
        #expect(html.contains("Peers on the same network") && html.contains("fake-onnxruntime"))
        #expect(r.stdout.contains("| fake-onnxruntime 0 |"))
        #expect(FileManager.default.fileExists(atPath: out + "/peer-onnxruntime.log"))
    }

    @Test func aDisagreeingOrDeadPeerFailsTheRunWithOneLine() throws {
        let out = CLI.temporaryDirectory().path
        let disagree = try runWithFakePeer("disagree", out: out)
        #expect(disagree.status == 1)
        #expect(disagree.stderr.contains("peer fake-onnxruntime disagrees with convbench at predictions/softmax"))
        // The reports are written all the same, with the verdict in them.
        #expect(try String(contentsOfFile: out + "/report.html", encoding: .utf8).contains("DISAGREES"))
        let dead = try runWithFakePeer("die", out: CLI.temporaryDirectory().path)
        #expect(dead.status != 0 && dead.status != 1)
        #expect(dead.stderr.contains("the onnxruntime peer stopped before reporting (exit 3)"))
        #expect(dead.stderr.split(separator: "\n").count == 1)
    }

    @Test func peersNeedAModelSuiteAndAKnownRuntime() throws {
        for (args, needle) in [(["run", "--suite", "layers", "--peers"], "model suites"),
                               (["run", "--suite", "xception", "--peer", "tensorflow"], "unknown peer 'tensorflow'"),
                               (["run", "--suite", "xception", "--peers", "--peer-rounds", "0"], "--peer-rounds")] {
            let r = try CLI.run(args)
            #expect(r.status == 2, "\(args)")
            #expect(r.stderr.contains(needle), "\(args): \(r.stderr)")
        }
    }
}
