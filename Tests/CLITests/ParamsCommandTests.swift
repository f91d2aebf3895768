import Foundation
import Testing

@Suite struct ParamsCommandTests {
    @Test func tableStatesBothConventionsAndTotals() throws {
        let r = try CLI.run(["params", "--model", "deeplabv3-resnet50"])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines[0] == "convbench params: deeplabv3-resnet50, input 1x3x512x512 (NCHW), 99 layers, 61 convolutions")
        #expect(r.stdout.contains("PyTorch parameters() = Keras trainable weights"))
        #expect(r.stdout.contains("Keras count_params(): framework + batch-norm moving mean and variance"))
        #expect(r.stdout.contains("batch norm folded into the convolutions"))
        let header = try #require(lines.first { $0.hasPrefix("layer ") })
        for column in ["kind", "input", "output", "kernel", "stride", "padding", "dilation", "groups", "params",
                       "deployed", "MACs", "receptive field"] {
            #expect(header.contains(column))
        }
        let row = try #require(lines.first { $0.hasPrefix("backbone.layer4.1.conv2 ") })
        let cells = row.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        #expect(cells == ["backbone.layer4.1.conv2", "conv+bn+relu", "1x512x64x64", "1x512x64x64", "3", "1", "4", "4", "1",
                          "2,360,320", "2,359,808", "9,663,676,416", cells.last!])
        #expect(r.stdout.contains("parameters (framework)  39,638,869"))
        #expect(r.stdout.contains("conv MACs               163,579,428,864"))
    }

    @Test func csvRowsSumToTheTotal() throws {
        let r = try CLI.run(["params", "--model", "xception", "--format", "csv"])
        #expect(r.status == 0, "\(r.stderr)")
        let rows = r.stdout.split(separator: "\n").map { Self.fields(String($0)) }
        #expect(rows[0] == ["layer", "kind", "input", "output", "kernel", "stride", "padding", "dilation", "groups",
                            "params", "deployed_params", "macs", "receptive_field"])
        let layers = rows.dropFirst().dropLast()
        let total = rows.last!
        #expect(total[0] == "total" && total[9] == "22855952" && total[10] == "22828688")
        #expect(layers.map { Int($0[9])! }.reduce(0, +) == 22_855_952)
        #expect(layers.map { Int($0[11])! }.reduce(0, +) == Int(total[11])!)
        // Keras pads block3_pool 0 top/left and 1 bottom/right at 74x74.
        let pool = try #require(layers.first { $0[0] == "block3_pool" })
        #expect(pool[1] == "maxpool" && pool[3] == "1x256x37x37" && pool[6] == "0,1,0,1")
        #expect(r.stdout.contains("block3_pool,maxpool,1x256x74x74,1x256x37x37,3,2,\"0,1,0,1\""))
        #expect(layers.count == 104)
    }

    /// Splits one CSV line, honouring double-quoted fields.
    static func fields(_ line: String) -> [String] {
        var fields: [String] = [], current = "", quoted = false
        for ch in line {
            switch ch {
            case "\"": quoted.toggle()
            case "," where !quoted: fields.append(current); current = ""
            default: current.append(ch)
            }
        }
        return fields + [current]
    }

    @Test func jsonHasEveryLayerAndBothConventions() throws {
        let r = try CLI.run(["params", "--model", "xception", "--no-top", "--input", "71", "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let o = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(o["model"] as? String == "xception" && o["input"] as? [Int] == [1, 3, 71, 71])
        let totals = try #require(o["totals"] as? [String: Any])
        let p = try #require(totals["parameters"] as? [String: Int])
        #expect(p["keras"] == 20_861_480 && p["framework"] == 20_806_952)
        #expect((o["conventions"] as? [String: String])?.keys.sorted() == ["deployed", "framework", "keras"])
        let layers = try #require(o["layers"] as? [[String: Any]])
        #expect(layers.count == totals["layers"] as? Int)
        #expect(layers.last?["name"] as? String == "block14_sepconv2/pointwise")
        #expect(layers.last?["output"] as? [Int] == [1, 2048, 3, 3])
    }

    @Test func aspectRatioAndAux() throws {
        let r = try CLI.run(["params", "--model", "deeplabv3-resnet101", "--aux", "--input", "65x97", "--format", "csv"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("aux_classifier.interpolate,resize-bilinear,1x21x9x13,1x21x65x97"))
        #expect(r.stdout.contains("\ntotal,,,,,,,,,60996202,"))
    }

    @Test func badArgumentsExitTwoWithOneLine() throws {
        for args in [["params", "--model", "resnet"], ["params", "--model", "xception", "--input", "12x"],
                     ["params", "--model", "xception", "--input", "0x5"], ["params", "--model", "xception", "--aux"],
                     ["params", "--model", "deeplabv3-paper", "--no-top"], ["params", "--model", "xception", "--input", "64"],
                     ["params", "--model", "xception", "--format", "xml"], ["params"]] {
            let r = try CLI.run(args)
            #expect(r.status == 2, "\(args)")
            #expect(r.stderr.split(separator: "\n").count == 1, "\(args): \(r.stderr)")
            #expect(r.stderr.hasPrefix("convbench: error: "), "\(args)")
            #expect(r.stdout.isEmpty)
        }
    }
}
