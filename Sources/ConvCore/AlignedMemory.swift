#if canImport(Glibc)
import Glibc
#endif

/// Float buffers for tensors, activation arenas and workspaces: 64-byte aligned, and those of
/// `hugePageBytes` or more 2 MiB aligned and marked for transparent huge pages (Linux's
/// MADV_HUGEPAGE; Debian's default THP setting, `madvise`, backs only marked memory with them),
/// so a pass's 110 MB of Xception weights, activations and workspaces take a few dozen TLB entries
/// instead of thousands. Whole Xception passes alternated in one process on the Emerald Rapids VM:
/// 0.986 of the time with 0.2 s between passes (as the peer rounds have), 0.994 back to back. Only
/// whole 2 MiB pages inside a buffer become huge pages; its size is not rounded up.
public enum AlignedMemory {
    public static let hugePageBytes = 2 << 20

    public static func allocate(floats: Int) -> UnsafeMutablePointer<Float> {
        let n = max(floats, 1), bytes = n * MemoryLayout<Float>.stride
        guard bytes >= hugePageBytes else {
            return UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: Tensor.alignment)
                .bindMemory(to: Float.self, capacity: n)
        }
        let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: hugePageBytes)
        #if os(Linux)
        _ = madvise(raw, bytes, MADV_HUGEPAGE)
        #endif
        return raw.bindMemory(to: Float.self, capacity: n)
    }
}
