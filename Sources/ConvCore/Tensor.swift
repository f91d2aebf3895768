/// A dense float32 tensor in row-major order (NCHW for activations, OIHW/IOHW for weights),
/// stored 64-byte aligned so SIMD loads of a row start on a cache line.
///
/// Value semantics with copy-on-write: copies share storage until one of them is mutated.
/// Kernels reach the memory through `withUnsafeBufferPointer` / `withUnsafeMutableBufferPointer`;
/// the mutable form never copies when the tensor is uniquely referenced, so `run` into a
/// preallocated output allocates nothing.
public struct Tensor: Sendable {
    public private(set) var shape: [Int]
    @usableFromInline var storage: TensorStorage

    public static let alignment = 64

    /// A zero-filled tensor.
    public init(shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative tensor dimension in \(shape)")
        self.shape = shape
        self.storage = TensorStorage(count: shape.reduce(1, *))
    }

    /// A tensor whose elements are the `shape`-product floats at `pointer`, memory that `owner`
    /// allocated and keeps alive (the view holds a strong reference to it). Used by planners that
    /// place many tensors in one arena. Value semantics still hold: the view writes through to
    /// that memory only while it is uniquely referenced; a copy that is then mutated gets its own
    /// storage, as every `Tensor` does. `baseAddress` tells whether that happened.
    public init(viewing pointer: UnsafeMutablePointer<Float>, shape: [Int], owner: AnyObject) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative tensor dimension in \(shape)")
        self.shape = shape
        self.storage = TensorStorage(viewing: pointer, count: shape.reduce(1, *), owner: owner)
    }

    /// A tensor holding `values` (count must equal the product of `shape`).
    public init(shape: [Int], values: [Float]) {
        self.init(shape: shape)
        precondition(values.count == count, "tensor of shape \(shape) needs \(count) values, got \(values.count)")
        values.withUnsafeBufferPointer { src in
            storage.pointer.update(from: src.baseAddress!, count: src.count)
        }
    }

    /// Whether the shape is exactly [a, b, c, d] (without building an array).
    @inlinable
    public func hasShape(_ a: Int, _ b: Int, _ c: Int, _ d: Int) -> Bool {
        shape.count == 4 && shape[0] == a && shape[1] == b && shape[2] == c && shape[3] == d
    }

    /// Elements in the tensor.
    public var count: Int { storage.count }

    /// Reinterprets the same elements with another shape of equal element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        precondition(newShape.reduce(1, *) == count, "cannot reshape \(shape) to \(newShape)")
        var t = self
        t.shape = newShape
        return t
    }

    @inlinable
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: storage.pointer, count: storage.count))
    }

    @inlinable
    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (UnsafeMutableBufferPointer<Float>) throws -> R
    ) rethrows -> R {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
        return try body(UnsafeMutableBufferPointer(start: storage.pointer, count: storage.count))
    }

    /// Where the elements live (for checking that a view still writes into its arena).
    public var baseAddress: UnsafePointer<Float> { UnsafePointer(storage.pointer) }

    /// All elements, in order.
    public var scalars: [Float] { withUnsafeBufferPointer { Array($0) } }

    public subscript(index: Int) -> Float {
        get { storage.pointer[index] }
        set { withUnsafeMutableBufferPointer { $0[index] = newValue } }
    }

    /// Sets every element to `value` (NaN pre-fill makes unwritten elements visible).
    public mutating func fill(_ value: Float) {
        withUnsafeMutableBufferPointer { $0.update(repeating: value) }
    }
}

extension Tensor: Equatable {
    /// Same shape and bitwise-equal elements (so NaN == NaN here, and -0 != +0).
    public static func == (a: Tensor, b: Tensor) -> Bool {
        guard a.shape == b.shape else { return false }
        if a.storage === b.storage { return true }
        for i in 0..<a.count where a.storage.pointer[i].bitPattern != b.storage.pointer[i].bitPattern {
            return false
        }
        return true
    }
}

/// Owner of a tensor's aligned memory, or a view of memory another object owns.
public final class TensorStorage: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int
    /// For a view: the object that owns the memory, kept alive here. Nil when this storage owns it.
    let owner: AnyObject?

    init(count: Int) {
        self.count = count
        self.owner = nil
        pointer = AlignedMemory.allocate(floats: count)
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    init(viewing pointer: UnsafeMutablePointer<Float>, count: Int, owner: AnyObject) {
        self.pointer = pointer
        self.count = count
        self.owner = owner
    }

    @usableFromInline func copy() -> TensorStorage {
        let c = TensorStorage(count: count)
        c.pointer.update(from: pointer, count: count)
        return c
    }

    deinit { if owner == nil { pointer.deallocate() } }
}
