import CMemory
import Foundation
import JSON
import Mapping
import PersonalizeModel
import Synchronization
import Tailing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What mapping made of one line, before the engine acts on it.
enum Premapped {
    /// Only whitespace.
    case blank
    /// The mappings' results, records already encoded (empty: no mapping matched), and a copy of the line when
    /// there are results (records keep it for the dead-letter file, failures are written with it).
    case mapped([Mapped], line: [UInt8])
    /// Not JSON, or not UTF-8.
    case invalid(JSONParseError)

    /// A valid record, serialized for its request, and its time (for `--since` / `--until`); or a failure.
    typealias Mapped = EncodedMappingResult

    /// Maps one line and encodes its records. Pure apart from `mapper`'s sessions and scratch space.
    static func make(_ bytes: UnsafeRawBufferPointer, context: RecordContext, mapper: Mapper) -> Premapped {
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { return .blank }
        let results: [Mapped]
        do {
            // Validates the whole line, then reads only the fields the mappings read.
            results = try mapper.apply(line: bytes, context: context)
        } catch {
            return .invalid(error)
        }
        if results.isEmpty { return .mapped([], line: []) }
        return .mapped(results, line: Array(bytes))
    }
}

extension FramedLine {
    /// Puts the line's offset, and its stream and time when the context carries `$meta` values, into `context`.
    @inline(__always)
    func locate(_ context: inout RecordContext) {
        context.offset = offset
        if context.meta != nil, let s = stream {
            context.meta!.stream = s.name
            context.meta!.time = time.map { String(decoding: $0, as: UTF8.self) }
        }
    }
}

/// Maps large chunks of lines on two threads, the engine's and a worker's (fork and join inside one read, the engine
/// handling results in order as they are done, so its order of events, ledgers and back-pressure are exactly as
/// without it).
///
/// Parsing, mapping and encoding are the largest part of the engine's work in catch-up runs; this lets them use the
/// second core. Both threads claim small pieces of the chunk from one counter until none are left, so a worker that
/// is slow to wake or is preempted (the event loop and the sink share the cores) only leaves more to the engine, and
/// a worker that never got to start is called off. It is only used when no mapping sessionizes (sessions depend on
/// the order records are seen in) and the machine has more than one core. The worker has a ``Mapper`` of its own
/// (mappers keep scratch space); the mapping set itself is immutable and shared.
///
/// `@unchecked Sendable`: the job and the flags are guarded by `mutex`; each piece's results are handed over by its
/// `ready` flag (a releasing store, an acquiring load); the engine lets go of the job only after the join. `.ci/tsan`
/// runs the worker's tests under ThreadSanitizer.
final class MappingWorker: @unchecked Sendable {
    /// Chunks smaller than this are mapped on the engine's thread alone: a hand-off costs a wake-up, and a follow
    /// run's small appends gain nothing from it.
    static let minimumChunk = 64
    /// Lines claimed at a time.
    static let piece = 16

    private let mapper: Mapper
    /// The next unclaimed line of the job in hand.
    private let next = Atomic<Int>(0)
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    // Guarded by `mutex`:
    /// The job in hand: set by the engine, taken by the worker, cleared by the engine after the join.
    private var job: Job?
    private var taken = false
    private var done = false
    private var closed = false
    private var workerSleeping = false
    private var engineSleeping = false

    private struct Job {
        var lines: UnsafeBufferPointer<FramedLine>
        var context: RecordContext
        var output: UnsafeMutablePointer<Premapped>
        /// Set (releasing) when a piece's lines are in `output`.
        var ready: UnsafeMutablePointer<Atomic<Bool>>
        /// Read ahead by the worker before it maps (the next block of the chunk's file).
        var readAhead: BlockSource?
    }

    init(mappings: MappingSet) {
        mapper = Mapper(mappings: mappings)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
        let thread = Thread { [self] in run() }
        thread.name = "personalize-tail mapper"
        thread.stackSize = 4 << 20
        thread.start()
    }

    /// Whether ``map(_:context:engineMapper:readAhead:handle:)`` may split work for `mappings` (no mapping
    /// sessionizes).
    static func canSplit(_ mappings: MappingSet) -> Bool {
        !mappings.sessionizes
    }

    /// Ends the worker thread (it holds the worker until then).
    func close() {
        pthread_mutex_lock(mutex)
        closed = true
        pthread_mutex_unlock(mutex)
        pthread_cond_broadcast(condition)
    }

