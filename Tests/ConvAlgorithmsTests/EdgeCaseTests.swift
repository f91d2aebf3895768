import ConvAlgorithms
import ConvCore
import ConvVerify
import Testing

/// Named geometry that has broken convolution kernels before, run through every algorithm that
/// supports it, on exact small-integer data and on normal data.
@Suite struct EdgeCaseTests {
    static let cases: [(String, String)] = [
        ("channels cross the direct kernel's input chunk (32)", "mb1ic70ih5iw7oc9kh3kw3ph1pw1"),
        ("grouped, 35 input channels per group", "g2mb1ic70ih6oc10kh3ph1"),
        ("output channels not a multiple of the block (4)", "mb2ic3ih9oc7kh3"),
        ("width not a multiple of 16, one past", "mb1ic2ih3iw17oc3kh3kw3ph1pw1"),
        ("width exactly 16", "mb1ic2ih3iw16oc3kh3kw3ph1pw1"),
        ("1x1 image, 3x3 kernel, padding 1", "mb1ic4ih1oc5kh3ph1"),
        ("dilated kernel exactly the padded input", "mb1ic3ih5oc2kh3ph2dh3"),
        ("padding larger than the kernel", "mb1ic2ih4oc3oh12kh3ph5"),
        ("negative end padding (benchdnn)", "mb1ic3ih10oc4oh4kh3sh2"),
        ("every input row cropped (benchdnn)", "g4mb1ic4ih2oc4oh1kh2sh3ph2"),
        ("stride 3 with dilation 2", "mb1ic3ih20oc4kh3sh3ph2dh1"),
        ("asymmetric stride and kernel", "mb1ic3ih11iw13oc4kh2kw5sh3sw1ph1pw2"),
        ("depthwise multiplier 3, stride 2", "g5mb1ic5ih12oc15kh3sh2ph1"),
        ("depthwise 7x7 dilation 3", "g3mb2ic3ih30oc3kh7ph9dh2"),
        ("depthwise ASPP-like rate on a small map", "g4mb1ic4ih9oc4kh3ph12dh11"),
        ("pointwise strided", "mb2ic6ih9oc5kh1sh2"),
        ("pointwise on a 1x1 image", "mb1ic8ih1oc3kh1"),
        ("transposed 4x4 stride 2", "deconv:mb1ic6ih5oc4kh4sh2ph1"),
        ("transposed with output padding and dilation", "deconv:mb1ic4ih4oc6kh3sh2ph1dh1oph1"),
        ("transposed grouped 1D", "deconv:g2mb1ic4iw9oc6kw4sw3pw1"),
        ("transposed, padding past the kernel reach", "deconv:mb1ic2ih6oc2kh3sh1ph2"),
    ]

    @Test(arguments: 0..<cases.count)
    func everyAlgorithmAgreesOnEdgeCase(_ index: Int) throws {
        let (label, line) = Self.cases[index]
        let conv = try ConvCase(parsing: line).descriptor
        for data in [DataKind.smallIntegers, .normal] {
            let c = PreparedCase(conv, data: data, dataSeed: UInt64(index))
            for algorithm in AlgorithmRegistry.standard.algorithms {
                for threads in [1, 2] {
                    switch DifferentialRunner(threads: threads).check(algorithm, on: c) {
                    case .passed, .unsupported: break
                    case let .failed(f, _):
                        Issue.record("\(label) [\(line)] \(algorithm.name) \(data) threads \(threads): element \(f.index) expected \(f.expected) got \(f.actual)")
                    case let .threw(m):
                        Issue.record("\(label) [\(line)] \(algorithm.name) threw: \(m)")
                    }
                }
            }
        }
    }
}

@Suite struct SIMDTailWidthTests {
    /// Every output width from 1 to 40 through the SIMD kernels (full vectors, 8-wide and scalar tails).
    @Test(arguments: 1...40)
    func everyWidthIsWrittenExactly(_ width: Int) throws {
        for line in ["g3mb1ic3ih3iw\(width)oc3kh3kw3ph1pw1", "mb1ic5ih2iw\(width)oc6kh1kw3pw1"] {
            let conv = try ConvCase(parsing: line).descriptor
            let c = PreparedCase(conv, data: .smallIntegers, dataSeed: UInt64(width))
            for algorithm in AlgorithmRegistry.standard.algorithms {
                if case let .failed(f, _) = DifferentialRunner(threads: 1).check(algorithm, on: c) {
                    Issue.record("\(algorithm.name) width \(width) [\(line)]: element \(f.index) expected \(f.expected) got \(f.actual)")
                }
            }
        }
    }
}
