import Foundation
import Testing
@testable import ConvCore

/// Every line of oneDNN benchdnn's 1D and 2D convolution and deconvolution shape lists (copied
/// into Fixtures/benchdnn from ../shared/benchdnn) must parse, and where a line states its output
/// size, ConvBench must compute the same size.
@Suite struct BenchdnnShapeListTests {
    static func files(_ folder: String) -> [URL] {
        let dir = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!
            .appendingPathComponent("benchdnn").appendingPathComponent(folder)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.sorted().map { dir.appendingPathComponent($0) }
    }

    /// The value of entry `key` as written before the name, if any.
    static func stated(_ key: String, in line: String) -> Int? {
        let body = line.split(separator: "n\"", maxSplits: 1).first.map(String.init) ?? line
        guard let r = body.range(of: key + "[0-9]+", options: .regularExpression) else { return nil }
        // Guard against matching inside a longer key ("oh" inside "oph" cannot occur in benchdnn files).
        return Int(body[r].dropFirst(key.count))
    }

    static func check(folder: String, mode: CaseMode) throws -> Int {
        var parsed = 0, threeD = 0
        let urls = files(folder)
        #expect(urls.count > 3, "no fixtures found in \(folder)")
        for url in urls {
            let text = try String(contentsOf: url, encoding: .utf8)
            for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let line = raw.trimmingCharacters(in: .whitespaces)
                if line.isEmpty || line.hasPrefix("#") { continue }
                let where_ = "\(url.lastPathComponent):\(number + 1): \(line)"
                let body = line.components(separatedBy: "n\"").first ?? line
                if body.range(of: "(id|kd|od|sd|pd|dd)[0-9]", options: .regularExpression) != nil {
                    // 3D lines must be refused clearly, not misread.
                    do {
                        _ = try ConvCase(parsing: line, mode: mode)
                        Issue.record("\(where_): a 3D line was accepted")
                    } catch {
                        if case .threeDimensional = error {} else { Issue.record("\(where_): \(error)") }
                    }
                    threeD += 1
                    continue
                }
                let c: ConvCase
                do {
                    // The huge lines of shapes_large_conv exceed the default memory cap by design.
                    c = try ConvCase(parsing: line, mode: mode, memoryCapBytes: .max)
                } catch {
                    Issue.record("\(where_): \(error)")
                    continue
                }
                let d = c.descriptor
                if let oh = stated("oh", in: line) { #expect(d.outHeight == oh, "\(where_)") }
                if let ow = stated("ow", in: line) { #expect(d.outWidth == ow, "\(where_)") }
                if let ic = stated("ic", in: line) { #expect(d.inChannels == ic, "\(where_)") }
                if let oc = stated("oc", in: line) { #expect(d.outChannels == oc, "\(where_)") }
                // A 1D line (only w entries) is height 1.
                if stated("ih", in: line) == nil && stated("kh", in: line) == nil && stated("oh", in: line) == nil {
                    #expect(d.inHeight == 1 && d.outHeight == 1 && d.kernelHeight == 1, "\(where_)")
                }
                // And the canonical form reads back the same.
                #expect(try ConvCase(parsing: c.line, mode: mode, memoryCapBytes: .max).descriptor == d, "\(where_)")
                parsed += 1
            }
        }
        print("benchdnn \(folder): \(parsed) lines parsed, \(threeD) 3D lines refused")
        return parsed
    }

    @Test func everyConvolutionLineParses() throws {
        let n = try Self.check(folder: "conv", mode: .convolution)
        #expect(n > 1000)
    }

    @Test func everyDeconvolutionLineParses() throws {
        let n = try Self.check(folder: "deconv", mode: .deconvolution)
        #expect(n > 50)
    }
}
