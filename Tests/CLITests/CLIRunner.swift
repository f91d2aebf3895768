import Foundation

/// Runs the built `convbench` executable and captures what a user would see.
struct CLIResult {
    let status: Int32
    let stdout: String
    let stderr: String
}

enum CLI {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The executable built beside this test bundle.
    static let executable: URL = {
        var candidates: [URL] = []
        if let exe = Bundle.main.executableURL { candidates.append(exe.deletingLastPathComponent()) }
        candidates.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent())
        for b in Bundle.allBundles { candidates.append(b.bundleURL.deletingLastPathComponent()) }
        candidates.append(packageRoot.appendingPathComponent(".build/debug"))
        for dir in candidates {
            let url = dir.appendingPathComponent("convbench")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return packageRoot.appendingPathComponent(".build/debug/convbench")
    }()

    static func run(_ arguments: [String]) throws -> CLIResult {
        let p = Process()
        p.executableURL = executable
        p.arguments = arguments
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return CLIResult(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
                         stderr: String(decoding: e, as: UTF8.self))
    }

    /// A fresh directory under this test process's own folder, which goes when the process exits:
    /// left behind, the exports and reports of every run added up (3.4 GB after a few hundred).
    static func temporaryDirectory() -> URL {
        let dir = root.appendingPathComponent(UUID().uuidString)
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    static let root: URL = {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("convbench-cli-\(getpid())")
        atexit { try? FileManager.default.removeItem(at: CLI.root) }
        return dir
    }()
}
