/// The one-line text form of a convolution case: oneDNN benchdnn's problem descriptor, read
/// exactly as benchdnn reads it, plus a few ConvBench entries benchdnn has no word for.
///
/// benchdnn entries: `g mb ic oc ih iw oh ow kh kw sh sw ph pw dh dw`, then `n` and a name running
/// to the end of the line; `_` may separate entries. Defaults: `g1`, `mb2`, strides 1, dilation 0.
/// Dilation is zero-based (`dh0` = dense; PyTorch dilation = d + 1). Missing output: padding
/// defaults to 0 and output = (i − extent + 2p)/s + 1; output given without padding:
/// p = ((o − 1)s − i + extent)/2. The end padding is implied by the sizes:
/// (o − 1)s − i + extent − p (convolution), (i − 1)s − o + extent − p (deconvolution).
/// Only `w` entries: a 1D problem (height 1). Only `h` entries: `w` copies them (square).
/// Depth entries (`id od kd sd pd dd`) are 3D: not supported.
///
/// ConvBench extensions (never needed for benchdnn's own lines):
/// - prefix `deconv:` — a transposed convolution, read like benchdnn's deconvolution driver
///   (`i*` the small input side, `o*` the output); `CaseMode.deconvolution` does the same for a whole file.
/// - `ehN`, `ewN` — explicit end (bottom/right) padding, printed only when it differs from the
///   value the sizes imply (padding rows that a stride never reaches); may be negative.
/// - `ophN`, `opwN` — PyTorch's `output_padding` (deconvolution only).
/// - `bias0` — no bias (benchdnn's default direction FWD_B has one; `bias1` is the default).
public struct ConvCase: Hashable, Sendable {
    public var descriptor: ConvDescriptor
    public var name: String?

    public init(_ descriptor: ConvDescriptor, name: String? = nil) {
        self.descriptor = descriptor
        self.name = name
    }
}

/// How to read lines without a `deconv:` prefix.
public enum CaseMode: String, Sendable, CaseIterable {
    case convolution
    case deconvolution
}

/// Why a case line could not be read. Messages quote the offending token.
public enum CaseSyntaxError: Error, Equatable, Sendable, CustomStringConvertible {
    case empty
    case unrecognizedEntry(at: String)
    case missingValue(entry: String)
    case duplicateEntry(String)
    case badValue(entry: String, value: String)
    case missing(entry: String, because: String)
    case threeDimensional(entry: String)
    case noSpatialEntries
    case deducedNonPositive(entry: String, value: Int)
    case inconsistent(String)
    case invalid(DescriptorError)
    case unsupportedOption(String)

    public var description: String {
        switch self {
        case .empty: return "empty case line"
        case let .unrecognizedEntry(at): return "unrecognized entry at '\(at)'"
        case let .missingValue(entry): return "entry '\(entry)' has no value"
        case let .duplicateEntry(entry): return "entry '\(entry)' given twice"
        case let .badValue(entry, value): return "entry '\(entry)' has an invalid value '\(value)'"
        case let .missing(entry, because): return "entry '\(entry)' is required \(because)"
        case let .threeDimensional(entry): return "3D convolution is not supported (entry '\(entry)')"
        case .noSpatialEntries: return "no spatial entries: give at least ih/kh or iw/kw"
        case let .deducedNonPositive(entry, value): return "deduced \(entry) is \(value); the other sizes leave no output"
        case let .inconsistent(what): return what
        case let .invalid(error): return error.description
        case let .unsupportedOption(o): return "unsupported benchdnn option '\(o)' (accepted: --dir=FWD_B|FWD_D|FWD_I, --mb=N, and layout or precision options, which do not change the float32 math)"
        }
    }
}

extension ConvCase {
    static let benchdnnKeys: Set<String> = [
        "g", "mb", "ic", "oc", "ih", "iw", "oh", "ow", "kh", "kw", "sh", "sw", "ph", "pw", "dh", "dw",
        "id", "od", "kd", "sd", "pd", "dd",
    ]
    static let extensionKeys: Set<String> = ["eh", "ew", "oph", "opw", "bias"]
    static let negativeAllowed: Set<String> = ["eh", "ew"]
    static let deconvPrefix = "deconv:"

