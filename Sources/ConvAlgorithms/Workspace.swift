import ConvCore

/// Scratch memory owned by a prepared convolution: allocated once in `prepare`, reused by every
/// `run` (so a prepared convolution runs one call at a time). 64-byte aligned like `Tensor`.
public final class Workspace: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int

    public init(count: Int) {
        self.count = count
        let n = max(count, 1)
        pointer = AlignedMemory.allocate(floats: n)
        pointer.initialize(repeating: 0, count: n)
    }

    public var bytes: Int { count * MemoryLayout<Float>.stride }

    /// Overwrites the whole workspace with a byte pattern, by default all ones (a NaN in every float).
    /// The verification engine does this before each run, so a kernel that reads scratch it never
    /// wrote fails loudly.
    public func poison(byte: UInt8 = 0xFF) {
        UnsafeMutableRawPointer(pointer).initializeMemory(as: UInt8.self, repeating: byte, count: bytes)
    }

    deinit { pointer.deallocate() }
}

/// A prepared convolution that exposes its scratch memory, so the engine can poison it.
public protocol WorkspaceExposing {
    var workspaces: [Workspace] { get }
}
