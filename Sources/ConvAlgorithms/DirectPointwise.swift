import CCompilerBuiltins
import ConvCore

/// Direct 1×1 convolution (no padding before the image, any stride): each output pixel is a dot
/// product over the input channels of one input pixel, so the image needs no padded copy; at stride 1
/// the pixels of a plane are one long row, at larger strides each strip's pixels are gathered. The
/// register tile is 4 output channels × 24 pixels (twelve 8-lane accumulators, three input loads and
/// one weight broadcast: sixteen AVX2 registers), or 8 × 24 where AVX-512 gives 32 (`tile8x24`). The 24-pixel strip of every input channel is
/// first packed side by side into the worker's scratch (a panel of strips, `pointwisePanel`), where
/// every block of 4 output channels reads it from L2: read in place, the strip's rows lie a plane apart
/// (16 KB for a 64×64 map, a power of two), all in the same cache sets, and the 2048-channel ASPP
/// projection ran at 0.14 of the equivalent SGEMM. Planes of other sizes (Xception's) are read in
/// place by the 48-pixel tiles (`pointwiseReadsInPlace`) except on Intel cores, where the packed
/// panels' aligned loads pay for the copy (`stripsReadInPlaceByDefault`); their last pixels take
/// rest tiles (PointwiseRestTile.swift).
/// The general row kernel (4 × 16 over a padded copy, input chunks summed through the output)
/// reached 0.24–0.37 of the equivalent SGEMM on 1×1 layers.
///
/// Each element is summed over the input channels in order by one thread, and which code path a
/// pixel takes (full tile or tail) depends only on the geometry: results do not depend on the
/// thread count. Stores apply (sum + bias) + addend, then the ReLU, when asked (the model runner's
/// fused residual adds and activations).
extension DirectConvolution {
    static let pointwiseTile = 24

    /// Whether the strip split computes two weight blocks per tile (`tile8x24`): only where the
    /// kernels are compiled for 32 vector registers; with 16 its accumulators would spill.
    static let wide = convbench_vector_registers() >= 32

    /// 1×1 with no padding before the image, any stride, the end padding zero or negative (input rows
    /// and columns the stride never reaches: 74 rows at stride 2 give 37): a strided layer gathers its
    /// strips' pixels (x[oy·sh][ox·sw]) while packing them, where the general path would lay out a
    /// padded polyphase copy of the whole image.
    public static func runsAsPointwise(_ c: ConvDescriptor) -> Bool {
        !c.transposed && c.kernelHeight == 1 && c.kernelWidth == 1
            && c.padTop == 0 && c.padLeft == 0 && c.padBottom <= 0 && c.padRight <= 0
    }

    /// Strips packed side by side per worker, each block of 4 output channels then computing all of
    /// them: its weights are read from memory once per panel instead of once per strip. Computing
    /// one strip at a time read a 728→728 layer's 2 MB of weights again for each of its 15 strips;
    /// when other tenants of the host had pushed them out of the last-level cache, the middle flow's
    /// 1×1 layers took 8.5 ms instead of 5.6. As many strips as fill about 384 KB of the 512 KB L2,
    /// at most 8.
    static func pointwisePanel(_ p: Plan) -> Int {
        max(1, min(8, (384 << 10) / (p.cinG * pointwiseTile * MemoryLayout<Float>.size)))
    }

    /// How far ahead (floats, 4 KB) a `pointwiseBlockMajor` worker prefetches the weights while its
    /// first strip reads a block. Those weights come from memory, once per pass (12 MB for
    /// 1536→2048), in one long run per worker, and the hardware prefetcher alone left the FMAs
    /// waiting: 1536→2048 at 10×10 took 3.45–3.64 ms from cold weights, 3.14–3.25 with the prefetch
    /// (1024→1536: 1.67 → 1.59), alternated in one process. The strip split reads each block again
    /// for every panel and gained nothing from this distance (728→728 at 19×19: 1.000–1.005; it
    /// asks for the next pair's weights instead, `pointwiseNextPairPrefetch`); prefetching in
    /// every tile cost 1–3% on the other layers.
    static let pointwisePrefetchDistance = 1024

    /// How far ahead, in floats per input channel, the strip split's first 48-pixel tile of each
    /// block pair in a panel asks for weights: 8, the next pair's (a pair's weights are 8 floats
    /// per input channel), which its first tile then finds on the way. In a pass the weights come
    /// from memory (the pass's 80 MB leave none in the cache): alternated in one process, 2
    /// threads, with cold weights and warm input and output, 728→728 and 728→1024 at 19×19 and
    /// 256→728 at 37×37 0.988, 0.987 and 0.990 of the time (two pairs ahead or half a pair: the
    /// same within 0.5%); warm, 0.999–1.001; whole Xception passes 0.994 (87 quiet rounds), their
    /// convolutions 73.98 against 74.29 ms. Where the strips are read in place, or packed under
    /// large weights (`pointwisePrefetchesWeights`).
    static let pointwiseNextPairPrefetch = 8

    /// Weights per group above which the strip split's packed panels ask for the next pair's
    /// weights too (`pointwiseNextPairPrefetch`). When the Emerald Rapids VM's packed panels
    /// replaced reading in place they had lost this prefetch: whole Xception passes alternated in
    /// one process (2 threads, 60–80 rounds) took 0.966–0.985 of the time with it, the middle
    /// flow's separable pairs (728→728, 2.1 MB of weights from memory) 0.94–0.97, block 4's
    /// (256→728, 728→728 at 37×37) 0.97–0.98; block 2's and 3's (64–256 KB of weights, still in
    /// the caches) 0.998–1.009, hence the size. DeepLab's 1×1 layers (1–4 MB, packed: their
    /// planes' sizes are multiples of 1 KB) 0.98–1.02 each, the same within the host's noise.
    static let pointwisePrefetchWeightBytes = 512 << 10

    /// Whether the strip split's first tile of each pair in a panel prefetches the next pair's
    /// weights: where the strips are read in place, or the weights are large
    /// (`pointwisePrefetchWeightBytes`).
    static func pointwisePrefetchesWeights(_ p: Plan) -> Bool {
        pointwiseStripsReadInPlace(p) || p.coutG * p.cinG * MemoryLayout<Float>.size > pointwisePrefetchWeightBytes
    }

    /// Input per group above which the strip split prefetches the next panel's input while it
    /// computes the current one (`NextPanelPrefetch`), for groups of up to
    /// `pointwisePrefetchMaxChannels` input channels: the packing is a pass of its own, and from
    /// beyond the caches its loads waited with nothing to overlap them. Layers alternated with
    /// the build before in one process, 2 threads: 64→128 and 128→128 at 147×147 1.05× and 1.04×,
    /// 128→256 and 256→256 at 74×74 1.01×, 64→256, 256→64 and 256→128 at 128×128 (DeepLab's
    /// ResNet) 1.03×, 1.02×, 1.01×; 256→728 at 37×37 (1.4 MB, below) 1.00×. In whole Xception
    /// passes block 2's 1×1 layers 3–4% faster, block 3's second 2%. Xception's middle flow
    /// (1 MB at 19×19, from L2) lost 0.5–1% with it.
    static let pointwisePrefetchInputBytes = 2 << 20

    /// With more input channels a panel's packing is a smaller part of its work, and the next
    /// panel's rows crowd the current one in L2: at 64×64, 1024→256 and 2048→512 ran 0.996× and
    /// 0.985×, 512→2048 0.994× with the prefetch.
    static let pointwisePrefetchMaxChannels = 256