    /// Parses one line (no comments; surrounding blanks are ignored).
    public init(parsing text: String, mode: CaseMode = .convolution,
                memoryCapBytes: Int = ConvDescriptor.defaultMemoryCapBytes) throws(CaseSyntaxError) {
        var line = Substring(text).drop(while: { $0.isWhitespace })
        while let last = line.last, last.isWhitespace { line = line.dropLast() }
        var deconv = mode == .deconvolution
        if line.hasPrefix(ConvCase.deconvPrefix) {
            deconv = true
            line = line.dropFirst(ConvCase.deconvPrefix.count)
        }
        // benchdnn batch lines may carry driver options before the descriptor.
        var options: [String: String] = [:]
        while line.hasPrefix("--") {
            let token = line.prefix(while: { !$0.isWhitespace })
            line = line.dropFirst(token.count).drop(while: { $0.isWhitespace })
            let parts = token.dropFirst(2).split(separator: "=", maxSplits: 1)
            let key = parts.first.map(String.init) ?? ""
            let value = parts.count > 1 ? String(parts[1]) : ""
            switch key {
            case "dir" where ["FWD_B", "FWD_D", "FWD_I"].contains(value.uppercased()),
                 "mb" where Int(value).map({ $0 >= 0 }) == true:
                options[key] = value
            case "strides", "stag", "wtag", "dtag", "dt", "sdt", "ddt", "cfg", "alg", "ctx-init", "ctx-exe",
                 "impl", "skip-impl", "match", "scratchpad", "fpmath-mode":
                continue
            case _ where key.hasPrefix("attr-"):
                continue
            default:
                throw .unsupportedOption(String(token))
            }
        }
        if line.hasPrefix(ConvCase.deconvPrefix) {
            deconv = true
            line = line.dropFirst(ConvCase.deconvPrefix.count)
        }
        if line.isEmpty { throw .empty }
        var (entries, name) = try ConvCase.tokenize(line)
        if let dir = options["dir"], entries["bias"] == nil {
            entries["bias"] = dir.uppercased() == "FWD_B" ? 1 : 0
        }
        // benchdnn: a nonzero --mb overrides the descriptor's minibatch.
        if let mb = options["mb"].flatMap(Int.init), mb > 0 { entries["mb"] = mb }
        let descriptor = try ConvCase.deduce(entries, deconv: deconv, memoryCapBytes: memoryCapBytes)
        self.init(descriptor, name: name)
    }

    private static func tokenize(_ line: Substring) throws(CaseSyntaxError) -> ([String: Int], String?) {
        let chars = Array(line)
        var entries: [String: Int] = [:]
        var name: String?
        var i = 0
        func rest(_ at: Int) -> String { String(chars[at..<min(chars.count, at + 24)]) }
        while i < chars.count {
            let c = chars[i]
            if c == "_" { i += 1; continue }
            if c == "n" {
                // benchdnn: the name runs to the end of the line.
                var n = String(chars[(i + 1)...])
                if n.count >= 2, n.first == "\"", n.last == "\"" { n = String(n.dropFirst().dropLast()) }
                name = n
                break
            }
            guard c.isASCII, c.isLetter else { throw .unrecognizedEntry(at: rest(i)) }
            let start = i
            while i < chars.count, chars[i].isASCII, chars[i].isLetter, chars[i] != "n" || i == start { i += 1 }
            var key = String(chars[start..<i])
            // Keys are matched longest-first among the known ones ("oph" before "oh").
            if !benchdnnKeys.contains(key) && !extensionKeys.contains(key) {
                throw .unrecognizedEntry(at: rest(start))
            }
            key = key.lowercased()
            var negative = false
            if i < chars.count, chars[i] == "-" {
                guard negativeAllowed.contains(key) else {
                    throw .badValue(entry: key, value: String(chars[i..<min(chars.count, i + 12)]))
                }
                negative = true
                i += 1
            }
            let digitsStart = i
            while i < chars.count, chars[i].isASCII, chars[i].isNumber { i += 1 }
            if digitsStart == i { throw .missingValue(entry: key) }
            let digits = String(chars[digitsStart..<i])
            guard digits.count <= 12, var value = Int(digits) else { throw .badValue(entry: key, value: digits) }
            if negative { value = -value }
            if entries[key] != nil { throw .duplicateEntry(key) }
            entries[key] = value
        }
        return (entries, name)
    }

