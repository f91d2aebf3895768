// swift-tools-version: 6.1
// ConvBench: benchmarking and verification harness for 2D convolution on CPU.
import PackageDescription

/// Hot kernels are built with -Ounchecked and the build machine's vector ISA (AVX2/AVX-512 FMAs).
/// `-march=native` ties the binary to the CPU it was built on; set CONVBENCH_PORTABLE=1 to build without it.
let portable = Context.environment["CONVBENCH_PORTABLE"] == "1"
let kernelFlags: [SwiftSetting] = [
    .unsafeFlags(portable ? ["-Ounchecked"] : ["-Ounchecked", "-Xcc", "-march=native"]),
]

let package = Package(
    name: "ConvBench",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "convbench", targets: ["convbench"]),
        .library(name: "ConvCore", targets: ["ConvCore"]),
        .library(name: "ConvAlgorithms", targets: ["ConvAlgorithms"]),
        .library(name: "ConvModels", targets: ["ConvModels"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // System-library shims: module maps only, no logic.
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS"),
        .systemLibrary(name: "CFFTW", path: "Sources/CFFTW"),
        .systemLibrary(name: "CGPerfTools", path: "Sources/CGPerfTools"),
        // What Swift cannot call of the C compiler (its prefetch builtin, its target's register count).
        .systemLibrary(name: "CCompilerBuiltins", path: "Sources/CCompilerBuiltins"),

        .target(name: "ConvCore"),
        .target(
            name: "ConvAlgorithms",
            dependencies: ["ConvCore", "CBLAS", "CFFTW", "CCompilerBuiltins"],
            swiftSettings: kernelFlags
        ),
        .target(
            name: "ConvVerify",
            dependencies: ["ConvCore", "ConvAlgorithms"]
        ),
        // Optimized even in debug builds (checks kept): its tests run whole forward passes, and
        // generating tens of millions of weights and the pooling/resize loops are slow at -Onone.
        .target(
            name: "ConvModels",
            dependencies: ["ConvCore", "ConvAlgorithms"],
            swiftSettings: [.unsafeFlags(["-O"])]
        ),
        .target(
            name: "ConvBenchKit",
            dependencies: ["ConvCore", "ConvAlgorithms", "ConvVerify", "ConvModels", "CBLAS", "CFFTW", "CGPerfTools"]
        ),
        .executableTarget(
            name: "convbench",
            dependencies: [
                "ConvCore", "ConvAlgorithms", "ConvVerify", "ConvBenchKit", "ConvModels",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        .testTarget(
            name: "ConvCoreTests",
            dependencies: ["ConvCore"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "ConvAlgorithmsTests",
            dependencies: ["ConvCore", "ConvAlgorithms", "ConvVerify"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "ConvVerifyTests",
            dependencies: ["ConvCore", "ConvAlgorithms", "ConvVerify"]
        ),
        .testTarget(
            name: "ConvBenchKitTests",
            dependencies: ["ConvCore", "ConvAlgorithms", "ConvBenchKit", "ConvModels"]
        ),
        .testTarget(
            name: "ConvModelsTests",
            dependencies: ["ConvCore", "ConvAlgorithms", "ConvModels"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "CLITests",
            dependencies: ["ConvCore", "ConvAlgorithms", "convbench"],
            exclude: ["Fixtures"]
        ),
    ]
)

// Microbenchmarks (ordo-one/package-benchmark) build only when asked for, so the everyday build and
// the tests do not compile the benchmark framework:
//   CONVBENCH_BENCHMARKS=1 swift package benchmark
//   CONVBENCH_BENCHMARKS=1 swift package --allow-writing-to-package-directory benchmark baseline update main
//   CONVBENCH_BENCHMARKS=1 swift package benchmark baseline check main
if Context.environment["CONVBENCH_BENCHMARKS"] == "1" {
    package.dependencies.append(
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]))
    package.targets.append(
        .executableTarget(
            name: "ConvAlgorithmsBenchmarks",
            dependencies: [
                "ConvAlgorithms", "ConvCore",
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/ConvAlgorithmsBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ))
}
