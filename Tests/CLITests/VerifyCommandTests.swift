import Foundation
import Testing

@Suite struct VerifyCommandTests {
    @Test func verifyPassesAndSummarizes() throws {
        let r = try CLI.run(["verify", "--cases", "150", "--seed", "5"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("convbench verify: 150 cases (seed 5)"))
        #expect(r.stdout.contains("all passed"))
        for name in ["reference", "direct", "im2col-gemm", "pointwise-gemm", "depthwise-simd"] {
            #expect(r.stdout.contains(name))
        }
    }

    @Test func sameSeedSameOutputAndJSON() throws {
        let a = try CLI.run(["verify", "--cases", "60", "--seed", "9", "--format", "json"])
        let b = try CLI.run(["verify", "--cases", "60", "--seed", "9", "--format", "json"])
        let strip: (String) -> String = { $0.replacingOccurrences(of: #""seconds" : [0-9.e-]+"#, with: "", options: .regularExpression) }
        #expect(strip(a.stdout) == strip(b.stdout))
        let o = try JSONSerialization.jsonObject(with: Data(a.stdout.utf8)) as? [String: Any]
        #expect(o?["cases"] as? Int == 60 && o?["failed"] as? Bool == false)
    }

    @Test func singleCaseReplayRunsEveryDataKind() throws {
        let r = try CLI.run(["verify", "--case", "g2mb1ic4ih9oc6kh3ph1dh1", "--algorithm", "direct", "--seed", "3"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("convbench verify: 7 cases"))
    }

    @Test func badArgumentsExitTwo() throws {
        for args in [["verify", "--algorithm", "nope"], ["verify", "--cases", "0"], ["verify", "--case", "mb1ic3zz"],
                     ["verify", "--data", "weird"], ["verify", "--threads", "0"]] {
            let r = try CLI.run(args)
            #expect(r.status == 2, "\(args)")
            #expect(r.stderr.split(separator: "\n").count == 1, "\(args): \(r.stderr)")
        }
    }
}
