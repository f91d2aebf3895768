import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Persistent helper threads for `parallelFor`, which spin for a short while after each parallel
/// region before they sleep.
///
/// Why not `DispatchQueue.concurrentPerform` alone: on this 2-vCPU VM a libdispatch worker often
/// took longer to wake than the caller's own 100 µs share of the work, so the caller ran both
/// shares and a 2-thread region took as long as a serial one (measured: 200 µs vs 105 µs with a
/// spinning helper). A forward pass is hundreds of such regions a few hundred µs to a few ms long,
/// back to back; a helper that is still spinning when the next region starts joins at once.
///
/// The pool serves one region at a time. A region that finds it busy (another thread's region, or
/// a region nested in one) runs on libdispatch instead, as before. Helpers stop spinning at once
/// when `releaseCores()` says the cores are about to go to someone else's threads (OpenBLAS's).
final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool()

    /// How long an idle helper keeps polling for the next region before it sleeps (2 ms).
    static let spinNanoseconds: UInt64 = 2_000_000
    /// Helpers this pool will start (regions wider than this + 1 use libdispatch).
    static let maxHelpers = 63

    private let busy = Atomic<Bool>(false)
    private let generation = Atomic<Int>(0)
    /// Shares done in a region that is not `claiming`.
    private let completed = Atomic<Int>(0)
    /// Whether helpers may still join the current region, and how many are inside it.
    private let open = Atomic<Bool>(false)
    private let active = Atomic<Int>(0)
    private let sleepers = Atomic<Int>(0)
    private let parked = Atomic<Int>(0)
    private let lock: UnsafeMutablePointer<pthread_mutex_t>
    private let wake: UnsafeMutablePointer<pthread_cond_t>

    // Written by the region's caller before `generation` is bumped, read by helpers after.
    private var helpers = 0
    private var workers = 0
    private var claiming = false
    private var body: ((Int) -> Void)?

    private init() {
        lock = .allocate(capacity: 1)
        wake = .allocate(capacity: 1)
        pthread_mutex_init(lock, nil)
        pthread_cond_init(wake, nil)
    }

    /// Runs `body(w)` for every w in 0..<workers, w = 0 on the calling thread; returns when all are
    /// done. False (nothing run) when the pool is busy or `workers` exceeds its size.
    ///
    /// `claiming`: the bodies share their work out among themselves as they go (`parallelForStealing`),
    /// so the caller's body may do all of it. Then the region ends as soon as the caller's body
    /// returns and the helpers that had joined by then are done; a helper that had not started yet
    /// (asleep, or its vCPU not running) skips it instead of holding the region up.
    func run(workers: Int, claiming: Bool = false, _ body: (Int) -> Void) -> Bool {
        guard workers - 1 <= Self.maxHelpers,
              busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
        else { return false }
        defer { busy.store(false, ordering: .releasing) }
        while helpers < workers - 1 {
            if !startHelper(index: helpers + 1) { return false }
        }

        withoutActuallyEscaping(body) { body in
            self.body = body
            self.workers = workers
            self.claiming = claiming
            completed.store(0, ordering: .relaxed)
            parked.store(-1, ordering: .relaxed)
            open.store(true, ordering: .sequentiallyConsistent)
            generation.add(1, ordering: .sequentiallyConsistent)
            if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                pthread_mutex_lock(lock)
                pthread_cond_broadcast(wake)
                pthread_mutex_unlock(lock)
            }
            body(0)
            var polls = 0
            @inline(__always) func pause() {
                polls += 1
                // More workers than free cores: let the ones still running have this one.
                if polls & 255 == 0 { sched_yield() }
            }
            if !claiming {
                while completed.load(ordering: .acquiring) < workers - 1 { pause() }
            }
            open.store(false, ordering: .sequentiallyConsistent)
            while active.load(ordering: .sequentiallyConsistent) > 0 { pause() }
            self.body = nil
        }
        return true
    }

    /// Idle helpers go to sleep now instead of finishing their spin: the caller is about to hand
    /// the cores to another thread pool.
    func releaseCores() {
        parked.store(generation.load(ordering: .relaxed), ordering: .relaxed)
    }

    /// False when the system would not start another thread (the region then runs on libdispatch).
    private func startHelper(index: Int) -> Bool {
        let context = Unmanaged.passRetained(HelperContext(pool: self, index: index, generation: generation.load(ordering: .relaxed))).toOpaque()
        var thread = pthread_t()
        let started = pthread_create(&thread, nil, { raw in
            let context = Unmanaged<HelperContext>.fromOpaque(raw!).takeRetainedValue()
            context.pool.helperLoop(index: context.index, seen: context.generation)
        }, context)
        guard started == 0 else {
            Unmanaged<HelperContext>.fromOpaque(context).release()
            return false
        }
        helpers += 1
        pthread_detach(thread)
        return true
    }

    /// `seen`: the generation when the helper was made; its first region is the next one.
    private func helperLoop(index: Int, seen: Int) -> Never {
        var seen = seen
        while true {
            waitForRegion(after: seen)
            seen = generation.load(ordering: .acquiring)
            // Join the region unless it is over already (its caller has closed it, or a later one began).
            active.add(1, ordering: .sequentiallyConsistent)
            if open.load(ordering: .sequentiallyConsistent) && generation.load(ordering: .sequentiallyConsistent) == seen
                && index < workers {
                runShare(index)
                if !claiming { completed.add(1, ordering: .releasing) }
            }
            active.subtract(1, ordering: .releasing)
        }
    }

    // Its own frame, so the helper's reference to the body is gone before it reports finished.
    @inline(never)
    private func runShare(_ index: Int) {
        body!(index)
    }

    private func waitForRegion(after seen: Int) {
        let start = DispatchTime.now().uptimeNanoseconds
        var polls = 0
        while generation.load(ordering: .acquiring) == seen {
            polls += 1
            guard polls & 63 == 0 else { continue }
            if parked.load(ordering: .relaxed) == seen || DispatchTime.now().uptimeNanoseconds - start > Self.spinNanoseconds {
                pthread_mutex_lock(lock)
                sleepers.add(1, ordering: .sequentiallyConsistent)
                while generation.load(ordering: .sequentiallyConsistent) == seen { pthread_cond_wait(wake, lock) }
                sleepers.subtract(1, ordering: .sequentiallyConsistent)
                pthread_mutex_unlock(lock)
                return
            }
        }
    }
}

private final class HelperContext {
    let pool: WorkerPool
    let index: Int
    let generation: Int
    init(pool: WorkerPool, index: Int, generation: Int) {
        self.pool = pool
        self.index = index
        self.generation = generation
    }
}
