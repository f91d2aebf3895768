import Foundation

/// What a peer runtime said after building the exported network and checking it.
public struct PeerSetup: Codable, Sendable {
    public var runtime: String
    public var version: String?
    public var setupSeconds: Double?
    public var agrees: Bool
    public var agreement: [PeerAgreement]
    public var error: String?
}

/// One checkpoint of the whole-network differential test.
public struct PeerAgreement: Codable, Sendable {
    public var node: String
    /// max |y_peer − y_convbench| ÷ max |y_convbench|.
    public var relativeDifference: Double?
    public var tolerance: Double
    public var ok: Bool
    public var error: String?
}

/// A peer runtime in its own process (`Benchmarks/peers/peers.py --serve`): it builds the network
/// from an export, checks it, then times forward passes when asked, so convbench can interleave
/// its own passes with the peer's. Between requests the peer waits on a read and uses no CPU.
public final class PeerSession {
    public let setup: PeerSetup
    private let process: Process
    private let requests: FileHandle
    private let replies: FileHandle
    private var pending = Data()
    private let logPath: String

    /// Starts the peer and waits for its setup report (which may take minutes the first time: the
    /// script makes its virtual environment and installs the runtime from PyPI). Its stderr goes
    /// to `logPath`.
    public init(script: String, export: String, runtime: String, threads: Int, logPath: String) throws {
        guard FileManager.default.fileExists(atPath: script) else {
            throw SuiteError("peer script \(script) not found (run from the repository root or pass --peer-script)")
        }
        guard FileManager.default.createFile(atPath: logPath, contents: nil), let log = FileHandle(forWritingAtPath: logPath) else {
            throw SuiteError("cannot write the peer log \(logPath)")
        }
        // A peer that dies must make a write fail with EPIPE, not kill convbench.
        signal(SIGPIPE, SIG_IGN)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", script, "--export", export, "--runtime", runtime, "--threads", String(threads), "--serve"]
        let toPeer = Pipe(), fromPeer = Pipe()
        p.standardInput = toPeer
        p.standardOutput = fromPeer
        p.standardError = log
        do { try p.run() } catch {
            throw SuiteError("cannot start python3 for the \(runtime) peer: \(error.localizedDescription)")
        }
        process = p
        requests = toPeer.fileHandleForWriting
        replies = fromPeer.fileHandleForReading
        self.logPath = logPath
        let line: Data
        do { line = try Self.readLine(replies, &pending) } catch {
            p.waitUntilExit()
            throw SuiteError("the \(runtime) peer stopped before reporting (exit \(p.terminationStatus)); see \(logPath)")
        }
        do { setup = try JSONDecoder().decode(PeerSetup.self, from: line) } catch {
            throw SuiteError("the \(runtime) peer sent an unreadable setup report; see \(logPath)")
        }
    }

    /// Wall times of `count` forward passes, one each, as the peer measured them.
    public func time(_ count: Int) throws -> [Double] {
        struct Reply: Decodable { var seconds: [Double]?; var error: String? }
        let line: Data
        do {
            try requests.write(contentsOf: Data("time \(count)\n".utf8))
            line = try Self.readLine(replies, &pending)
        } catch {
            throw SuiteError("the \(setup.runtime) peer stopped while timing; see \(logPath)")
        }
        guard let reply = try? JSONDecoder().decode(Reply.self, from: line), let seconds = reply.seconds,
              seconds.count == count else {
            throw SuiteError("the \(setup.runtime) peer could not time: \(String(decoding: line, as: UTF8.self))")
        }
        return seconds
    }

    public func close() {
        if process.isRunning {
            try? requests.write(contentsOf: Data("quit\n".utf8))
            try? requests.close()
            process.waitUntilExit()
        }
    }

    deinit { close() }

    private struct EndOfStream: Error {}

    private static func readLine(_ handle: FileHandle, _ pending: inout Data) throws -> Data {
        while true {
            if let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = pending[pending.startIndex..<newline]
                pending = Data(pending[(newline + 1)...])
                return Data(line)
            }
            let chunk = handle.availableData
            if chunk.isEmpty { throw EndOfStream() }
            pending.append(chunk)
        }
    }
}
