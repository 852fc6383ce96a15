/// Memory for the lines a ``ContainerLogDecoder`` has to rebuild (a Docker `log` string unescaped, pieces of a
/// partial line joined): they stay valid until ``reset(minimumCapacity:)``, so a chunk of decoded lines can be
/// mapped together as framed lines are.
///
/// It never moves what it handed out: when a line does not fit, the caller hands out the chunk so far, resets, and
/// decodes again (``hasRoom(_:)``).
public final class PayloadArena {
    private var base: UnsafeMutableRawPointer?
    public private(set) var capacity: Int
    private var used = 0

    public init(capacity: Int = 256 * 1024) {
        self.capacity = capacity
    }

    deinit { base?.deallocate() }

    /// Whether `count` more bytes fit without moving anything handed out.
    public func hasRoom(_ count: Int) -> Bool { capacity - used >= count }

    /// Forgets everything handed out, growing to at least `minimumCapacity`.
    public func reset(minimumCapacity: Int = 0) {
        used = 0
        if minimumCapacity > capacity {
            base?.deallocate()
            base = nil
            capacity = minimumCapacity
        }
    }

    /// Room for `count` bytes, filled by `fill` (which returns how many it wrote, at most `count`).
    func write(upTo count: Int, _ fill: (UnsafeMutableRawBufferPointer) -> Int) -> UnsafeRawBufferPointer {
        precondition(hasRoom(count), "payload arena overrun")
        if base == nil { base = .allocate(byteCount: max(capacity, 1), alignment: 8) }
        let start = base! + used
        let written = fill(UnsafeMutableRawBufferPointer(start: start, count: count))
        used += written
        return UnsafeRawBufferPointer(start: start, count: written)
    }

    func copy(_ parts: UnsafeRawBufferPointer...) -> UnsafeRawBufferPointer {
        write(upTo: parts.reduce(0) { $0 + $1.count }) { out in
            var n = 0
            for p in parts where p.count > 0 {
                UnsafeMutableRawBufferPointer(rebasing: out[n..<(n + p.count)]).copyMemory(from: p)
                n += p.count
            }
            return n
        }
    }
}
