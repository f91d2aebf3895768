import ConvCore
import Foundation
import Testing

@Suite struct ConvCommandTests {
    struct Entry: Decodable, Sendable, CustomStringConvertible {
        let name: String
        let transposed: Bool
        let bias: Bool
        let n, ic, ih, iw, oc, kh, kw, sh, sw, pt, pb, pl, pr, dh, dw, g, oph, opw: Int
        var description: String { name }
    }

    static let torchDir = CLI.packageRoot.appendingPathComponent("Tests/ConvAlgorithmsTests/Fixtures/torch")
    static let entries: [Entry] = {
        guard let data = try? Data(contentsOf: torchDir.appendingPathComponent("manifest.json")) else { return [] }
        return (try? JSONDecoder().decode([Entry].self, from: data)) ?? []
    }()

    /// Every PyTorch fixture through `convbench conv`, with the case given as a text line.
    @Test(arguments: entries)
    func convMatchesPyTorchThroughTheCommandLine(_ e: Entry) throws {
        let d = try ConvDescriptor(
            batch: e.n, groups: e.g, inChannels: e.ic, outChannels: e.oc, inHeight: e.ih, inWidth: e.iw,
            kernelHeight: e.kh, kernelWidth: e.kw, strideHeight: e.sh, strideWidth: e.sw,
            padTop: e.pt, padBottom: e.pb, padLeft: e.pl, padRight: e.pr, dilationHeight: e.dh, dilationWidth: e.dw,
            transposed: e.transposed, outputPaddingHeight: e.oph, outputPaddingWidth: e.opw, hasBias: e.bias)
        let dir = Self.torchDir.appendingPathComponent(e.name)
        let out = CLI.temporaryDirectory().appendingPathComponent("y.npy")
        var args = ["conv", d.caseLine, "--input", dir.appendingPathComponent("input.npy").path,
                    "--weight", dir.appendingPathComponent("weight.npy").path, "--output", out.path]
        if e.bias { args += ["--bias", dir.appendingPathComponent("bias.npy").path] }
        let r = try CLI.run(args)
        #expect(r.status == 0, "\(e): \(r.stderr)")
        let y = try NPY.read(path: out.path)
        let expected = try NPY.read(path: dir.appendingPathComponent("output.npy").path)
        #expect(y.shape == expected.shape)
        let (a, b) = (y.doubles, expected.doubles)
        for i in b.indices {
            #expect(abs(a[i] - b[i]) <= Double(Float.ulpOfOne) * max(abs(b[i]), 1e-30), "\(e) element \(i)")
        }
    }

    @Test func entriesWereFound() { #expect(Self.entries.count == 20) }

    /// Bad input: one line on stderr naming the problem, status 2, and no output file.
    @Test func badInputExitsTwoWithOneLineAndWritesNothing() throws {
        let tmp = CLI.temporaryDirectory()
        let out = tmp.appendingPathComponent("y.npy").path
        let fx = Self.torchDir.appendingPathComponent("fwd_basic")
        let x = fx.appendingPathComponent("input.npy").path, w = fx.appendingPathComponent("weight.npy").path
        let garbage = tmp.appendingPathComponent("garbage.npy").path
        try Data("not a numpy file at all".utf8).write(to: URL(fileURLWithPath: garbage))
        let good = "mb1ic3ih7oc4kh3"
        let cases: [([String], String)] = [
            (["conv", good, "--algorithm", "nope", "--input", x, "--weight", w, "--output", out], "unknown algorithm 'nope'"),
            (["conv", "mb1ic3ih7oc4kh3zz", "--input", x, "--weight", w, "--output", out], "unrecognized entry at 'zz'"),
            (["conv", good, "--input", tmp.appendingPathComponent("missing.npy").path, "--weight", w, "--output", out], "no such file"),
            (["conv", good, "--input", garbage, "--weight", w, "--output", out], "not a .npy file"),
            (["conv", "mb1ic3ih8oc4kh3", "--input", x, "--weight", w, "--output", out], "has shape [1, 3, 7, 7], expected [1, 3, 8, 8]"),
            (["conv", good, "--input", x, "--weight", x, "--output", out], "expected [4, 3, 3, 3]"),
            (["conv", good, "--input", x, "--weight", w, "--output", out, "--threads", "0"], "--threads must be at least 1"),
            (["conv", good, "--input", x, "--weight", w], "--output"),
            (["conv", good, "--input", x, "--weight", w, "--output", out, "--bogus"], "--bogus"),
            (["describe", "g3mb1ic4ih7oc6kh3"], "inChannels (ic) 4 is not divisible by groups 3"),
            (["describe", "mb1ic4id3ih7oc6kd1kh3"], "3D convolution is not supported"),
            (["nosuchcommand"], "nosuchcommand"),
        ]
        for (args, needle) in cases {
            let r = try CLI.run(args)
            #expect(r.status == 2, "\(args): status \(r.status)")
            let lines = r.stderr.split(separator: "\n")
            #expect(lines.count == 1, "\(args): \(r.stderr)")
            #expect(r.stderr.contains(needle), "\(args): \(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: out), "\(args) wrote an output")
        }
    }

    @Test func describeAndAlgorithmsAndHelp() throws {
        let d = try CLI.run(["describe", "mb1ic16ih8oc32kh3ph1bias0"])
        #expect(d.status == 0)
        #expect(d.stdout.contains("parameters       4,608"))
        #expect(d.stdout.contains("output           [1, 32, 8, 8] (NCHW)"))
        let j = try CLI.run(["describe", "--format", "json", "deconv:mb1ic2ih2oc3kh3sh2"])
        let object = try JSONSerialization.jsonObject(with: Data(j.stdout.utf8)) as? [String: Any]
        #expect(object?["output"] as? [Int] == [1, 3, 5, 5])
        let a = try CLI.run(["algorithms", "mb1ic3ih7oc4kh3"])
        #expect(a.status == 0 && a.stdout.contains("reference") && a.stdout.contains("supported"))
        let h = try CLI.run(["--help"])
        #expect(h.status == 0 && h.stdout.contains("USAGE: convbench"))
    }
}
