import CGPerfTools

/// Evicts the caches between timed repetitions (`convbench run --cold-cache`): writes then reads a
/// buffer of 256 MiB, several times any last-level cache of this machine class, so the next
/// repetition starts with its input, weights and workspace in memory, as a layer does inside a
/// network whose other layers have just run.
public final class CacheFlusher: @unchecked Sendable {
    public static let shared = CacheFlusher()
    public static let bytes = 256 << 20
    private let buffer: UnsafeMutablePointer<UInt64>
    private let count = CacheFlusher.bytes / MemoryLayout<UInt64>.stride
    private var sink: UInt64 = 0

    private init() {
        buffer = .allocate(capacity: count)
        buffer.initialize(repeating: 1, count: count)
    }

    public func flush() {
        var s = sink
        for i in stride(from: 0, to: count, by: 8) {   // one write and one read per 64-byte line
            buffer[i] &+= 1
            s &+= buffer[i]
        }
        sink = s
    }
}

/// gperftools' CPU profiler (`convbench run --cpu-profile FILE`, read with `pprof`). Samples are
/// kept only while the timed repetitions run: the profiler's per-sample thread filter reads a flag
/// that `enable`/`disable` set (gperftools' own ProfilerEnable/Disable are no-ops now).
public enum CPUProfile {
    /// Read from the profiler's signal handler through a raw pointer: no Swift runtime calls there.
    nonisolated(unsafe) private static let flag: UnsafeMutablePointer<Int32> = {
        let p = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
        p.initialize(to: 0)
        return p
    }()

    /// Starts writing samples to `path` (none are kept until `enable`). False if the profiler
    /// could not start (e.g. the file cannot be created).
    public static func start(path: String) -> Bool {
        var options = ProfilerOptions()
        options.filter_in_thread = { arg in arg!.load(as: Int32.self) }
        options.filter_in_thread_arg = UnsafeMutableRawPointer(flag)
        return ProfilerStartWithOptions(path, &options) != 0
    }

    public static func enable() { flag.pointee = 1 }
    public static func disable() { flag.pointee = 0 }
    public static func stop() { ProfilerStop() }
}
