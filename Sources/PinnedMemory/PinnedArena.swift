/// Memory that never moves, owned in blocks and handed out as borrowed views: the tables mappings compile at start-up
/// (path steps, member names, lookup tables, request-form prefixes) and the lines a container log decoder rebuilds.
///
/// The hot paths read these through plain pointers, so that reading them retains and releases nothing. This type is
/// the one place that allocates, initializes and frees such memory; the modules that read it use only the views it
/// returns.
///
/// Lifetime of a view: until the arena is deinitialized or ``reset(minimumCapacity:)`` is called. Nothing handed out
/// is ever moved or written again: a request that does not fit the current block starts a new block. A view of
/// memory that other threads read must come from a ``Sealed`` arena (see ``seal()``), which can no longer be
/// written, reset or freed while anything holds it.
public final class PinnedArena {
    /// Blocks allocated so far, the last one the current. Freed in `deinit`, or by `reset` (all but the first).
    private var blocks: [UnsafeMutableRawBufferPointer] = []
    /// Bytes used of the current block.
    private var used = 0
    /// The size of the next block to allocate (at least; a larger request gets a block of its own size).
    public private(set) var capacity: Int

    /// An arena whose blocks are `capacity` bytes (the first allocated on first use). The default suits a chunk of
    /// decoded lines; tables compiled at start-up pass what they need.
    public init(capacity: Int = 256 * 1024) {
        self.capacity = max(capacity, 16)
    }

    deinit {
        for block in blocks { block.deallocate() }
    }

    /// Whether `count` more bytes fit in the current block (or the first one, not yet allocated): a caller that
    /// bounds its memory resets when they do not, instead of letting the arena grow.
    public func hasRoom(_ count: Int) -> Bool {
        (blocks.last?.count ?? capacity) - used >= count
    }

    /// Forgets everything handed out (every view is invalid from here on) and keeps one block of at least
    /// `minimumCapacity` bytes.
    public func reset(minimumCapacity: Int = 0) {
        used = 0
        if minimumCapacity > capacity { capacity = minimumCapacity }
        guard let first = blocks.first else { return }
        let keep = first.count >= capacity ? 1 : 0
        for block in blocks[keep...] { block.deallocate() }
        blocks.removeSubrange(keep...)
    }

    /// Room for up to `count` bytes, filled by `fill` (which returns how many it wrote, at most `count`).
    public func write(upTo count: Int, _ fill: (UnsafeMutableRawBufferPointer) -> Int) -> UnsafeRawBufferPointer {
        let room = reserve(count, alignment: 1)
        let written = fill(room)
        precondition(written >= 0 && written <= count, "pinned arena: wrote outside the room given")
        used += written
        return UnsafeRawBufferPointer(start: room.baseAddress, count: written)
    }

    /// A copy of `parts`, one after the other.
    public func copy(_ parts: UnsafeRawBufferPointer...) -> UnsafeRawBufferPointer {
        write(upTo: parts.reduce(0) { $0 + $1.count }) { out in
            var n = 0
            for p in parts where p.count > 0 {
                UnsafeMutableRawBufferPointer(rebasing: out[n..<(n + p.count)]).copyMemory(from: p)
                n += p.count
            }
            return n
        }
    }

    /// A copy of `elements` (plain values: their bytes are copied, nothing is retained). The view's base address is
    /// never `nil`, even for no elements.
    public func pin<T: BitwiseCopyable>(_ elements: [T]) -> UnsafeBufferPointer<T> {
        precondition(MemoryLayout<T>.alignment <= 16, "pinned arena: blocks are 16-byte aligned")
        let size = MemoryLayout<T>.stride * elements.count
        let room = reserve(size, alignment: MemoryLayout<T>.alignment)
        used += size
        let typed = UnsafeMutableRawBufferPointer(start: room.baseAddress, count: size)
            .initializeMemory(as: T.self, fromContentsOf: elements)
        // No elements: the room's address, so that the view still has one.
        let start = typed.baseAddress ?? room.baseAddress?.assumingMemoryBound(to: T.self)
        return UnsafeBufferPointer(start: start, count: elements.count)
    }

    /// Room for `count` bytes at `alignment` in the current block, or at the start of a new one; `used` is moved to
    /// the room's start (the caller adds what it used).
    private func reserve(_ count: Int, alignment: Int) -> UnsafeMutableRawBufferPointer {
        if let block = blocks.last {
            let start = (used + alignment - 1) & ~(alignment - 1)
            if block.count - start >= count {
                used = start
                return UnsafeMutableRawBufferPointer(rebasing: block[start..<(start + count)])
            }
        }
        // A new block; blocks are 16-byte aligned, enough for any table element.
        let block = UnsafeMutableRawBufferPointer.allocate(byteCount: max(capacity, count, 1), alignment: 16)
        blocks.append(block)
        used = 0
        return UnsafeMutableRawBufferPointer(rebasing: block[0..<count])
    }

    /// Ends writing: what was handed out becomes read-only memory that any thread may read, kept alive by the
    /// returned object. The arena is left empty.
    public func seal() -> Sealed {
        let sealed = Sealed(blocks: blocks)
        blocks = []
        used = 0
        return sealed
    }

    /// An arena's memory once sealed: never written again, freed when the last holder lets go.
    ///
    /// `@unchecked Sendable`: it holds pointers, which are not `Sendable`, but the memory behind them is immutable
    /// from ``PinnedArena/seal()`` on and this object only frees it, in `deinit`, when no holder is left.
    public final class Sealed: @unchecked Sendable {
        private let blocks: [UnsafeMutableRawBufferPointer]

        fileprivate init(blocks: [UnsafeMutableRawBufferPointer]) {
            self.blocks = blocks
        }

        deinit {
            for block in blocks { block.deallocate() }
        }
    }
}

/// A read-only view of sealed pinned memory that may cross threads: valid while the ``PinnedArena/Sealed`` it came
/// from is alive (its holder keeps both).
///
/// `@unchecked Sendable`: the elements are plain values in memory nobody writes any more (``PinnedArena/seal()``).
public struct PinnedBuffer<Element: BitwiseCopyable>: @unchecked Sendable, BitwiseCopyable {
    public let buffer: UnsafeBufferPointer<Element>

    /// Wraps `buffer`, which must come from an arena that is sealed before the view is shared.
    @inlinable
    public init(_ buffer: UnsafeBufferPointer<Element>) {
        self.buffer = buffer
    }

    @inlinable
    public var count: Int { buffer.count }
}
