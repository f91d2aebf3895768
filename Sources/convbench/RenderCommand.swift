import ArgumentParser
import ConvBenchKit
import Foundation

struct RenderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Re-render layers.csv and report.html from a report.json (the source of truth)."
    )

    @Argument(help: "A report.json written by `convbench run`.") var report: String
    @Option(help: "Output folder (default: the report's folder).") var out: String?

    func run() throws {
        let r = try RunReport.load(path: report)
        let folder = out ?? (report as NSString).deletingLastPathComponent
        let dir = folder.isEmpty ? "." : folder
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try AtomicFile.write(Data(r.csv().utf8), to: dir + "/layers.csv")
        try AtomicFile.write(Data(r.html().utf8), to: dir + "/report.html")
        print(r.markdownSummary())
    }
}
