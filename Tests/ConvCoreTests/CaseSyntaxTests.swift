import Foundation
import Testing
@testable import ConvCore

@Suite struct CaseSyntaxTests {
    func parse(_ s: String, _ mode: CaseMode = .convolution) throws -> ConvDescriptor {
        try ConvCase(parsing: s, mode: mode).descriptor
    }

    @Test func benchdnnDefaults() throws {
        let d = try parse("ic3ih7oc4kh3")
        #expect(d.batch == 2)             // benchdnn's default minibatch
        #expect(d.groups == 1)
        #expect(d.inWidth == 7 && d.kernelWidth == 3)   // square: w copies h
        #expect(d.outHeight == 5 && d.outWidth == 5)    // no padding by default when output is missing
        #expect(d.dilationHeight == 1)    // dh0 = dense
        #expect(d.hasBias)                // FWD_B
    }

    @Test func dilationIsZeroBased() throws {
        let d = try parse("mb1ic512ih38iw57oc512oh38ow57kh3kw3ph3pw3dh2dw2n\"dilated_rfcn\"")
        #expect(d.dilationHeight == 3 && d.dilationWidth == 3)
        #expect(d.padTop == 3 && d.padBottom == 3)
        #expect(d.outputShape == [1, 512, 38, 57])
    }

    @Test func paddingDeducedFromOutput() throws {
        // p = ((o − 1)s − i + extent)/2 = (55·1 − 56 + 3)/2 = 1.
        let d = try parse("mb1ic64ih56oc64oh56kh3")
        #expect(d.padTop == 1 && d.padBottom == 1 && d.padLeft == 1)
    }

    @Test func endPaddingImpliedAndPossiblyNegative() throws {
        // ResNet-style 1×1 stride 2 on 56: p = (27·2 − 56 + 1)/2 = 0 (C truncation), end = 27·2 − 56 + 1 − 0 = −1.
        let d = try parse("mb1ic256ih56oc512oh28kh1sh2")
        #expect(d.padTop == 0 && d.padBottom == -1)
        #expect(d.outHeight == 28)
        // Stride-2 3×3 with output 112 from 224: p = (111·2 − 224 + 3)/2 = 0, end = 1.
        let e = try parse("mb1ic3ih224oc64oh112kh3sh2")
        #expect(e.padTop == 0 && e.padBottom == 1)
    }

    @Test func oneDimensionalShorthand() throws {
        let d = try parse("g128ic128iw16oc128ow16kw3sw1pw1n\"conv_dw\"")
        #expect(d.inHeight == 1 && d.kernelHeight == 1 && d.strideHeight == 1 && d.padTop == 0)
        #expect(d.outputShape == [2, 128, 1, 16])
        #expect(d.isDepthwise)
    }

    @Test func underscoresSeparateEntries() throws {
        let d = try parse("g2_ic32oc32_iw27kw2_n\"1d_gconv_channel-block-16\"")
        #expect(d.groups == 2 && d.outWidth == 26)
    }

    @Test func deconvolutionPrefixAndMode() throws {
        let a = try parse("deconv:mb1ic2ih2oc3kh3sh2")
        #expect(a.transposed && a.outHeight == 5)
        let b = try parse("g1mb256oc3oh227ow227ic96ih55iw55kh11kw11sh4sw4ph0pw0n\"alexnet:deconv1\"", .deconvolution)
        #expect(b.transposed && b.outputShape == [256, 3, 227, 227])
        #expect(b.weightShape == [96, 3, 11, 11])
    }

    @Test func endPaddingMayCropEveryInputRow() throws {
        // From shapes_dw_2d_1d_strided_padding: the one output row reads only padding.
        let d = try parse("mb1_g16_ic16oc16_kh2kw2_ih2iw2_oh1ow1_sh3sw3_ph2pw2_dh0dw0n\"dw-conv\"")
        #expect(d.padBottom == -2 && d.outHeight == 1)
    }

    @Test func leadingBenchdnnOptions() throws {
        // Memory strides are layout only: the math is the same.
        let a = try ConvCase(parsing: "--strides=903168x1x4032x9::6422528x1x28672x128 g1mb50ic3ih224iw224oc64oh112ow112kh7kw7sh2sw2ph3pw3n\"resnet_50:conv1\"")
        #expect(a.descriptor.outputShape == [50, 64, 112, 112] && a.name == "resnet_50:conv1")
        let b = try parse("--dir=FWD_D --mb=3 mb1ic3ih7oc4kh3")
        #expect(!b.hasBias && b.batch == 3)
        #expect(try parse("--dir=FWD_B mb1ic3ih7oc4kh3bias0").hasBias == false)
    }

