/// Where each node's output lives while a model runs: activation buffers reused by liveness.
///
/// Values are placed in slots. A value is live from the node that writes it to the last node that
/// reads it (model outputs to the end). In execution order each new value takes, of the free slots
/// large enough, the one freed last (else the largest free one, grown), and the slots of values
/// read for the last time are freed after the node runs, never before, so no node writes over its
/// own operands. ReLU, dropout and add write over their first operand when that operand
/// dies there (in place), and so do the convolutions in `overwritableInputs` (their algorithms
/// read each input element before writing over it: `InputOverwriting`) when their output has
/// the operand's size. The graph input is the caller's tensor and takes no slot.
///
/// Why the slot freed last: its lines are the likeliest to be still in the cache, held by the core
/// that will write them. Each of Xception's middle-flow blocks starts with a depthwise layer that
/// cannot write over its input (the residual's); it had taken the smallest free slot, the one the
/// block's last 1×1 layer had read whole on both cores, and now takes the block input's, which the
/// fused add had just read, each core its own half: 0.145 → 0.107 ms per such layer in whole
/// passes, the passes 0.986 and 0.990 of the time (alternated in one process, 200 and 150 rounds).
/// The arenas are no larger (Xception's the same, DeepLab v3-ResNet-50's 96 instead of 113 MB).
///
/// `arenaBytes` is the memory the runner allocates for activations; `livePeakBytes`, the largest
/// sum of simultaneously live values, is what any plan with the same in-place decisions needs at
/// least, so the gap between them is what the greedy placement wastes.
public struct BufferPlan: Sendable {
    /// The slot of each node's output, indexed like the graph's nodes (nil for the input node).
    public let slots: [Int?]
    /// Floats in each slot (the largest value placed there).
    public let slotCapacities: [Int]
    /// Whether each node writes over its first operand.
    public let inPlace: [Bool]
    /// The index of the last node that reads each node's output (the node count for model outputs;
    /// the node itself when nothing reads it).
    public let lastUse: [Int]
    public let livePeakBytes: Int

    /// Slots start on 64-byte boundaries (16 floats), like `Tensor`.
    static let alignmentFloats = 16

    public var arenaFloats: Int {
        slotCapacities.map { ($0 + Self.alignmentFloats - 1) / Self.alignmentFloats * Self.alignmentFloats }.reduce(0, +)
    }
    public var arenaBytes: Int { arenaFloats * MemoryLayout<Float>.stride }

    /// Offset in floats of each slot in one arena.
    var slotOffsets: [Int] {
        var offsets: [Int] = [], next = 0
        for c in slotCapacities {
            offsets.append(next)
            next += (c + Self.alignmentFloats - 1) / Self.alignmentFloats * Self.alignmentFloats
        }
        return offsets
    }

    public init(_ graph: ModelGraph, overwritableInputs: Set<Int> = []) {
        let n = graph.nodes.count
        let end = n
        var lastUse = Array(0..<n)  // a value nobody reads dies where it is made
        for (i, node) in graph.nodes.enumerated() {
            for v in node.inputs { lastUse[v.index] = max(lastUse[v.index], i) }
        }
        for o in graph.outputs { lastUse[o.index] = end }

        var inPlace = [Bool](repeating: false, count: n)
        for (i, node) in graph.nodes.enumerated() {
            let overwrites = switch node.op {
            case .relu, .dropout, .add: true
            case .convolution: overwritableInputs.contains(i) && node.inputs.count == 1
            default: false
            }
            guard overwrites else { continue }
            let first = node.inputs[0].index
            inPlace[i] = first != 0 && lastUse[first] == i && graph.nodes[first].outputCount == node.outputCount
        }

        var slots = [Int?](repeating: nil, count: n)
        var capacities: [Int] = []
        var free: [Int] = []
        for i in 1..<n {
            let node = graph.nodes[i]
            let need = node.outputCount
            if inPlace[i] {
                slots[i] = slots[node.inputs[0].index]
            } else if let fit = free.last(where: { capacities[$0] >= need }) {
                slots[i] = fit
                free.removeAll { $0 == fit }
            } else if let largest = free.max(by: { capacities[$0] < capacities[$1] }) {
                capacities[largest] = need
                slots[i] = largest
                free.removeAll { $0 == largest }
            } else {
                capacities.append(need)
                slots[i] = capacities.count - 1
            }
            // Free what this node read for the last time (its in-place operand lives on as its output).
            var released = Set<Int>()
            for v in node.inputs where v.index != 0 && lastUse[v.index] == i {
                if inPlace[i] && v == node.inputs[0] { continue }
                if released.insert(v.index).inserted { free.append(slots[v.index]!) }
            }
            if lastUse[i] == i { free.append(slots[i]!) }
        }

        var peak = 0
        for i in 1..<n {
            var live = 0
            for v in 1...i where lastUse[v] >= i {
                if inPlace[i] && v == graph.nodes[i].inputs[0].index { continue }
                live += graph.nodes[v].outputCount
            }
            peak = max(peak, live)
        }

        self.slots = slots
        self.slotCapacities = capacities
        self.inPlace = inPlace
        self.lastUse = lastUse
        self.livePeakBytes = peak * MemoryLayout<Float>.stride
    }
}