    /// Whether the strip split prefetches the next panel's input (`pointwisePrefetchInputBytes`).
    static func pointwisePrefetchesPanels(_ p: Plan) -> Bool {
        pointwiseContiguous(p) && p.cinG <= pointwisePrefetchMaxChannels
            && p.cinG * p.ih * p.iw * MemoryLayout<Float>.size > pointwisePrefetchInputBytes
    }

    /// Output per group above which the strip split asks for each tile's output lines in the state
    /// a store needs (PREFETCHW) before computing the tile, for groups of up to
    /// `pointwisePrefetchMaxChannels` input channels. A tile stores 8 rows of 48 floats a plane
    /// apart, 128 or more such runs in flight: no stream the hardware prefetcher follows, and a
    /// store to a line not in the caches waited for it to be read. ONNX Runtime's layer of the same
    /// shape lost nothing from a cold output; ours 0.14 ms of 1.72. Alternated in one process, 2
    /// threads, from cold caches (64 MB touched before each run): 64→128 and 128→128 at 147×147
    /// 0.930 and 0.977 of the time, 64→256 at 128×128 0.976, 128→512 at 64×64 1.000; warm,
    /// 0.995 and 0.987. In whole Xception passes block 2's separable pairs (whose outputs land in
    /// memory untouched since the last pass) 0.92 and 0.97 of their time, while block 3's 5.6 MB
    /// outputs, still in L3 from the layers before, lost 0–1%: hence the size.
    static let pointwisePrefetchOutputBytes = 8 << 20

    /// Whether the strip split prefetches each tile's output (`pointwisePrefetchOutputBytes`).
    static func pointwisePrefetchesOutput(_ p: Plan) -> Bool {
        p.cinG <= pointwisePrefetchMaxChannels
            && p.coutG * p.oh * p.ow * MemoryLayout<Float>.size > pointwisePrefetchOutputBytes
    }

    /// Whether the strip split hands each worker a share of the output channels for the whole
    /// plane, as ONNX Runtime's pointwise kernel does, rather than a share of the plane for all
    /// output channels: for inputs read in place (`pointwiseReadsInPlace`) of at most
    /// `pointwisePrefetchInputBytes` (Xception's middle flow, 1 MB), which each worker then reads
    /// whole. The depthwise layer after it splits its planes the same way, so it reads what its own
    /// core wrote: in the host's slow spells, when data written by the other core took four times
    /// as long to arrive, the middle flow's depthwise layers took 0.42–0.49 ms split by pixels.
    /// Whole Xception passes alternated in one process (150 rounds): slow spells 0.986 of the
    /// time, quiet periods 1.004. Larger inputs (74×74 and up), read whole by both workers, took
    /// 1.06–1.14 times as long on their separable pairs.
    static func pointwiseSplitsByChannels(_ p: Plan) -> Bool {
        pointwiseStripsReadInPlace(p) && p.cinG * p.ih * p.iw * MemoryLayout<Float>.size <= pointwisePrefetchInputBytes
    }

    /// Input planes whose size in bytes is a multiple of this put every row of a strip read in
    /// place into the same few cache sets (`pointwiseReadsInPlace`).
    static let pointwiseSetConflictBytes = 1024

    /// Whether the strip split's 48-pixel tiles read their rows where they lie in the input, a plane
    /// apart, instead of from a packed panel: at stride 1 a strip is 48 consecutive floats of each
    /// input plane, and the packing was a copy of the whole input through the caches. Not where
    /// the planes' size is a multiple of `pointwiseSetConflictBytes` (64×64 and 128×128 maps:
    /// 16 and 64 KB), whose rows would all fall into the same cache sets (read that way, the
    /// 2048-channel ASPP projection ran at 0.14 of the equivalent SGEMM). Alternated in one
    /// process against the packed panels, 2 threads: 64→128 and 128→128 at 147×147 0.979 and 0.976
    /// of the time, 128→256 and 256→256 at 74×74 0.991 and 0.984, 728→728 at 19×19 0.991, at
    /// 37×37 1.003–1.004; whole Xception passes 0.993–0.995 (quiet), 0.986 (slow spells).
    static func pointwiseReadsInPlace(_ p: Plan) -> Bool {
        pointwiseContiguous(p) && pointwiseStripWidth(p) == wideStrip
            && (p.ih * p.iw * MemoryLayout<Float>.size) % pointwiseSetConflictBytes != 0
    }

    /// Whether the strip split's 48-pixel tiles read in place (`pointwiseReadsInPlace`) on this
    /// plan (`StripInput`), rather than from packed panels whose rows start on cache lines.
    static func pointwiseStripsReadInPlace(_ p: Plan) -> Bool {
        p.stripsInPlace && pointwiseReadsInPlace(p)
    }

    /// `StripInput.automatic`: in place except on Intel cores, where a 16-lane load that is not
    /// 64-byte aligned spans two cache lines (every row of a strip read in place, except where the
    /// plane's size is a multiple of 16 floats) and the packed panels' aligned loads won even with
    /// the copy: on an Emerald Rapids Xeon (2 threads, alternated in one process) 728→728 at
    /// 19×19 took 0.853 of the in-place time, 256→728 at 37×37 0.786, and in whole Xception passes
    /// every separable pair from block 2's second to block 13 0.87–0.95 (block 2's first, 64→128
    /// at 147×147, 1.04). On the Zen 4 VM, whose 512-bit loads are two 256-bit halves, in place
    /// had won by 0.7–2.4% (below).
    static let stripsReadInPlaceByDefault = CPUVendor.current != .intel

    /// Asks for the lines of `rows` output rows (`plane` apart) of `width` floats from `out` on, in
    /// the state a store needs.
    @inline(__always)
    static func prefetchForWrite(_ out: UnsafeMutablePointer<Float>, rows: Int, plane: Int, width: Int) {
        for l in 0..<rows {
            let row = out + l * plane
            var j = 0
            while j < width {
                convbench_prefetch_for_write(row + j)
                j += 16
            }
            convbench_prefetch_for_write(row + width - 1)
        }
    }

    /// Scratch floats per worker: one panel of packed strips (at least one 48-pixel strip where the
    /// kernels have 32 registers, `wideStrip`).
    static func pointwiseScratch(_ p: Plan) -> Int { max(pointwisePanel(p), wide ? 2 : 1) * p.cinG * pointwiseTile }

    /// Pixels in a strip of the strip split at stride 1 where the kernels have 32 vector registers:
    /// 48, three 16-lane vectors (`tile8x48`). Zen 4 executes a 512-bit FMA as two 256-bit halves,
    /// so the FMA rate is that of the 8 × 24 tile of 256-bit FMAs, but half the instructions and
    /// loads issue for the same work: the tile alone on one core 115.5–117 against 113.5–114 GFLOP/s.
    /// Layers alternated with 24-pixel strips in one process, 2 threads: 1.02–1.06× faster from 8 to
    /// 2048 input channels (64→128 at 147×147 1.03, 32→64 at 112×112 1.06, 728→728 at 19×19 1.05,
    /// 256→256 at 74×74 1.04, 2048→512 at 64×64 1.04).
    static let wideStrip = 48

