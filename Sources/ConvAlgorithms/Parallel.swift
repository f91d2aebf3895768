import Dispatch

/// Static partitioning of `0..<count` over `threads` workers. Each worker gets one contiguous
/// chunk, so which thread computes an element never changes the arithmetic: results are
/// identical for every thread count.
public func parallelFor(threads: Int, count: Int, _ body: (Range<Int>) -> Void) {
    let workers = max(1, min(threads, count))
    if workers == 1 {
        if count > 0 { body(0..<count) }
        return
    }
    parallelForWorkers(threads: workers, count: count) { _, range in body(range) }
}

/// Like `parallelFor`, also telling each chunk which worker (0..<threads) runs it, so workers can
/// use private scratch memory.
public func parallelForWorkers(threads: Int, count: Int, _ body: (_ worker: Int, Range<Int>) -> Void) {
    let workers = max(1, min(threads, count))
    if workers == 1 {
        if count > 0 { body(0, 0..<count) }
        return
    }
    func share(_ w: Int) {
        let lo = count * w / workers, hi = count * (w + 1) / workers
        if lo < hi { body(w, lo..<hi) }
    }
    if WorkerPool.shared.run(workers: workers, share) { return }
    withoutActuallyEscaping(share) { share in
        // The body writes disjoint ranges through raw pointers; the chunks never overlap.
        let shared = UncheckedSendable(share)
        DispatchQueue.concurrentPerform(iterations: workers) { w in shared.value(w) }
    }
}

/// Wraps a value that is shared across worker threads under a discipline the compiler cannot see
/// (disjoint output ranges, read-only inputs).
public struct UncheckedSendable<T>: @unchecked Sendable {
    public let value: T
    public init(_ value: T) { self.value = value }
}
