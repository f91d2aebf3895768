// One benchmark per algorithm on the representative layers of ResNet-50, Xception and DeepLab v3.
// Preparation (weight packing, workspace) happens before startMeasurement(); only `run` is timed.
// Throughput is layers per second; GFLOP/s = layer FLOPs × throughput (the FLOPs are in the name's
// layer, see `convbench describe`). `convbench run --suite layers` gives the same figures as ratios
// to the equivalent SGEMM measured in the same process.
import Benchmark
import ConvAlgorithms
import ConvCore
import Foundation

let layers: [(String, String)] = [
    ("resnet50-3x3-64@56", "mb1ic64ih56oc64oh56kh3ph1"),
    ("resnet50-3x3-256@14", "mb1ic256ih14oc256oh14kh3ph1"),
    ("resnet50-1x1-256to64@56", "mb1ic256ih56oc64oh56kh1"),
    ("resnet50-stem-7x7s2", "mb1ic3ih224oc64oh112kh7sh2ph3"),
    ("xception-stem-3x3s2", "mb1ic3ih299oc32oh149kh3sh2"),
    ("11x11-64@56", "mb1ic64ih56oc64oh56kh11ph5"),
    ("xception-dw3x3-728@19", "g728mb1ic728ih19oc728oh19kh3ph1"),
    ("xception-pw-728@19", "mb1ic728ih19oc728oh19kh1"),
    ("deeplab-layer4-d4-512@64", "mb1ic512ih64oc512oh64kh3ph4dh3"),
    ("deeplab-aspp-d12-2048to256@64", "mb1ic2048ih64oc256oh64kh3ph12dh11"),
    ("deeplab-aspp-d36-2048to256@64", "mb1ic2048ih64oc256oh64kh3ph36dh35"),
]

let threads = ProcessInfo.processInfo.environment["CONVBENCH_THREADS"].flatMap(Int.init)
    ?? ProcessInfo.processInfo.activeProcessorCount

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal, .peakMemoryResident],
        warmupIterations: 1,
        maxDuration: .seconds(3),
        maxIterations: 30,
        thresholds: [
            .wallClock: .init(relative: [.p50: 15.0]),
            .mallocCountTotal: .init(absolute: [.p90: 64]),
        ]
    )
    // The framework's own per-iteration floor, to read the others' allocation counts against.
    Benchmark("control: empty iteration") { benchmark in
        var y = Tensor(shape: [16])
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            y[0] += 1
            blackHole(y)
        }
    }
    for algorithm in AlgorithmRegistry.standard.algorithms where algorithm.name != "reference" {
        for (label, line) in layers {
            guard let conv = try? ConvCase(parsing: line).descriptor, algorithm.support(for: conv).isSupported else { continue }
            Benchmark("\(algorithm.name) \(label)") { benchmark in
                let x = Tensor.random(shape: conv.inputShape, .normal(mean: 0, std: 1), seed: 1)
                let w = Tensor.random(shape: conv.weightShape, .normal(mean: 0, std: 0.1), seed: 2)
                let b = Tensor.random(shape: conv.biasShape, .normal(mean: 0, std: 1), seed: 3)
                let prepared = try algorithm.prepare(conv, weights: w, bias: b, options: AlgorithmOptions(threads: threads))
                var y = Tensor(shape: conv.outputShape)
                benchmark.startMeasurement()
                for _ in benchmark.scaledIterations {
                    try prepared.run(x, into: &y)
                    blackHole(y)
                }
            }
        }
    }
}