    /// One spatial axis as benchdnn holds it: unset output 0, unset padding −1, zero-based dilation.
    private struct Axis {
        var i = 0, o = 0, k = 0, s = 1, p = -1, d = 0
        var end: Int?
        var outputPadding = 0
        /// benchdnn's `no_h`: nothing on this axis was given.
        var isAbsent: Bool { i == 0 && k == 0 && o == 0 && d == 0 && s == 1 && p < 1 }
    }

    private static func deduce(_ e: [String: Int], deconv: Bool,
                               memoryCapBytes: Int) throws(CaseSyntaxError) -> ConvDescriptor {
        for key in ["id", "od", "kd", "sd", "pd", "dd"] where e[key] != nil {
            throw .threeDimensional(entry: key)
        }
        for key in ["oph", "opw"] where !deconv && e[key] != nil {
            throw .inconsistent("entry '\(key)' (output padding) applies only to deconvolution")
        }
        if let b = e["bias"], b != 0 && b != 1 { throw .badValue(entry: "bias", value: String(b)) }
        guard let ic = e["ic"], ic > 0 else { throw .missing(entry: "ic", because: "and must be positive") }
        guard let oc = e["oc"], oc > 0 else { throw .missing(entry: "oc", because: "and must be positive") }
        if let g = e["g"], g <= 0 { throw .badValue(entry: "g", value: String(g)) }
        for key in ["sh", "sw"] { if let s = e[key], s <= 0 { throw .badValue(entry: key, value: String(s)) } }

        func axis(_ a: String) -> Axis {
            var x = Axis()
            x.i = e["i" + a] ?? 0; x.o = e["o" + a] ?? 0; x.k = e["k" + a] ?? 0
            x.s = e["s" + a] ?? 1; x.p = e["p" + a] ?? -1; x.d = e["d" + a] ?? 0
            x.end = e["e" + a]; x.outputPadding = e["op" + a] ?? 0
            return x
        }
        func resolve(_ x: inout Axis, _ a: String) throws(CaseSyntaxError) {
            guard x.i > 0 else { throw .missing(entry: "i" + a, because: "when other \(a) entries are given") }
            guard x.k > 0 else { throw .missing(entry: "k" + a, because: "when other \(a) entries are given") }
            let extent = (x.k - 1) * (x.d + 1) + 1
            if x.o == 0 {
                if x.p < 0 { x.p = 0 }
                // Integer division truncates toward zero, as in benchdnn's C++.
                let endPad = x.end ?? x.p
                x.o = deconv ? (x.i - 1) * x.s + extent - x.p - endPad + x.outputPadding
                             : (x.i - extent + x.p + endPad) / x.s + 1
                if x.o <= 0 { throw .deducedNonPositive(entry: "o" + a, value: x.o) }
            } else if x.p < 0 {
                x.p = deconv ? ((x.i - 1) * x.s - x.o + extent) / 2 : ((x.o - 1) * x.s - x.i + extent) / 2
            }
        }
        var h = axis("h"), w = axis("w")
        let hAbsent = h.isAbsent && h.end == nil
        let wAbsent = w.isAbsent && w.end == nil
        if hAbsent && wAbsent { throw .noSpatialEntries }
        if !hAbsent { try resolve(&h, "h") }
        if !wAbsent { try resolve(&w, "w") }
        if wAbsent {
            w = h    // square: w copies h
        } else if hAbsent {
            h = Axis(i: 1, o: 1, k: 1, s: 1, p: 0, d: 0, end: 0, outputPadding: 0)    // 1D
        }
        func endPadding(_ x: Axis, _ a: String) throws(CaseSyntaxError) -> Int {
            let extent = (x.k - 1) * (x.d + 1) + 1
            let implied = deconv ? (x.i - 1) * x.s - x.o + extent - x.p + x.outputPadding
                                 : (x.o - 1) * x.s - x.i + extent - x.p
            guard let given = x.end else { return implied }
            let o = ConvDescriptor.outputExtent(input: x.i, kernel: x.k, stride: x.s, dilation: x.d + 1,
                                                padBegin: x.p, padEnd: given, outputPadding: x.outputPadding,
                                                transposed: deconv)
            if o != x.o {
                throw .inconsistent("entry 'e\(a)\(given)' gives output \(a) \(o), but o\(a) is \(x.o)")
            }
            return given
        }
        let padBottom = try endPadding(h, "h")
        let padRight = try endPadding(w, "w")
        do {
            let d = try ConvDescriptor(
                batch: e["mb"] ?? 2, groups: e["g"] ?? 1, inChannels: ic, outChannels: oc,
                inHeight: h.i, inWidth: w.i, kernelHeight: h.k, kernelWidth: w.k,
                strideHeight: h.s, strideWidth: w.s,
                padTop: h.p, padBottom: padBottom, padLeft: w.p, padRight: padRight,
                dilationHeight: h.d + 1, dilationWidth: w.d + 1, transposed: deconv,
                outputPaddingHeight: h.outputPadding, outputPaddingWidth: w.outputPadding,
                hasBias: (e["bias"] ?? 1) == 1, memoryCapBytes: memoryCapBytes)
            if d.outHeight != h.o || d.outWidth != w.o {
                throw CaseSyntaxError.inconsistent(
                    "sizes give output \(d.outHeight)x\(d.outWidth), but the line states \(h.o)x\(w.o)")
            }
            return d
        } catch let error as DescriptorError {
            throw .invalid(error)
        } catch let error as CaseSyntaxError {
            throw error
        } catch {
            throw .inconsistent("\(error)")
        }
    }

