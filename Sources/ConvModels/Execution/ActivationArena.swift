import ConvCore

/// One 64-byte-aligned allocation holding every activation slot of a buffer plan. Views into it
/// (`Tensor(viewing:shape:owner:)`) keep it alive.
final class ActivationArena: @unchecked Sendable {
    let base: UnsafeMutablePointer<Float>
    let count: Int

    init(floats: Int) {
        count = max(floats, 1)
        base = AlignedMemory.allocate(floats: count)
        // NaN, so a value read before it is written shows up in the output.
        base.initialize(repeating: .nan, count: count)
    }

    deinit { base.deallocate() }
}