    /// Pixels per strip of the strip split: 48 where the 8 × 48 tile applies (`wideStrip`: 32 vector
    /// registers, one full strip), else 24. Strided layers gather their 48-pixel strips into the
    /// panel: on the Emerald Rapids VM Xception's shortcuts (64→128, 128→256, 256→728 and
    /// 728→1024 at stride 2) took 0.70, 0.70, 0.74 and 0.59 of the time of 24-pixel strips in 8-lane
    /// vectors (alternated in one process, 2 threads), whose FMAs do half the work on a core with
    /// two 512-bit FMA units.
    static func pointwiseStripWidth(_ p: Plan) -> Int {
        wide && p.oh * p.ow >= wideStrip ? wideStrip : pointwiseTile
    }

    /// Whether output pixel i reads input pixel i (stride 1, rows as wide as the input's): a strip is
    /// then consecutive floats of each input plane.
    static func pointwiseContiguous(_ p: Plan) -> Bool { p.sh == 1 && p.sw == 1 && p.ow == p.iw }

    /// Small planes under large weights (Xception's exit flow: 100 pixels, 1024→1536 and
    /// 1536→2048) split the output-channel blocks among the workers instead of the strips. Split by
    /// strips, every worker read all of the weights (6–12 MB, from memory: the pass's 80 MB of
    /// weights leave none in the cache), and the plane's last pixels read them again per pixel.
    static func pointwiseBlockMajor(_ p: Plan, fullTiles: Int, threads: Int) -> Bool {
        threads > 1 && fullTiles >= 1 && fullTiles <= 8 && p.coutG >= p.oh * p.ow && p.channelBlocks >= 2 * threads
    }