    @Test func memoryCapAppliesToHugeLines() throws {
        let line = "mb1ic1oc1342177321iw27kw3"
        #expect(throws: CaseSyntaxError.self) { try ConvCase(parsing: line) }
        let d = try ConvCase(parsing: line, memoryCapBytes: .max).descriptor
        #expect(d.outWidth == 25 && d.outChannels == 1_342_177_321)
    }

    @Test func namesAreKept() throws {
        let c = try ConvCase(parsing: "mb1ic3ih7oc4kh3n\"resnet_50:conv1*4\"")
        #expect(c.name == "resnet_50:conv1*4")
        #expect(c.line.hasSuffix("n\"resnet_50:conv1*4\""))
    }

    @Test func extensionsForBiasOutputPaddingAndEndPadding() throws {
        let d = try parse("deconv:mb1ic3ih4oc2kh3sh2ph1oph1bias0")
        #expect(d.outHeight == 8 && d.outputPaddingHeight == 1 && !d.hasBias)
        let e = try parse("mb1ic1ih6oc1kh3sh2ph1eh1")
        #expect(e.padBottom == 1 && e.outHeight == 3)
    }

    static let malformed: [(String, CaseSyntaxError)] = [
        ("", .empty),
        ("   ", .empty),
        ("mb1ic3ih7oc4kh3xx5", .unrecognizedEntry(at: "xx5")),
        ("mb1ic3ih7oc4kh3 ph1", .unrecognizedEntry(at: " ph1")),
        ("mb1ic3ih7oc4kh", .missingValue(entry: "kh")),
        ("mb1ic3ic4ih7oc4kh3", .duplicateEntry("ic")),
        ("mb1ic3ih7oc4kh3ph-1", .badValue(entry: "ph", value: "-1")),
        ("mb1ih7oc4kh3", .missing(entry: "ic", because: "and must be positive")),
        ("mb1ic0ih7oc4kh3", .missing(entry: "ic", because: "and must be positive")),
        ("mb1ic3ih7kh3", .missing(entry: "oc", because: "and must be positive")),
        ("mb1ic3id7ih7oc4kd3kh3", .threeDimensional(entry: "id")),
        ("mb1ic3oc4", .noSpatialEntries),
        ("mb1ic3oc4kh3", .missing(entry: "ih", because: "when other h entries are given")),
        ("mb1ic3ih2oc4kh5", .deducedNonPositive(entry: "oh", value: -2)),
        ("mb1ic3ih7oc4kh3sh0", .badValue(entry: "sh", value: "0")),
        ("g0mb1ic3ih7oc4kh3", .badValue(entry: "g", value: "0")),
        ("mb1ic3ih7oc4kh3oph1", .inconsistent("entry 'oph' (output padding) applies only to deconvolution")),
        ("mb1ic3ih7oc4kh3bias2", .badValue(entry: "bias", value: "2")),
        ("mb1ic1ih6oc1oh3kh3sh2ph1eh5", .inconsistent("entry 'eh5' gives output h 5, but oh is 3")),
        ("mb1ic3ih7oc4oh1kh3ph0eh-5", .inconsistent("entry 'eh-5' gives output h 0, but oh is 1")),
        ("--dir=BWD_D mb1ic3ih7oc4kh3", .unsupportedOption("--dir=BWD_D")),
        ("--frobnicate=1 mb1ic3ih7oc4kh3", .unsupportedOption("--frobnicate=1")),
        ("mb1ic3ih7oc4kh3 --mb=2", .unrecognizedEntry(at: " --mb=2")),
        ("g2mb1ic3ih7oc4kh3", .invalid(.groupsDoNotDivide(field: "inChannels (ic)", channels: 3, groups: 2))),
        ("mb1ic3ih7oc4kh3ih99999999999999", .badValue(entry: "ih", value: "99999999999999")),
    ]

    @Test(arguments: 0..<malformed.count)
    func malformedLineIsAnErrorNamingTheToken(_ i: Int) {
        let (line, expected) = Self.malformed[i]
        #expect(throws: expected, "\(line)") { try ConvCase(parsing: line) }
    }
}
