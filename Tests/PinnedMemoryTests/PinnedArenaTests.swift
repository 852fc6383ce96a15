import PinnedMemory
import Testing

@Suite struct PinnedArenaTests {
    /// Views handed out stay where they are and keep their contents while later requests fill blocks and start new
    /// ones, including requests larger than a block.
    @Test func viewsNeverMoveAsTheArenaGrows() {
        let arena = PinnedArena(capacity: 64)
        var views: [(UnsafeBufferPointer<UInt8>, [UInt8])] = []
        for i in 0..<300 {
            let bytes = (0..<(i % 97)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ i) }
            views.append((arena.pin(bytes), bytes))
        }
        for (view, bytes) in views {
            #expect(Array(view) == bytes)
            #expect(view.baseAddress != nil)
        }
    }

    /// Tables of plain values come back aligned for their element and equal to what was pinned.
    @Test func tablesAreAlignedAndCopied() {
        struct Step: Equatable {
            var key: UnsafePointer<UInt8>?
            var count: Int
            var flag: Bool
        }
        let arena = PinnedArena(capacity: 100)
        _ = arena.pin([UInt8(1), 2, 3])
        let name = arena.pin(Array("user".utf8))
        let steps = [Step(key: name.baseAddress, count: 4, flag: true), Step(key: nil, count: 7, flag: false)]
        let table = arena.pin(steps)
        #expect(Array(table) == steps)
        #expect(Int(bitPattern: table.baseAddress) % MemoryLayout<Step>.alignment == 0)
        let numbers = arena.pin([UInt64(1), 2, 3])
        #expect(Int(bitPattern: numbers.baseAddress) % 8 == 0)
        #expect(Array(numbers) == [1, 2, 3])
    }

    /// An empty view still has an address: an empty member name must not read as "no name" (an index step).
    @Test func emptyViewsHaveAnAddress() {
        let arena = PinnedArena(capacity: 16)
        #expect(arena.pin([UInt8]()).baseAddress != nil)
        #expect(arena.pin([UInt8]()).count == 0)
    }

    /// `hasRoom` answers for the current block; a reset forgets what was handed out and keeps a block of at least
    /// the capacity asked for.
    @Test func roomAndReset() {
        let arena = PinnedArena(capacity: 32)
        #expect(arena.hasRoom(32))
        #expect(!arena.hasRoom(33))
        let line = arena.write(upTo: 20) { out in
            for i in 0..<10 { out[i] = UInt8(i) }
            return 10
        }
        #expect(line.count == 10)
        #expect(arena.hasRoom(22))
        #expect(!arena.hasRoom(23))
        let copy = [UInt8](repeating: 7, count: 5).withUnsafeBytes { arena.copy($0, $0) }
        #expect(Array(copy) == [UInt8](repeating: 7, count: 10))
        arena.reset(minimumCapacity: 1000)
        #expect(arena.capacity == 1000)
        #expect(arena.hasRoom(1000))
        arena.reset()
        #expect(arena.hasRoom(1000))
    }

    /// Sealed memory outlives the arena that built it, and can be read from another thread.
    @Test func sealedMemoryOutlivesTheArenaAndCrossesThreads() async {
        let (memory, view): (PinnedArena.Sealed, PinnedBuffer<UInt32>) = {
            let arena = PinnedArena(capacity: 16)
            let view = PinnedBuffer(arena.pin((0..<1000).map { UInt32($0) }))
            return (arena.seal(), view)
        }()
        let sum = await Task.detached { view.buffer.reduce(0, +) }.value
        #expect(sum == 499_500)
        withExtendedLifetime(memory) {}
    }
}