    /// One image: y[oc][o] = bias[oc] + Σ_icg w[oc][icg]·x[g·cinG + icg][input pixel of o].
    static func pointwiseImage(_ p: Plan, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>,
                               weights: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                               scratch: UnsafeMutablePointer<Float>, relu: Bool, addend: UnsafePointer<Float>?,
                               threads: Int) {
        let plane = p.oh * p.ow, inPlane = p.ih * p.iw
        let contiguous = pointwiseContiguous(p)
        let narrowTiles = plane / pointwiseTile
        if p.groups * narrowTiles > 0 && pointwiseBlockMajor(p, fullTiles: narrowTiles, threads: threads) {
            pointwiseBlockMajorImage(p, x: x, y: y, weights: weights, bias: bias, scratch: scratch, relu: relu,
                                     addend: addend, threads: threads)
            return
        }
        let width = pointwiseStripWidth(p)
        let fullTiles = plane / width, rest = plane - fullTiles * width
        let tiled = p.groups * fullTiles
        let shared = UncheckedSendable((x, y, weights, bias, scratch))
        let sharedAddend = UncheckedSendable(addend)
        // The plane's last pixels, fewer than a strip (rest tiles where the input can be read in
        // place, else one 24-pixel strip if there are that many after 48-pixel strips, then the
        // tail): one slice of the output-channel blocks of every group per worker, taken after the
        // tiles (as a work item of their own, they fell to one worker, which then had up to a
        // twentieth of the layer more to do than the other).
        func restSlice(_ slice: Int, of slices: Int, offsets: UnsafeMutablePointer<Int>, strip: UnsafeMutablePointer<Float>) {
            let (x, y, weights, bias, _) = shared.value
            let first = p.channelBlocks * slice / slices, end = p.channelBlocks * (slice + 1) / slices
            guard first < end else { return }
            var px = fullTiles * width
            if pointwiseRestTiles(p, rest: rest) {
                for g in 0..<p.groups {
                    restTiles(p, xg: x + g * p.cinG * inPlane, px: px, count: rest, blocks: first..<end, group: g,
                              weights: weights, bias: bias, relu: relu, addend: sharedAddend.value, y: y)
                }
                return
            }
            if rest >= pointwiseTile {
                for g in 0..<p.groups {
                    packStrips(p, xg: x + g * p.cinG * inPlane, px: px, count: 1, into: strip, contiguous: contiguous,
                               offsets: offsets)
                    stripBlocks(p, strip: strip, px: px, blocks: first..<end, group: g, weights: weights, bias: bias,
                                relu: relu, addend: sharedAddend.value, y: y)
                }
                px += pointwiseTile
            }
            let tail = plane - px
            guard tail > 0 else { return }
            locate(p, offsets, px, tail)
            for g in 0..<p.groups {
                tailBlocks(p, xg: x + g * p.cinG * inPlane, offsets: offsets, px: px, count: tail, blocks: first..<end,
                           group: g, weights: weights, bias: bias, relu: relu, addend: sharedAddend.value, y: y)
            }
        }
        if tiled == 0 {
            parallelForWorkers(threads: threads, count: threads) { worker, range in
                withUnsafeTemporaryAllocation(of: Int.self, capacity: wideStrip) { offsets in
                    for slice in range {
                        restSlice(slice, of: threads, offsets: offsets.baseAddress!,
                                  strip: shared.value.4 + worker * pointwiseScratch(p))
                    }
                }
            }
            return
        }
        // Work items: (panel of strips, part of the output channels), the part varying fastest
        // (within each worker's group of parts where the layer splits by channels), claimed one at a
        // time. A worker packs a panel once for the consecutive parts it takes;
        // each part's weights are read once per panel. Parts split the channel blocks on pair
        // boundaries, enough of them for at least 16 items per worker: when one vCPU runs slower
        // (the host's busy spells) or starts late, the other takes over all but one item of its
        // work. Xception's middle flow (15 strips, 3 panels) had been split in 3 chunks, and its
        // entry flow in chunks of 8 strips. Whole passes alternated in one process (100 and 150):
        // 0.989 and 0.998 of the time, in the slow spells 0.965 and 0.989, quiet 0.998 and 1.001
        // (the old code against itself: 1.005); 8 items per worker 0.979–0.992, 64 1.000.
        let panelLimit = max(1, pointwisePanel(p) * pointwiseTile / width)
        let panelsPerGroup = (fullTiles + panelLimit - 1) / panelLimit
        let panels = p.groups * panelsPerGroup
        let prefetching = pointwisePrefetchesPanels(p)
        let prefetchingOutput = pointwisePrefetchesOutput(p)
        let step = wide ? 2 : 1
        let pairs = (p.channelBlocks + step - 1) / step
        let parts = min(pairs, max(1, (16 * max(1, threads) + panels - 1) / panels))
        let readsInPlace = pointwiseStripsReadInPlace(p)
        let prefetchingWeights = pointwisePrefetchesWeights(p)
        // Split by channels, each worker's starting range is one group of parts for every panel.
        let partGroups = threads > 1 && pointwiseSplitsByChannels(p) ? min(threads, parts) : 1
        let partsPerGroup = (parts + partGroups - 1) / partGroups
        let items = partGroups * panels * partsPerGroup
        let workers = max(1, min(threads, items))
        let tailClaims = RangeClaims(count: workers, workers: workers)
        parallelForStealing(threads: threads, count: items, chunk: 1) { worker, chunks in
            let (x, y, weights, bias, scratch) = shared.value
            let strips = scratch + worker * pointwiseScratch(p)
            withUnsafeTemporaryAllocation(of: Int.self, capacity: wideStrip) { offsets in
                defer {
                    if rest > 0 {
                        for slices in ClaimedChunks(ranges: tailClaims, worker: worker, chunk: 1) {
                            restSlice(slices.lowerBound, of: workers, offsets: offsets.baseAddress!, strip: strips)
                        }
                    }
                }
                var packed = -1
                for range in chunks {
                    for item in range {
                        let pg = item / (panels * partsPerGroup), r = item % (panels * partsPerGroup)
                        let panel = r / partsPerGroup, part = pg * partsPerGroup + r % partsPerGroup
                        if part >= parts { continue }
                        let g = panel / panelsPerGroup, first = (panel % panelsPerGroup) * panelLimit
                        let count = min(panelLimit, fullTiles - first)
                        if panel != packed && !readsInPlace {
                            packStrips(p, xg: x + g * p.cinG * inPlane, px: first * width, count: count,
                                       into: strips, contiguous: contiguous, offsets: offsets.baseAddress!, width: width)
                            packed = panel
                        }
                        let lo = step * (pairs * part / parts), hi = min(p.channelBlocks, step * (pairs * (part + 1) / parts))
                        let nextFirst = first + count
                        var prefetch = prefetching && nextFirst < fullTiles
                            ? NextPanelPrefetch(p, xg: x + g * p.cinG * inPlane, px: nextFirst * width,
                                                pixels: min(panelLimit, fullTiles - nextFirst) * width,
                                                rows: (p.cinG * part / parts)..<(p.cinG * (part + 1) / parts),
                                                tiles: (hi - lo + step - 1) / step * count)
                            : nil
                        // Each block's (or pair's) weights serve every strip of the panel in turn.
                        for block in stride(from: lo, to: hi, by: step) {
                            let oc = g * p.coutG + block * channelBlock
                            let w = weights + (g * p.channelBlocks + block) * p.cinG * channelBlock
                            let pair = block + 1 < hi && step == 2
                            let validInLast = min(channelBlock, p.coutG - (pair ? block + 1 : block) * channelBlock)
                            for k in 0..<count {
                                prefetch?.beforeTile()
                                let px = (first + k) * width
                                if prefetchingOutput {
                                    prefetchForWrite(y + oc * plane + px, rows: (pair ? channelBlock : 0) + validInLast,
                                                     plane: plane, width: width)
                                }
                                let add = sharedAddend.value.map { $0 + oc * plane + px }
                                if width == wideStrip {
                                    let source: UnsafePointer<Float> = readsInPlace
                                        ? x + (g * p.cinG * inPlane + px) : UnsafePointer(strips + k * p.cinG * wideStrip)
                                    let rowStride = readsInPlace ? inPlane : wideStrip
                                    wideTile(source, count: p.cinG, plane: plane, w: w,
                                             bias: bias + oc, pair: pair, validInLast: validInLast, relu: relu,
                                             addend: add, out: y + oc * plane + px, rowStride: rowStride,
                                             prefetchAhead: prefetchingWeights && k == 0 ? pointwiseNextPairPrefetch * p.cinG : 0)
                                } else {
                                    stripTile(PackedRows(strips + k * p.cinG * pointwiseTile), p: p, plane: plane, w: w,
                                              bias: bias + oc, pair: pair, validInLast: validInLast, relu: relu,
                                              addend: add, out: y + oc * plane + px)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// One 24-pixel tile of a block, or of a pair of blocks where `pair` (`tile8x24`): `validInLast`
    /// channels of the last block stored.
    @inline(__always)
    static func stripTile<Rows: TileRows>(_ rows: Rows, p: Plan, plane: Int, w: UnsafePointer<Float>,
                                          bias: UnsafePointer<Float>, pair: Bool, validInLast: Int, relu: Bool,
                                          addend: UnsafePointer<Float>?, out: UnsafeMutablePointer<Float>) {
        if pair {
            tile8x24(rows, count: p.cinG, plane: plane, w: w, bias: bias, validInSecond: validInLast,
                     relu: relu, addend: addend, out: out)
        } else {
            tile24(rows, count: p.cinG, plane: plane, w: w, bias: bias, valid: validInLast,
                   relu: relu, addend: addend, out: out)
        }
    }

    /// The output-channel blocks `blocks` of group `g` for one packed 24-pixel strip at output pixel
    /// `px`: pairs of blocks where AVX-512's registers hold them.
    static func stripBlocks(_ p: Plan, strip: UnsafePointer<Float>, px: Int, blocks: Range<Int>, group g: Int,
                            weights: UnsafePointer<Float>, bias: UnsafePointer<Float>, relu: Bool,
                            addend: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>) {
        let plane = p.oh * p.ow, step = wide ? 2 : 1
        for block in stride(from: blocks.lowerBound, to: blocks.upperBound, by: step) {
            let oc = g * p.coutG + block * channelBlock
            let pair = block + 1 < blocks.upperBound && step == 2
            stripTile(PackedRows(strip), p: p, plane: plane, w: weights + (g * p.channelBlocks + block) * p.cinG * channelBlock,
                      bias: bias + oc, pair: pair,
                      validInLast: min(channelBlock, p.coutG - (pair ? block + 1 : block) * channelBlock), relu: relu,
                      addend: addend.map { $0 + oc * plane + px }, out: y + oc * plane + px)
        }
    }

    /// Where output pixels px..<px+count read in each input plane.
    @inline(__always)
    static func locate(_ p: Plan, _ offsets: UnsafeMutablePointer<Int>, _ px: Int, _ count: Int) {
        for j in 0..<count { offsets[j] = ((px + j) / p.ow) * p.sh * p.iw + ((px + j) % p.ow) * p.sw }
    }

    /// Packs `count` consecutive strips of `width` pixels from output pixel `px` on, strip k at
    /// `into + k·cinG·width`.
    /// At stride 1 each input channel's stretch is read in one go, channel after channel (strip by
    /// strip, 96 bytes from each plane in turn, Xception's 147×147 and 74×74 1×1 layers took 1–2.5%
    /// longer, measured alternating the two in one process).
    static func packStrips(_ p: Plan, xg: UnsafePointer<Float>, px: Int, count: Int, into strips: UnsafeMutablePointer<Float>,
                           contiguous: Bool, offsets: UnsafeMutablePointer<Int>, width: Int = pointwiseTile) {
        guard contiguous else {
            for k in 0..<count {
                gatherStrip(p, xg: xg, px: px + k * width, into: strips + k * p.cinG * width, offsets: offsets, width: width)
            }
            return
        }
        let inPlane = p.ih * p.iw, stripFloats = p.cinG * width
        for icg in 0..<p.cinG {
            let src = xg + icg * inPlane + px, dst = strips + icg * width
            for k in 0..<count {
                for j in stride(from: 0, to: width, by: 8) {
                    UnsafeMutableRawPointer(dst + k * stripFloats + j)
                        .storeBytes(of: UnsafeRawPointer(src + k * width + j).loadUnaligned(as: SIMD8<Float>.self),
                                    as: SIMD8<Float>.self)
                }
            }
        }
    }

    /// Gathers the strip of `width` (24 or 48) pixels starting at output pixel `px` of every input
    /// channel of one group side by side: x[oy·sh][ox·sw] of a strided layer, or rows narrower than
    /// the input's.
    @inline(__always)
    static func gatherStrip(_ p: Plan, xg: UnsafePointer<Float>, px: Int, into strip: UnsafeMutablePointer<Float>,
                            offsets: UnsafeMutablePointer<Int>, width: Int = pointwiseTile) {
        let inPlane = p.ih * p.iw, chunks = width / 8
        locate(p, offsets, px, width)
        // Eight pixels two floats apart (stride 2 across) are the even lanes of one 16-float load;
        // the offsets rise by 2 at every step exactly when the eight span 14 (Xception's strided
        // shortcuts spent a tenth of their time in the scalar gather). Bit c: chunk c is such eight.
        var evenLanes = 0
        if p.sw == 2 {
            for c in 0..<chunks where offsets[8 * c + 7] == offsets[8 * c] + 14 && offsets[8 * c] + 16 <= inPlane {
                evenLanes |= 1 << c
            }
        }
        for icg in 0..<p.cinG {
            let src = xg + icg * inPlane, dst = strip + icg * width
            for c in 0..<chunks {
                if evenLanes & (1 << c) != 0 {
                    let v = UnsafeRawPointer(src + offsets[8 * c]).loadUnaligned(as: SIMD16<Float>.self)
                    UnsafeMutableRawPointer(dst + 8 * c).storeBytes(of: v.evenHalf, as: SIMD8<Float>.self)
                } else {
                    for j in (8 * c)..<(8 * c + 8) { dst[j] = src[offsets[j]] }
                }
            }
        }
    }

    /// `pointwiseBlockMajor` layers: each worker takes a contiguous range of every group's
    /// output-channel blocks and computes all pixels for them, eight blocks at a time, while those
    /// blocks' weights are still in L2: where the strips read the input in place
    /// (`pointwiseStripsReadInPlace`: Xception's 10×10 exit flow, except on Intel cores) in 48-pixel
    /// strips (`inPlaceBlocks`), else strips packed (or gathered) into panels, 48 pixels wide where
    /// the wide tile applies, and the plane's last pixels right after the last panel. On the Zen 4
    /// VM the wide strips in place took 0.970 and 0.976 of the packed 24-pixel tiles' time on
    /// 1024→1536 and 1536→2048 at 10×10 (alternated in one process, 2 threads, from cold caches;
    /// without their weight prefetch, 0.6–0.9% more); on the Emerald Rapids VM packed 48-pixel
    /// strips took 0.88 and 0.90 of the in-place time. Each element's sum is the same whichever tile
    /// computes it.
    static func pointwiseBlockMajorImage(_ p: Plan, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>,
                                         weights: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                                         scratch: UnsafeMutablePointer<Float>, relu: Bool, addend: UnsafePointer<Float>?,
                                         threads: Int) {
        let plane = p.oh * p.ow, inPlane = p.ih * p.iw
        let contiguous = pointwiseContiguous(p)
        // Packed strips are 48 pixels wide where the wide tile applies (pairs of blocks), else 24.
        let width = pointwiseStripWidth(p)
        let fullTiles = plane / width, tail = plane - fullTiles * width
        let panelLimit = max(1, pointwisePanel(p) * pointwiseTile / width)
        let shared = UncheckedSendable((x, y, weights, bias, scratch))
        let sharedAddend = UncheckedSendable(addend)
        let workers = min(threads, p.channelBlocks)
        let inPlace = pointwiseStripsReadInPlace(p)
        parallelForWorkers(threads: workers, count: workers) { worker, range in
            let (x, y, weights, bias, scratch) = shared.value
            let strips = scratch + worker * pointwiseScratch(p)
            withUnsafeTemporaryAllocation(of: Int.self, capacity: wideStrip) { offsetBuffer in
                let offsets = offsetBuffer.baseAddress!
                for slice in range {
                    let mine = (p.channelBlocks * slice / workers)..<(p.channelBlocks * (slice + 1) / workers)
                    for g in 0..<p.groups {
                        let xg = x + g * p.cinG * inPlane
                        if inPlace {
                            for b in stride(from: mine.lowerBound, to: mine.upperBound, by: 8) {
                                inPlaceBlocks(p, xg: xg, blocks: b..<min(mine.upperBound, b + 8), group: g, weights: weights,
                                              bias: bias, relu: relu, addend: sharedAddend.value, y: y, offsets: offsets)
                            }
                            continue
                        }
                        var first = 0
                        while first < fullTiles {
                            let count = min(panelLimit, fullTiles - first)
                            let lastPanel = first + count == fullTiles
                            packStrips(p, xg: xg, px: first * width, count: count, into: strips,
                                       contiguous: contiguous, offsets: offsets, width: width)
                            var b = mine.lowerBound
                            while b < mine.upperBound {
                                let group = b..<min(mine.upperBound, b + 8)
                                if width == wideStrip {
                                    for block in stride(from: group.lowerBound, to: group.upperBound, by: 2) {
                                        let pair = block + 1 < group.upperBound
                                        let oc = g * p.coutG + block * channelBlock
                                        for k in 0..<count {
                                            let px = (first + k) * wideStrip
                                            wideTile(strips + k * p.cinG * wideStrip, count: p.cinG, plane: plane,
                                                     w: weights + (g * p.channelBlocks + block) * p.cinG * channelBlock,
                                                     bias: bias + oc, pair: pair,
                                                     validInLast: min(channelBlock, p.coutG - (pair ? block + 1 : block) * channelBlock),
                                                     relu: relu, addend: sharedAddend.value.map { $0 + oc * plane + px },
                                                     out: y + oc * plane + px, rowStride: wideStrip,
                                                     prefetchAhead: k == 0 ? pointwisePrefetchDistance : 0)
                                        }
                                    }
                                } else {
                                    for block in group {
                                        let oc = g * p.coutG + block * channelBlock
                                        for k in 0..<count {
                                            let px = (first + k) * pointwiseTile
                                            tile24(PackedRows(strips + k * p.cinG * pointwiseTile), count: p.cinG, plane: plane,
                                                   w: weights + (g * p.channelBlocks + block) * p.cinG * channelBlock,
                                                   bias: bias + oc, valid: min(channelBlock, p.coutG - block * channelBlock),
                                                   relu: relu, addend: sharedAddend.value.map { $0 + oc * plane + px },
                                                   out: y + oc * plane + px,
                                                   prefetchAhead: k == 0 ? pointwisePrefetchDistance : 0)
                                        }
                                    }
                                }
                                if lastPanel && tail > 0 {
                                    let px = fullTiles * width
                                    locate(p, offsets, px, tail)
                                    tailBlocks(p, xg: xg, offsets: offsets, px: px, count: tail, blocks: group, group: g,
                                               weights: weights, bias: bias, relu: relu, addend: sharedAddend.value, y: y)
                                }
                                b = group.upperBound
                            }
                            first += count
                        }
                    }
                }
            }
        }
    }

    /// Output-channel blocks `blocks` of group `g` over the whole plane, the input read in place
    /// (`pointwiseReadsInPlace`): 48-pixel strips in pairs of blocks (`wideTile`), a 24-pixel
    /// strip if that many pixels are left, then the last pixels (`pointwiseTail`). The first
    /// strip's tiles prefetch the blocks' weights, which come from memory once per pass.
    static func inPlaceBlocks(_ p: Plan, xg: UnsafePointer<Float>, blocks: Range<Int>, group g: Int,
                              weights: UnsafePointer<Float>, bias: UnsafePointer<Float>, relu: Bool,
                              addend: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>,
                              offsets: UnsafeMutablePointer<Int>) {
        let plane = p.oh * p.ow, inPlane = p.ih * p.iw
        let strips = plane / wideStrip
        var px = strips * wideStrip
        let narrow = plane - px >= pointwiseTile
        for block in stride(from: blocks.lowerBound, to: blocks.upperBound, by: 2) {
            let pair = block + 1 < blocks.upperBound
            let oc = g * p.coutG + block * channelBlock
            let w = weights + (g * p.channelBlocks + block) * p.cinG * channelBlock
            let validInLast = min(channelBlock, p.coutG - (pair ? block + 1 : block) * channelBlock)
            for s in 0..<strips {
                let at = s * wideStrip
                wideTile(xg + at, count: p.cinG, plane: plane, w: w, bias: bias + oc, pair: pair,
                         validInLast: validInLast, relu: relu, addend: addend.map { $0 + oc * plane + at },
                         out: y + oc * plane + at, rowStride: inPlane,
                         prefetchAhead: s == 0 ? pointwisePrefetchDistance : 0)
            }
            if narrow {
                stripTile(StridedRows(base: xg + px, stride: inPlane), p: p, plane: plane, w: w, bias: bias + oc,
                          pair: pair, validInLast: validInLast, relu: relu,
                          addend: addend.map { $0 + oc * plane + px }, out: y + oc * plane + px)
            }
        }
        if narrow { px += pointwiseTile }
        let tail = plane - px
        guard tail > 0 else { return }
        locate(p, offsets, px, tail)
        tailBlocks(p, xg: xg, offsets: offsets, px: px, count: tail, blocks: blocks, group: g, weights: weights,
                   bias: bias, relu: relu, addend: addend, y: y)
    }

    /// The `count` pixels from output pixel `px` on (their input offsets in `offsets`, `locate`)
    /// for output-channel blocks `blocks` of group `g`, whose input starts at `xg` (`pointwiseTail`).
    static func tailBlocks(_ p: Plan, xg: UnsafePointer<Float>, offsets: UnsafePointer<Int>, px: Int, count: Int,
                           blocks: Range<Int>, group g: Int, weights: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                           relu: Bool, addend: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>) {
        let plane = p.oh * p.ow
        let oc = g * p.coutG + blocks.lowerBound * channelBlock
        pointwiseTail(xg, offsets: offsets, inPlane: p.ih * p.iw, cinG: p.cinG,
                      w: weights + (g * p.channelBlocks + blocks.lowerBound) * p.cinG * channelBlock,
                      bias: bias + oc, blocks: blocks.count,
                      validInLast: min(channelBlock, p.coutG - (blocks.upperBound - 1) * channelBlock),
                      relu: relu, addend: addend.map { $0 + oc * plane + px }, out: y + oc * plane + px,
                      outPlane: plane, count: count)
    }

    /// 4 output channels × 24 pixels: y = (Σ_k w[k]·x_k + bias) + addend, then the ReLU, where x_k
    /// is the 24 floats at `rows.row(k)` (a packed strip's channel k, or a tap of a strip in the
    /// padded buffer); `plane`: the output's row stride. Never inlined: inlined into a caller whose
    /// parallel body the compiler also inlines (one thread runs the body directly), its twelve
    /// accumulators were spilled and the layer ran at a quarter of the FMA rate.
    @inline(never)
    static func tile24<Rows: TileRows>(_ rows: Rows, count: Int, plane: Int, w: UnsafePointer<Float>,
                                       bias: UnsafePointer<Float>, valid: Int, relu: Bool, addend: UnsafePointer<Float>?,
                                       out: UnsafeMutablePointer<Float>, prefetchAhead: Int = 0) {
        var a = Block24.zero
        @inline(__always) func step(_ k: Int, _ wp: UnsafePointer<Float>) {
            let (v0, v1, v2) = strip24(rows.row(k))
            a.accumulate(v0, v1, v2, wp)
        }
        var wp = w
        if prefetchAhead > 0 {
            for k in 0..<count {
                convbench_prefetch(wp + prefetchAhead)
                step(k, wp)
                wp += channelBlock
            }
        } else {
            for k in 0..<count {
                step(k, wp)
                wp += channelBlock
            }
        }
        a.store(bias: bias, valid: valid, plane: plane, relu: relu, addend: addend, out: out)
    }

    /// `tile24` for two consecutive blocks at once, 8 output channels × 24 pixels: the first block's
    /// weights at `w`, the second's right after them (`count`·4 floats on), its first `validInSecond`
    /// channels stored. Twenty-four 8-lane accumulators, which only AVX-512's 32 vector registers hold
    /// (`wide`). Each strip row loaded serves twice the multiply-adds, and a tile's fixed costs (call,
    /// stores) are spread over twice the work: on this Zen 4 VM, 1.5–2.8% on Xception's 1×1 layers
    /// of 64 and 128 input channels at 74×74 and 147×147, 1% on 728→728 at 19×19; whole passes 0.9835
    /// (150 rounds alternated in one process). Each element's sum is the 4-channel tile's.
    @inline(never)
    static func tile8x24<Rows: TileRows>(_ rows: Rows, count: Int, plane: Int, w: UnsafePointer<Float>,
                                         bias: UnsafePointer<Float>, validInSecond: Int, relu: Bool,
                                         addend: UnsafePointer<Float>?, out: UnsafeMutablePointer<Float>) {
        var a = Block24.zero, c = Block24.zero
        var wp = w, wq = w + count * channelBlock
        for k in 0..<count {
            let (v0, v1, v2) = strip24(rows.row(k))
            a.accumulate(v0, v1, v2, wp)
            c.accumulate(v0, v1, v2, wq)
            wp += channelBlock
            wq += channelBlock
        }
        a.store(bias: bias, valid: channelBlock, plane: plane, relu: relu, addend: addend, out: out)
        c.store(bias: bias + channelBlock, valid: validInSecond, plane: plane, relu: relu,
                addend: addend.map { $0 + channelBlock * plane }, out: out + channelBlock * plane)
    }

    /// One input row of a tile: 24 floats as three 8-lane vectors.
    @inline(__always)
    static func strip24(_ src: UnsafePointer<Float>) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
        (UnsafeRawPointer(src).loadUnaligned(as: SIMD8<Float>.self),
         UnsafeRawPointer(src + 8).loadUnaligned(as: SIMD8<Float>.self),
         UnsafeRawPointer(src + 16).loadUnaligned(as: SIMD8<Float>.self))
    }

    /// The accumulators of one block of 4 output channels × three vectors of pixels: 24 pixels in
    /// 8-lane vectors (`Block24`: `tile24`, `tile8x24`), 48 in 16-lane ones (`Block48`: `tile8x48`).
    /// Each tile's stores are its own (extensions for each vector type).
    struct FourRowBlock<V: SIMD> where V.Scalar == Float {
        var r0: (V, V, V), r1: (V, V, V), r2: (V, V, V), r3: (V, V, V)

        static var zero: FourRowBlock { FourRowBlock(r0: (V(), V(), V()), r1: (V(), V(), V()), r2: (V(), V(), V()), r3: (V(), V(), V())) }

        /// Row l += w[l] · (v0, v1, v2): one input channel's weights for the block's 4 channels.
        @inline(__always)
        mutating func accumulate(_ v0: V, _ v1: V, _ v2: V, _ w: UnsafePointer<Float>) {
            var b = V(repeating: w[0])
            r0.0.addProduct(v0, b); r0.1.addProduct(v1, b); r0.2.addProduct(v2, b)
            b = V(repeating: w[1])
            r1.0.addProduct(v0, b); r1.1.addProduct(v1, b); r1.2.addProduct(v2, b)
            b = V(repeating: w[2])
            r2.0.addProduct(v0, b); r2.1.addProduct(v1, b); r2.2.addProduct(v2, b)
            b = V(repeating: w[3])
            r3.0.addProduct(v0, b); r3.1.addProduct(v1, b); r3.2.addProduct(v2, b)
        }
    }

    typealias Block24 = FourRowBlock<SIMD8<Float>>
}

extension DirectConvolution.FourRowBlock where V == SIMD8<Float> {
    /// The first `valid` rows to `out`, `plane` apart (`storeRow24`).
    @inline(__always)
    func store(bias: UnsafePointer<Float>, valid: Int, plane: Int, relu: Bool, addend: UnsafePointer<Float>?,
               out: UnsafeMutablePointer<Float>) {
        DirectConvolution.storeRow24(r0.0, r0.1, r0.2, bias: bias[0], to: out, addend: addend, relu: relu)
        if valid > 1 { DirectConvolution.storeRow24(r1.0, r1.1, r1.2, bias: bias[1], to: out + plane, addend: addend.map { $0 + plane }, relu: relu) }
        if valid > 2 { DirectConvolution.storeRow24(r2.0, r2.1, r2.2, bias: bias[2], to: out + 2 * plane, addend: addend.map { $0 + 2 * plane }, relu: relu) }
        if valid > 3 { DirectConvolution.storeRow24(r3.0, r3.1, r3.2, bias: bias[3], to: out + 3 * plane, addend: addend.map { $0 + 3 * plane }, relu: relu) }
    }
}

extension DirectConvolution {

    /// Stores one output channel's 24 pixels as (sum + bias) + addend, then the ReLU: the order of
    /// the separate passes, so the same bits.
    @inline(__always)
    static func storeRow24(_ v0: SIMD8<Float>, _ v1: SIMD8<Float>, _ v2: SIMD8<Float>, bias: Float,
                           to dst: UnsafeMutablePointer<Float>, addend: UnsafePointer<Float>?, relu: Bool) {
        typealias V = SIMD8<Float>
        let b = V(repeating: bias)
        var r0 = v0 + b, r1 = v1 + b, r2 = v2 + b
        if let addend {
            r0 += UnsafeRawPointer(addend).loadUnaligned(as: V.self)
            r1 += UnsafeRawPointer(addend + 8).loadUnaligned(as: V.self)
            r2 += UnsafeRawPointer(addend + 16).loadUnaligned(as: V.self)
        }
        if relu {
            r0 = r0.replacing(with: 0, where: r0 .< 0)
            r1 = r1.replacing(with: 0, where: r1 .< 0)
            r2 = r2.replacing(with: 0, where: r2 .< 0)
        }
        UnsafeMutableRawPointer(dst).storeBytes(of: r0, as: V.self)
        UnsafeMutableRawPointer(dst + 8).storeBytes(of: r1, as: V.self)
        UnsafeMutableRawPointer(dst + 16).storeBytes(of: r2, as: V.self)
    }

    /// The last, shorter tile of a plane: four pixels at a time (`tail4Pixels`), then one at a time,
    /// over `blocks` consecutive blocks of 4
    /// output channels, with the same fused multiply-adds in the same order as the tile (each lane sums
    /// its input channels in order from zero, then adds the bias). Eight blocks go together: eight
    /// independent accumulator chains, where one chain (the former loop) waited out the FMA latency
    /// on every input channel, 0.28 ms of a 5.5 ms 728→728 layer at 19×19 for its one leftover
    /// pixel. Pixel i reads `x[c·inPlane + offsets[i]]`.
    static func pointwiseTail(_ x: UnsafePointer<Float>, offsets: UnsafePointer<Int>, inPlane: Int, cinG: Int,
                              w: UnsafePointer<Float>, bias: UnsafePointer<Float>, blocks: Int, validInLast: Int,
                              relu: Bool, addend: UnsafePointer<Float>?, out: UnsafeMutablePointer<Float>, outPlane: Int,
                              count: Int) {
        typealias V = SIMD4<Float>
        let bs = cinG * channelBlock
        @inline(__always) func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
        @inline(__always) func store(_ a: V, _ b: Int, _ i: Int) {
            let valid = b == blocks - 1 ? validInLast : channelBlock
            for l in 0..<valid {
                let at = (b * channelBlock + l) * outPlane + i
                var v = a[l] + bias[b * channelBlock + l]
                if let r = addend { v += r[at] }
                out[at] = relu && v < 0 ? 0 : v
            }
        }
        // Four pixels at a time, each weight vector loaded once for the four and two blocks to a
        // vector: one pixel at a time streamed every weight block through L1 once per pixel, and
        // Xception's 10×10 exit flow (4 strips, then 4 pixels) spent 0.38 of 3.07 ms on those 4
        // pixels (1536→2048; at 8×12, no tail, 2.71). Now 1536→2048 and 1024→1536 at 10×10 take
        // 0.935 and 0.94 of their former time (alternated in one process).
        var first = 0
        while count - first >= 4 {
            var b = 0
            while b + 8 <= blocks {
                tail4Pixels(x, offsets: offsets + first, inPlane: inPlane, cinG: cinG, w: w + b * bs, blocks: 8) { a, block, pixel in
                    store(a, b + block, first + pixel)
                }
                b += 8
            }
            while b + 2 <= blocks {
                tail4Pixels(x, offsets: offsets + first, inPlane: inPlane, cinG: cinG, w: w + b * bs, blocks: 2) { a, block, pixel in
                    store(a, b + block, first + pixel)
                }
                b += 2
            }
            if b < blocks {
                tail4Pixels(x, offsets: offsets + first, inPlane: inPlane, cinG: cinG, w: w + b * bs, blocks: 1) { a, block, pixel in
                    store(a, b + block, first + pixel)
                }
            }
            first += 4
        }
        for i in first..<count {
            let x0 = x + offsets[i]
            var b = 0
            while b + 8 <= blocks {
                var a0 = V(), a1 = V(), a2 = V(), a3 = V(), a4 = V(), a5 = V(), a6 = V(), a7 = V()
                var src = x0, wp = w + b * bs
                for _ in 0..<cinG {
                    let v = V(repeating: src.pointee)
                    a0.addProduct(v, load(wp)); a1.addProduct(v, load(wp + bs))
                    a2.addProduct(v, load(wp + 2 * bs)); a3.addProduct(v, load(wp + 3 * bs))
                    a4.addProduct(v, load(wp + 4 * bs)); a5.addProduct(v, load(wp + 5 * bs))
                    a6.addProduct(v, load(wp + 6 * bs)); a7.addProduct(v, load(wp + 7 * bs))
                    src += inPlane
                    wp += channelBlock
                }
                store(a0, b, i); store(a1, b + 1, i); store(a2, b + 2, i); store(a3, b + 3, i)
                store(a4, b + 4, i); store(a5, b + 5, i); store(a6, b + 6, i); store(a7, b + 7, i)
                b += 8
            }
            while b + 2 <= blocks {
                var a0 = V(), a1 = V()
                var src = x0, wp = w + b * bs
                for _ in 0..<cinG {
                    let v = V(repeating: src.pointee)
                    a0.addProduct(v, load(wp)); a1.addProduct(v, load(wp + bs))
                    src += inPlane
                    wp += channelBlock
                }
                store(a0, b, i); store(a1, b + 1, i)
                b += 2
            }
            if b < blocks {
                var a0 = V()
                var src = x0, wp = w + b * bs
                for _ in 0..<cinG {
                    a0.addProduct(V(repeating: src.pointee), load(wp))
                    src += inPlane
                    wp += channelBlock
                }
                store(a0, b, i)
            }
        }
    }
}

extension DirectConvolution {
    /// Four pixels (at `x + offsets[0..<4]`, channels `inPlane` apart) × `blocks` (1, 2 or 8) blocks
    /// of 4 output channels: each lane sums its input channels in order from zero, as the tile does;
    /// `store(sum, block, pixel)` takes each block's four channels.
    @inline(__always)
    static func tail4Pixels(_ x: UnsafePointer<Float>, offsets: UnsafePointer<Int>, inPlane: Int, cinG: Int,
                            w: UnsafePointer<Float>, blocks: Int, store: (SIMD4<Float>, Int, Int) -> Void) {
        typealias V = SIMD4<Float>
        let bs = cinG * channelBlock
        @inline(__always) func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
        let x0 = x + offsets[0], x1 = x + offsets[1], x2 = x + offsets[2], x3 = x + offsets[3]
        typealias W = SIMD8<Float>
        switch blocks {
        case 8:
            // Two blocks per 8-lane vector (each block's four weights of an input channel are a block
            // apart in the packing, so they are joined), four pairs: sixteen accumulators.
            var p0 = (W(), W(), W(), W()), p1 = p0, p2 = p0, p3 = p0
            var wp = w, k = 0
            while k < cinG {
                let w0 = W(lowHalf: load(wp), highHalf: load(wp + bs))
                let w1 = W(lowHalf: load(wp + 2 * bs), highHalf: load(wp + 3 * bs))
                let w2 = W(lowHalf: load(wp + 4 * bs), highHalf: load(wp + 5 * bs))
                let w3 = W(lowHalf: load(wp + 6 * bs), highHalf: load(wp + 7 * bs))
                var v = W(repeating: x0[k * inPlane])
                p0.0.addProduct(v, w0); p0.1.addProduct(v, w1); p0.2.addProduct(v, w2); p0.3.addProduct(v, w3)
                v = W(repeating: x1[k * inPlane])
                p1.0.addProduct(v, w0); p1.1.addProduct(v, w1); p1.2.addProduct(v, w2); p1.3.addProduct(v, w3)
                v = W(repeating: x2[k * inPlane])
                p2.0.addProduct(v, w0); p2.1.addProduct(v, w1); p2.2.addProduct(v, w2); p2.3.addProduct(v, w3)
                v = W(repeating: x3[k * inPlane])
                p3.0.addProduct(v, w0); p3.1.addProduct(v, w1); p3.2.addProduct(v, w2); p3.3.addProduct(v, w3)
                wp += channelBlock
                k += 1
            }
            @inline(__always) func put(_ q: (W, W, W, W), _ i: Int) {
                store(q.0.lowHalf, 0, i); store(q.0.highHalf, 1, i); store(q.1.lowHalf, 2, i); store(q.1.highHalf, 3, i)
                store(q.2.lowHalf, 4, i); store(q.2.highHalf, 5, i); store(q.3.lowHalf, 6, i); store(q.3.highHalf, 7, i)
            }
            put(p0, 0); put(p1, 1); put(p2, 2); put(p3, 3)
        case 2:
            var p0 = W(), p1 = W(), p2 = W(), p3 = W()
            var wp = w, k = 0
            while k < cinG {
                let w0 = W(lowHalf: load(wp), highHalf: load(wp + bs))
                p0.addProduct(W(repeating: x0[k * inPlane]), w0); p1.addProduct(W(repeating: x1[k * inPlane]), w0)
                p2.addProduct(W(repeating: x2[k * inPlane]), w0); p3.addProduct(W(repeating: x3[k * inPlane]), w0)
                wp += channelBlock
                k += 1
            }
            store(p0.lowHalf, 0, 0); store(p0.highHalf, 1, 0); store(p1.lowHalf, 0, 1); store(p1.highHalf, 1, 1)
            store(p2.lowHalf, 0, 2); store(p2.highHalf, 1, 2); store(p3.lowHalf, 0, 3); store(p3.highHalf, 1, 3)
        default:
            var p0 = V(), p1 = V(), p2 = V(), p3 = V()
            var wp = w, k = 0
            while k < cinG {
                let w0 = load(wp)
                p0.addProduct(V(repeating: x0[k * inPlane]), w0); p1.addProduct(V(repeating: x1[k * inPlane]), w0)
                p2.addProduct(V(repeating: x2[k * inPlane]), w0); p3.addProduct(V(repeating: x3[k * inPlane]), w0)
                wp += channelBlock
                k += 1
            }
            store(p0, 0, 0); store(p1, 0, 1); store(p2, 0, 2); store(p3, 0, 3)
        }
    }
}

/// Where the 24 floats of each input row k of a tile start (`DirectConvolution.tile24`).
protocol TileRows {
    func row(_ k: Int) -> UnsafePointer<Float>
}

/// A packed strip: row k at `base + 24·k`.
struct PackedRows: TileRows {
    let base: UnsafePointer<Float>
    init(_ base: UnsafePointer<Float>) { self.base = base }
    @inline(__always) func row(_ k: Int) -> UnsafePointer<Float> { base + k * DirectConvolution.pointwiseTile }
}

/// Rows a fixed distance apart: row k at `base + k·stride` (an input read in place, a plane apart).
struct StridedRows: TileRows {
    let base: UnsafePointer<Float>
    let stride: Int
    @inline(__always) func row(_ k: Int) -> UnsafePointer<Float> { base + k * stride }
}

/// Taps read in place: row k at `base + offsets[k]`.
struct OffsetRows: TileRows {
    let base: UnsafePointer<Float>
    let offsets: UnsafePointer<Int>
    @inline(__always) func row(_ k: Int) -> UnsafePointer<Float> { base + offsets[k] }
}

/// The input rows of the panel after the current one, `rows` (a work item's share of the group's
/// input channels) of `pixels` floats each from pixel `px` on, prefetched a few rows before each
/// of the item's `tiles` tiles, so that packing that panel finds them in the cache.
struct NextPanelPrefetch {
    private var row: Int
    private let end: Int
    private let perTile: Int
    /// Where the panel starts in input channel 0, how far apart the channels' planes are, and
    /// how many bytes of each plane the panel takes.
    private let start: UnsafeRawPointer
    private let planeBytes: Int
    private let panelBytes: Int

    init(_ p: DirectConvolution.Plan, xg: UnsafePointer<Float>, px: Int, pixels: Int, rows: Range<Int>, tiles: Int) {
        row = rows.lowerBound
        end = rows.upperBound
        perTile = (rows.count + max(1, tiles) - 1) / max(1, tiles)
        start = UnsafeRawPointer(xg + px)
        planeBytes = p.ih * p.iw * MemoryLayout<Float>.size
        panelBytes = pixels * MemoryLayout<Float>.size
    }

    @inline(__always)
    mutating func beforeTile() {
        let stop = min(end, row + perTile)
        while row < stop {
            let first = start + row * planeBytes
            var offset = 0
            while offset < panelBytes {
                convbench_prefetch(first + offset)
                offset += 64
            }
            row += 1
        }
    }
}
