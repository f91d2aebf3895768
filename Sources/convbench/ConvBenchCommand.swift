import ArgumentParser
import ConvAlgorithms
import ConvBenchKit
import ConvCore
import ConvModels
import Foundation

@main
struct ConvBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convbench",
        abstract: "Benchmark and verify 2D convolution algorithms on this CPU.",
        subcommands: [RunCommand.self, VerifyCommand.self, GateCommand.self, RenderCommand.self, DescribeCommand.self,
                      AlgorithmsCommand.self, ConvCommand.self, ParamsCommand.self, AccuracyCommand.self, ExportCommand.self]
    )

    /// Bad input of any kind prints one line on stderr and exits with status 2; help exits 0.
    static func main() {
        OpenBLASEnvironment.ensure()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            if let exit = error as? ExitCode {
                Foundation.exit(exit.rawValue)
            }
            let text = domainMessage(error) ?? message(for: error)
            let oneLine = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty }.joined(separator: "; ")
            FileHandle.standardError.write(Data("convbench: error: \(oneLine)\n".utf8))
            Foundation.exit(2)
        }
    }
}

/// The message of an error raised by ConvBench's own libraries, which already name the problem.
func domainMessage(_ error: Error) -> String? {
    switch error {
    case let e as DescriptorError: return e.description
    case let e as CaseSyntaxError: return e.description
    case let e as NPYError: return e.description
    case let e as ConvolutionError: return e.description
    case let e as CLIError: return e.description
    case let e as SuiteError: return e.description
    case let e as ModelError: return e.description
    default: return nil
    }
}

/// Errors the CLI itself raises (bad combinations of files and flags).
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// `--deconv` plus the case argument, shared by every command that takes one case.
struct CaseOptions: ParsableArguments {
    @Argument(help: "A convolution case in benchdnn syntax, e.g. mb1ic64ih56oc64oh56kh3ph1 (prefix 'deconv:' for transposed).")
    var caseLine: String

    @Flag(help: "Read the case as a deconvolution (transposed convolution), like benchdnn's deconv driver.")
    var deconv = false

    func parse() throws -> ConvCase {
        try ConvCase(parsing: caseLine, mode: deconv ? .deconvolution : .convolution)
    }
}
