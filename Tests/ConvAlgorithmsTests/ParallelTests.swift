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

/// parallelForStealing: every index exactly once (the claims from a range's front and back never
/// overlap), workers below the thread count, each worker's own range taken from its front in
/// order, and a worker that never runs its body costing nothing but its share: the region still
/// covers everything and returns.
@Suite struct StealingTests {
    @Test(arguments: [1, 2, 3, 4])
    func everyIndexOnce(threads: Int) {
        for (count, chunk) in [(0, 1), (1, 1), (7, 1), (100, 3), (728, 45), (1000, 1000), (33, 64)] {
            for _ in 0..<40 {
                let visits = ParallelTests.Visits(count)
                let badWorker = Atomic<Bool>(false)
                parallelForStealing(threads: threads, count: count, chunk: chunk) { worker, chunks in
                    if worker >= max(1, min(threads, count)) { badWorker.store(true, ordering: .relaxed) }
                    for range in chunks { for i in range { visits.counts[i] += 1 } }
                }
                let bad = badWorker.load(ordering: .relaxed)
                #expect(visits.everyIndexOnce && !bad, "threads \(threads), count \(count), chunk \(chunk)")
            }
        }
    }

    /// Worker 0 (the caller) takes its range front to back, then the rest from the back of the
    /// others' when they take nothing (here: they return at once, as a helper that had not started).
    @Test func theCallerTakesOverWhatTheOthersLeave() {
        for threads in [2, 3] {
            let visits = ParallelTests.Visits(90)
            let order = Mutex<[Range<Int>]>([])
            parallelForStealing(threads: threads, count: 90, chunk: 10) { worker, chunks in
                guard worker == 0 else { return }
                for range in chunks {
                    order.withLock { $0.append(range) }
                    for i in range { visits.counts[i] += 1 }
                }
            }
            #expect(visits.everyIndexOnce)
            let taken = order.withLock { $0 }
            let own = 90 / threads
            // Its own range first, in order, from the front.
            #expect(Array(taken.prefix((own + 9) / 10)) == stride(from: 0, to: own, by: 10).map { $0..<min(own, $0 + 10) })
            // Then another worker's range, from its back.
            #expect(taken[(own + 9) / 10] == (2 * own - 10)..<(2 * own))
        }
    }
}
