import ArgumentParser
import ConvAlgorithms
import ConvCore

struct AlgorithmsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "algorithms",
        abstract: "List the registered algorithms; with a case, whether each supports it and why not."
    )

    @Argument(help: "Optional case in benchdnn syntax.") var caseLine: String?
    @Flag(help: "Read the case as a deconvolution.") var deconv = false

    func run() throws {
        let registry = AlgorithmRegistry.standard
        let width = registry.names.map(\.count).max() ?? 0
        guard let caseLine else {
            for a in registry.algorithms {
                print(a.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + a.summary)
            }
            return
        }
        let c = try ConvCase(parsing: caseLine, mode: deconv ? .deconvolution : .convolution)
        print("case \(c.line)")
        for a in registry.algorithms {
            let status: String
            switch a.support(for: c.descriptor) {
            case .supported: status = "supported"
            case let .unsupported(reason): status = "unsupported: \(reason)"
            }
            print(a.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + status)
        }
    }
}