    /// Canonical text: every entry written out, so the line means the same thing to benchdnn
    /// and to ConvBench; parsing it gives back an equal descriptor.
    public var line: String {
        let d = descriptor
        var s = d.transposed ? ConvCase.deconvPrefix : ""
        s += "g\(d.groups)mb\(d.batch)ic\(d.inChannels)ih\(d.inHeight)iw\(d.inWidth)"
        s += "oc\(d.outChannels)oh\(d.outHeight)ow\(d.outWidth)kh\(d.kernelHeight)kw\(d.kernelWidth)"
        s += "sh\(d.strideHeight)sw\(d.strideWidth)ph\(d.padTop)pw\(d.padLeft)"
        s += "dh\(d.dilationHeight - 1)dw\(d.dilationWidth - 1)"
        if !d.transposed {
            if d.padBottom != d.impliedEndPadding(height: true) { s += "eh\(d.padBottom)" }
            if d.padRight != d.impliedEndPadding(height: false) { s += "ew\(d.padRight)" }
        } else {
            if d.outputPaddingHeight != 0 { s += "oph\(d.outputPaddingHeight)" }
            if d.outputPaddingWidth != 0 { s += "opw\(d.outputPaddingWidth)" }
        }
        if !d.hasBias { s += "bias0" }
        if let name { s += "n\"\(name)\"" }
        return s
    }
}

extension ConvDescriptor {
    /// The forward end padding benchdnn would imply from the sizes: (o − 1)s − i + extent − p.
    func impliedEndPadding(height: Bool) -> Int {
        height
            ? (outHeight - 1) * strideHeight - inHeight + kernelExtentHeight - padTop
            : (outWidth - 1) * strideWidth - inWidth + kernelExtentWidth - padLeft
    }

    /// The canonical one-line text form (see `ConvCase`).
    public var caseLine: String { ConvCase(self).line }

    /// Parses a one-line case (see `ConvCase`), dropping its name.
    public init(parsing text: String, mode: CaseMode = .convolution) throws(CaseSyntaxError) {
        self = try ConvCase(parsing: text, mode: mode).descriptor
    }
}
