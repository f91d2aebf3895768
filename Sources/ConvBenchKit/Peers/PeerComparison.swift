import ConvCore
import ConvModels
import Foundation

/// A peer runtime next to convbench in the report: its agreement with convbench's outputs and its
/// forward-pass time, measured in rounds that alternate with convbench's own selected pass.
public struct PeerResult: Codable, Sendable {
    public var runtime: String
    public var version: String?
    public var status: String
    public var agrees: Bool
    public var agreement: [PeerAgreement]
    public var setupSeconds: Double?
    /// The peer's forward passes.
    public var run: TimingStats?
    /// convbench's selected-table passes from the same rounds.
    public var convbench: TimingStats?
    /// convbench's median ÷ the peer's: below 1, convbench is faster.
    public var convbenchTimeRatio: Double?
    /// The median over the rounds of convbench's pass ÷ the peer's pass of the same round
    /// (`PeerComparison.pairedRatio`).
    public var pairedTimeRatio: Double?

    public var worstRelativeDifference: Double? { agreement.compactMap(\.relativeDifference).max() }
}

public enum PeerComparison {
    /// Times `rounds` rounds of: one convbench forward pass, then one pass of each peer (after one
    /// untimed pass of each), so slow drifts of a shared machine fall on all of them alike. Each
    /// pass starts `settle` seconds after the previous one ended: thread pools (OpenBLAS's, ONNX
    /// Runtime's) spin for a while after their work, and would otherwise take the cores from the
    /// next runtime's pass (measured: 145 ms instead of 112 for convbench's Xception at 160×160).
    ///
    /// `rounds` nil: as many rounds as fill about `roundsBudget` seconds of passes and settling,
    /// judged from the untimed passes, from 5 to 60. One pass of a 90 ms network in 5 rounds was at
    /// the mercy of a few slow passes (convbench's Xception passes in one run: 88 ms for four rounds,
    /// then 95–110, while ONNX Runtime's stayed at 84–89); 21 rounds were not enough either: the
    /// same selected table as its own "peer" (in a second process, interleaved the same way) came
    /// out at 0.96 of itself in a run whose rounds crossed one of the host's slow spells. DeepLab's
    /// runs got 10 rounds, Xception's 44–50.
    ///
    /// Before the timed rounds, untimed ones for about `warmupSeconds` (at least one): the peer has
    /// just built and checked its sessions, and the first rounds after that were the slowest of
    /// their run for both runtimes (Xception, two runs of 18: convbench 109–124 ms against a median of
    /// 89–93, ONNX Runtime 98–105 against 87).
    public static func interleave(runner: ModelRunner, input: Tensor, sessions: [PeerSession], rounds: Int?,
                                  settle: Double = 0.2, roundsBudget: Double = 30,
                                  warmupSeconds: Double = 2) -> [PeerResult] {
        var results = sessions.map { s in
            PeerResult(runtime: s.setup.runtime, version: s.setup.version,
                       status: s.setup.error.map { "error: \($0)" } ?? "ok", agrees: s.setup.agrees,
                       agreement: s.setup.agreement, setupSeconds: s.setup.setupSeconds)
        }
        var live = sessions.indices.filter { results[$0].status == "ok" }
        var roundSeconds = 0.0
        do { roundSeconds += try Clock.time { _ = try runner.run(input) } + settle } catch {
            return results.map { var r = $0; r.status = "error: convbench's pass failed: \(error)"; return r }
        }
        for i in live {
            do { roundSeconds += try sessions[i].time(1)[0] + settle } catch { results[i].status = "error: \(error)" }
        }
        live.removeAll { results[$0].status != "ok" }
        let rounds = rounds ?? automaticRounds(roundSeconds: roundSeconds, budget: roundsBudget)
        var ours: [Double] = []
        var theirs = [[Double]](repeating: [], count: sessions.count)
        /// One round: convbench's pass, then each live peer's; false when convbench's pass failed.
        func round() -> Bool {
            Thread.sleep(forTimeInterval: settle)
            do { ours.append(try Clock.time { _ = try runner.run(input) }) } catch { return false }
            for i in live {
                Thread.sleep(forTimeInterval: settle)
                do { theirs[i] += try sessions[i].time(1) } catch {
                    results[i].status = "error: \(error)"
                    live.removeAll { $0 == i }
                }
            }
            return true
        }
        for _ in 0..<warmupRounds(roundSeconds: roundSeconds, seconds: warmupSeconds) {
            guard round() else { break }
        }
        ours = []
        theirs = theirs.map { _ in [] }
        for _ in 0..<rounds {
            guard round() else { break }
        }
        let convbench = ours.isEmpty ? nil : TimingStats(samples: ours)
        for i in sessions.indices where results[i].status == "ok" && !theirs[i].isEmpty {
            let peer = TimingStats(samples: theirs[i])
            results[i].run = peer
            results[i].convbench = convbench
            results[i].convbenchTimeRatio = convbench.map { $0.median / peer.median }
            results[i].pairedTimeRatio = pairedRatio(convbench: ours, peer: theirs[i])
        }
        return results
    }

    /// The median over the rounds of convbench's time ÷ the peer's in the same round; nil unless
    /// both have one time per round. Each round's two passes run a few hundred milliseconds apart,
    /// under the same conditions of the host, which the ratio of the two medians does not keep: when
    /// one of the host's slow spells covered 20 of 50 Xception rounds, convbench's pass was the
    /// faster in 31 rounds (0.967 at the median round), while its median fell on its quiet passes'
    /// slower tail and the ratio of medians read 1.03. Against itself (the selected
    /// table timed in a second process as its own peer) the paired ratio read 0.971 and 0.992 where
    /// the ratio of medians read 0.961 and 0.979.
    public static func pairedRatio(convbench: [Double], peer: [Double]) -> Double? {
        guard !convbench.isEmpty, convbench.count == peer.count, peer.allSatisfy({ $0 > 0 }) else { return nil }
        return TimingStats.medianRatio(convbench, over: peer)
    }

    /// Untimed rounds that fill about `seconds` when one round takes `roundSeconds`, from 1 to 10.
    public static func warmupRounds(roundSeconds: Double, seconds: Double) -> Int {
        guard roundSeconds > 0, roundSeconds.isFinite, seconds.isFinite else { return 1 }
        return min(10, max(1, Int((seconds / roundSeconds).rounded())))
    }

    /// Rounds that fill `budget` seconds when one round takes `roundSeconds`, from 5 to 60.
    public static func automaticRounds(roundSeconds: Double, budget: Double) -> Int {
        guard roundSeconds > 0, roundSeconds.isFinite else { return 5 }
        return min(60, max(5, Int(budget / roundSeconds)))
    }
}
