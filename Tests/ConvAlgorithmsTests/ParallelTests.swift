import ConvAlgorithms
import Dispatch
import Synchronization
import Testing

/// parallelFor / parallelForWorkers run on the spinning worker pool, falling back to libdispatch
/// when the pool is taken (another thread's region, or a region nested in one). Whatever path a
/// region takes, every index must be visited exactly once, in the static contiguous chunks the
/// algorithms' determinism rests on, and worker numbers must stay below the thread count.
@Suite struct ParallelTests {
    /// Visits of each index and the chunk each worker got, for one region.
    final class Visits: @unchecked Sendable {
        let counts: UnsafeMutablePointer<Int>
        let count: Int
        init(_ count: Int) {
            self.count = count
            counts = .allocate(capacity: max(1, count))
            counts.initialize(repeating: 0, count: max(1, count))
        }
        deinit { counts.deallocate() }
        var everyIndexOnce: Bool { (0..<count).allSatisfy { counts[$0] == 1 } }
    }

    static func checkedRegion(threads: Int, count: Int) -> Bool {
        let visits = Visits(count)
        let ranges = Mutex<[Int: Range<Int>]>([:])
        let repeatedWorker = Atomic<Bool>(false)
        parallelForWorkers(threads: threads, count: count) { worker, range in
            for i in range { visits.counts[i] += 1 }
            ranges.withLock {
                if $0[worker] != nil { repeatedWorker.store(true, ordering: .relaxed) }
                $0[worker] = range
            }
        }
        var ok = !repeatedWorker.load(ordering: .relaxed)
        let workers = max(1, min(threads, count))
        let chunks = ranges.withLock { $0 }
        for (w, r) in chunks {
            // The static split: worker w gets [count·w/workers, count·(w+1)/workers).
            if w >= workers || r != (count * w / workers)..<(count * (w + 1) / workers) { ok = false }
        }
        return ok && visits.everyIndexOnce
    }

    @Test func everyIndexOnceInStaticChunks() {
        for threads in 1...5 {
            for count in [0, 1, 2, 3, 7, 64, 101] {
                #expect(Self.checkedRegion(threads: threads, count: count), "threads \(threads) count \(count)")
            }
        }
    }

    /// Four threads issuing regions at once: one holds the pool, the others fall back; none may
    /// lose or repeat an index, and none may hang.
    @Test func concurrentCallers() {
        let failures = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 4) { caller in
            for round in 0..<300 {
                if !Self.checkedRegion(threads: 2 + (caller + round) % 3, count: 1 + (round * 7) % 50) {
                    failures.add(1, ordering: .relaxed)
                }
            }
        }
        #expect(failures.load(ordering: .relaxed) == 0)
    }

    /// A region inside a region (the outer one holds the pool).
    @Test func nestedRegions() {
        let inner = Atomic<Int>(0)
        parallelFor(threads: 2, count: 8) { range in
            for _ in range {
                let visits = Visits(10)
                parallelFor(threads: 2, count: 10) { r in for i in r { visits.counts[i] += 1 } }
                if visits.everyIndexOnce { inner.add(1, ordering: .relaxed) }
            }
        }
        #expect(inner.load(ordering: .relaxed) == 8)
    }

    /// Regions after the helpers have gone to sleep (spin time passed) still get every index.
    @Test func regionsAfterIdle() async throws {
        for _ in 0..<3 {
            #expect(Self.checkedRegion(threads: 2, count: 33))
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}