    /// Maps `lines` (one chunk of one stream: `context` differs only by offset), with the worker's help, and hands
    /// each line's result to `handle`, in order, on the calling thread.
    ///
    /// The engine handles the pieces as they are done (its own and the worker's), and maps the next unclaimed
    /// piece whenever the one it needs next is not ready: its handling (batching, launching requests) runs while the
    /// worker maps, instead of after the join. If the worker takes part, it first reads the next block of `readAhead`
    /// (the file the lines came from) ahead: the block source is `Sendable`, and the engine takes the block from it
    /// in its next read. `handle` must not touch what the mapping reads. Returns once every line is handled and the
    /// worker has let go of the chunk.
    func map(
        _ lines: [FramedLine], context: RecordContext, engineMapper: Mapper, readAhead: BlockSource? = nil,
        handle: (Int, Premapped) -> Void
    ) {
        let n = lines.count
        guard n >= Self.minimumChunk else {
            var c = context
            for (i, line) in lines.enumerated() {
                line.locate(&c)
                handle(i, Premapped.make(line.bytes, context: c, mapper: engineMapper))
            }
            return
        }
        let pieces = (n + Self.piece - 1) / Self.piece
        let output = UnsafeMutablePointer<Premapped>.allocate(capacity: n)
        let ready = UnsafeMutablePointer<Atomic<Bool>>.allocate(capacity: pieces)
        for p in 0..<pieces { (ready + p).initialize(to: Atomic(false)) }
        defer {
            ready.deinitialize(count: pieces)
            ready.deallocate()
            output.deallocate()
        }
        lines.withUnsafeBufferPointer { all in
            let job = Job(lines: all, context: context, output: output, ready: ready, readAhead: readAhead)
            next.store(0, ordering: .relaxed)
            pthread_mutex_lock(mutex)
            self.job = job
            taken = false
            done = false
            let wake = workerSleeping
            pthread_mutex_unlock(mutex)
            if wake { pthread_cond_broadcast(condition) }
            var handled = 0
            while handled < pieces {
                if ready[handled].load(ordering: .acquiring) {
                    for i in handled * Self.piece..<min(handled * Self.piece + Self.piece, n) {
                        handle(i, (output + i).move())
                    }
                    handled += 1
                } else if !claimAndMap(job, mapper: engineMapper) {
                    // Every piece is claimed and the one needed is not ready: the worker has it (the engine maps
                    // what it claims before going on), and is done once it finishes it.
                    pthread_mutex_lock(mutex)
                    waitWhileWorkerBusy()
                    pthread_mutex_unlock(mutex)
                }
            }
            // Join: the worker must let go of the job (it points at `lines`, `output` and `ready`) before they go.
            pthread_mutex_lock(mutex)
            waitWhileWorkerBusy()
            self.job = nil
            pthread_mutex_unlock(mutex)
        }
    }

    /// With `mutex` held: waits until the worker, if it took the job, is done with it.
    private func waitWhileWorkerBusy() {
        while taken && !done {
            engineSleeping = true
            pthread_cond_wait(condition, mutex)
            engineSleeping = false
        }
    }

    /// Claims the next piece of `job` and maps it; false when none was left.
    private func claimAndMap(_ job: Job, mapper: Mapper) -> Bool {
        let n = job.lines.count
        let start = next.wrappingAdd(Self.piece, ordering: .relaxed).oldValue
        if start >= n { return false }
        var c = job.context
        for i in start..<min(start + Self.piece, n) {
            job.lines[i].locate(&c)
            (job.output + i).initialize(to: Premapped.make(job.lines[i].bytes, context: c, mapper: mapper))
        }
        job.ready[start / Self.piece].store(true, ordering: .releasing)
        return true
    }

    private func run() {
        while true {
            pthread_mutex_lock(mutex)
            while job == nil || taken {
                if closed {
                    pthread_mutex_unlock(mutex)
                    return
                }
                workerSleeping = true
                pthread_cond_wait(condition, mutex)
                workerSleeping = false
            }
            let work = job!
            taken = true
            pthread_mutex_unlock(mutex)
            work.readAhead?.readAhead()
            while claimAndMap(work, mapper: mapper) {}
            pthread_mutex_lock(mutex)
            done = true
            let wake = engineSleeping
            pthread_mutex_unlock(mutex)
            if wake { pthread_cond_broadcast(condition) }
        }
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }
}

extension MappingWorker {
    /// The CPUs this process may run on: its affinity mask (`taskset`, systemd `CPUAffinity=`), further limited by a
    /// cgroup v2 CPU quota (`cpu.max`: systemd `CPUQuota=`, a Kubernetes CPU limit), rounded up.
    static func usableCPUs() -> Int {
        var count = ProcessInfo.processInfo.activeProcessorCount
        let affinity = Int(pt_affinity_cpu_count())
        if affinity > 0 { count = min(count, affinity) }
        #if os(Linux)
            // cgroup v2: this process's group is the "0::" line of /proc/self/cgroup.
            let group =
                (try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8))?
                .split(separator: "\n").first { $0.hasPrefix("0::") }.map { String($0.dropFirst(3)) } ?? ""
            if let text = try? String(contentsOfFile: "/sys/fs/cgroup" + group + "/cpu.max", encoding: .utf8) {
                let parts = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
                if parts.count >= 2, let quota = Double(parts[0]), let period = Double(parts[1]), period > 0 {
                    count = min(count, max(1, Int((quota / period).rounded(.up))))
                }
            }
        #endif
        return count
    }
}
