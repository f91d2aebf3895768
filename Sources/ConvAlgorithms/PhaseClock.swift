import Dispatch

/// A prepared convolution that accounts for its time by phase (Winograd: input transform,
/// multiply, output transform; FFT: forward transforms, spectral products, inverse transforms),
/// summed over the runs since the last reset.
public protocol PhaseTimed: AnyObject {
    func resetPhaseTimes()
    var phaseSeconds: [(String, Double)] { get }
}

/// The clock behind `PhaseTimed`: `start` at the top of a run, `lap(i)` at the end of phase i.
/// Fixed storage, so timing a run allocates nothing.
struct PhaseClock {
    let names: [String]
    private var nanoseconds: [UInt64]
    private var last: UInt64 = 0

    init(_ names: [String]) {
        self.names = names
        nanoseconds = [UInt64](repeating: 0, count: names.count)
    }

    mutating func start() { last = DispatchTime.now().uptimeNanoseconds }

    mutating func lap(_ phase: Int) {
        let now = DispatchTime.now().uptimeNanoseconds
        nanoseconds[phase] &+= now &- last
        last = now
    }

    mutating func reset() {
        for i in nanoseconds.indices { nanoseconds[i] = 0 }
    }

    var seconds: [(String, Double)] { zip(names, nanoseconds).map { ($0, Double($1) * 1e-9) } }
}

/// A `PhaseTimed` preparation that keeps its times in a `PhaseClock`.
protocol PhaseClocked: PhaseTimed {
    var clock: PhaseClock { get set }
}

extension PhaseClocked {
    func resetPhaseTimes() { clock.reset() }
    var phaseSeconds: [(String, Double)] { clock.seconds }
}
