/// Concatenation along channels: for each image, the operands' channel blocks one after another.
enum Concat {
    static func run(_ operands: [(pointer: UnsafePointer<Float>, shape: [Int])], _ y: UnsafeMutableBufferPointer<Float>,
                    outShape o: [Int]) {
        let area = o[2] * o[3]
        var channelOffset = 0
        for (x, s) in operands {
            let block = s[1] * area
            for n in 0..<o[0] {
                (y.baseAddress! + (n * o[1] + channelOffset) * area).update(from: x + n * block, count: block)
            }
            channelOffset += s[1]
        }
    }
}
