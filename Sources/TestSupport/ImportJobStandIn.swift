import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A stand-in for Amazon Personalize's dataset import job calls (`CreateDatasetImportJob`,
/// `DescribeDatasetImportJob`, `ListDatasetImportJobs`) on 127.0.0.1: AWS JSON 1.1 with `X-Amz-Target`, SigV4 for
/// `personalize` checked by ``SigV4Verifier``, every body validated against botocore's model (``ImportJobModel``).
///
/// Jobs move by polls, not by time: the first `DescribeDatasetImportJob` of a job answers `CREATE PENDING`, the
/// second `CREATE IN_PROGRESS`, later ones `ACTIVE`, or `CREATE FAILED` with a reason for jobs whose data location
/// contains a string given to ``failJobs(locationContaining:reason:)``.
public final class ImportJobStandIn: Sendable {
    /// One request the stand-in accepted (authenticated, valid): its operation and JSON body.
    public struct Call: Sendable {
        public var operation: String
        public var body: [String: String]
    }

    struct Job {
        var arn: String
        var name: String
        var datasetArn: String
        var dataLocation: String
        var roleArn: String
        var importMode: String
        var polls = 0
        var failure: String?

        var status: String {
            switch polls {
            case 0, 1: "CREATE PENDING"
            case 2: "CREATE IN_PROGRESS"
            default: failure == nil ? "ACTIVE" : "CREATE FAILED"
            }
        }
    }

    struct State {
        var jobs: [Job] = []
        var calls: [Call] = []
        var failures: [(String, String)] = []
        var rejected = 0
    }

    public let port: Int
    let configuration: PersonalizeStandIn.Configuration
    let model: ImportJobModel
    let state = Mutex(State())
    nonisolated(unsafe) private var channel: (any Channel)?
    private let group: MultiThreadedEventLoopGroup

    private init(
        port: Int, configuration: PersonalizeStandIn.Configuration, model: ImportJobModel,
        group: MultiThreadedEventLoopGroup
    ) {
        self.port = port
        self.configuration = configuration
        self.model = model
        self.group = group
    }

    /// Binds 127.0.0.1 on a free port. Credentials, region and signing name come from `configuration`
    /// (default: `AKIDEXAMPLE`, `us-east-1`, `personalize`).
    public static func start(_ configuration: PersonalizeStandIn.Configuration = .init()) async throws
        -> ImportJobStandIn
    {
        let model = try ImportJobModel()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let box = Mutex<ImportJobStandIn?>(nil)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    guard let standIn = box.withLock({ $0 }) else { throw ChannelError.ioOnClosedChannel }
                    try channel.pipeline.syncOperations.addHandler(ImportJobHTTPHandler(standIn: standIn))
                }
            }
        let channel = try await bootstrap.bind(host: "127.0.0.1", port: configuration.port).get()
        let standIn = ImportJobStandIn(
            port: channel.localAddress?.port ?? 0, configuration: configuration, model: model, group: group)
        standIn.channel = channel
        box.withLock { $0 = standIn }
        return standIn
    }

    /// `http://127.0.0.1:<port>`, for `AWS_ENDPOINT_URL_PERSONALIZE`.
    public var endpoint: String { "http://127.0.0.1:\(port)" }

    public func shutdown() async throws {
        try? await channel?.close()
        try await group.shutdownGracefully()
    }

    /// Jobs created from now on whose data location contains `fragment` end `CREATE FAILED` with `reason`.
    public func failJobs(locationContaining fragment: String, reason: String) {
        state.withLock { $0.failures.append((fragment, reason)) }
    }

    /// Every accepted call, in order.
    public func calls() -> [Call] { state.withLock { $0.calls } }

    /// How many requests were refused (authentication, routing or validation).
    public func rejectedCount() -> Int { state.withLock { $0.rejected } }

    // MARK: Handling

    /// The answer to one request: status, `X-Amzn-ErrorType` when an error, JSON body.
    func handle(head: HTTPRequestHead, body: ByteBuffer, verifier: inout SigV4Verifier) -> (Int, String?, String) {
        func error(_ status: Int, _ code: String, _ message: String) -> (Int, String?, String) {
            state.withLock { $0.rejected += 1 }
            return (status, code, Self.json(["__type": code, "message": message]))
        }
        if case .failure(let e) = verifier.verify(
            method: "\(head.method)", uri: head.uri, headers: head.headers, body: body)
        {
            return error(e.status, e.code, e.message)
        }
        guard head.method == .POST, head.uri == "/" else {
            return error(404, "UnknownOperationException", "POST / only")
        }
        guard head.headers.first(name: "content-type") == "application/x-amz-json-1.1" else {
            return error(400, "SerializationException", "Content-Type must be application/x-amz-json-1.1")
        }
        let target = head.headers.first(name: "x-amz-target") ?? ""
        guard target.hasPrefix("AmazonPersonalize."), model.operationNames.contains(String(target.dropFirst(18))) else {
            return error(
                400, "UnknownOperationException", "X-Amz-Target \(target) is not an operation of this stand-in")
        }
        let operation = String(target.dropFirst(18))
        let bytes = Array(body.readableBytesView)
        let problems = model.violations(operation: operation, body: bytes)
        guard problems.isEmpty else {
            return error(
                400, "ValidationException", "\(problems.count) validation error(s): \(problems.joined(separator: "; "))"
            )
        }
        let object = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] ?? [:]
        var flat: [String: String] = [:]
        for (k, v) in object {
            flat[k] = (v as? String) ?? ((v as? [String: Any])?["dataLocation"] as? String) ?? "\(v)"
        }
        state.withLock { $0.calls.append(Call(operation: operation, body: flat)) }
        switch operation {
        case "CreateDatasetImportJob":
            let name = flat["jobName"] ?? ""
            let dataset = flat["datasetArn"] ?? ""
            let result: (Int, String?, String) = state.withLock { s in
                if s.jobs.contains(where: { $0.name == name && $0.datasetArn == dataset }) {
                    return (
                        400, "ResourceAlreadyExistsException",
                        Self.json(["__type": "ResourceAlreadyExistsException", "message": "job \(name) exists"])
                    )
                }
                let arn = "arn:aws:personalize:\(configuration.region):123456789012:dataset-import-job/\(name)"
                let location = flat["dataSource"] ?? ""
                let failure = s.failures.first(where: { location.contains($0.0) })?.1
                s.jobs.append(
                    Job(
                        arn: arn, name: name, datasetArn: dataset, dataLocation: location,
                        roleArn: flat["roleArn"] ?? "",
                        importMode: flat["importMode"] ?? "FULL", failure: failure))
                return (200, nil, Self.json(["datasetImportJobArn": arn]))
            }
            return result
        case "DescribeDatasetImportJob":
            let arn = flat["datasetImportJobArn"] ?? ""
            let job: Job? = state.withLock { s in
                guard let i = s.jobs.firstIndex(where: { $0.arn == arn }) else { return nil }
                s.jobs[i].polls += 1
                return s.jobs[i]
            }
            guard let job else { return error(400, "ResourceNotFoundException", "No dataset import job \(arn)") }
            return (200, nil, Self.json(["datasetImportJob": Self.describe(job, full: true)]))
        default:
            let dataset = flat["datasetArn"]
            let jobs = state.withLock { s in s.jobs.filter { dataset == nil || $0.datasetArn == dataset } }
            return (200, nil, Self.json(["datasetImportJobs": jobs.map { Self.describe($0, full: false) }]))
        }
    }

    static func describe(_ job: Job, full: Bool) -> [String: Any] {
        var out: [String: Any] = [
            "datasetImportJobArn": job.arn, "jobName": job.name, "status": job.status, "importMode": job.importMode,
            "creationDateTime": 1_800_000_000, "lastUpdatedDateTime": 1_800_000_000,
        ]
        if full {
            out["datasetArn"] = job.datasetArn
            out["dataSource"] = ["dataLocation": job.dataLocation]
            out["roleArn"] = job.roleArn
        }
        if job.status == "CREATE FAILED", let failure = job.failure { out["failureReason"] = failure }
        return out
    }

    static func json(_ object: [String: Any]) -> String {
        String(
            decoding: (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data(),
            as: UTF8.self)
    }
}

/// One connection of ``ImportJobStandIn``: gathers a request, answers it.
final class ImportJobHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let standIn: ImportJobStandIn
    private var verifier: SigV4Verifier
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()

    init(standIn: ImportJobStandIn) {
        self.standIn = standIn
        verifier = SigV4Verifier(configuration: standIn.configuration)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
            body.clear()
        case .body(var chunk):
            body.writeBuffer(&chunk)
        case .end:
            guard let head else { return }
            self.head = nil
            let (status, errorType, text) = standIn.handle(head: head, body: body, verifier: &verifier)
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "application/x-amz-json-1.1")
            headers.add(name: "Content-Length", value: "\(text.utf8.count)")
            if let errorType { headers.add(name: "X-Amzn-ErrorType", value: errorType) }
            let response = HTTPResponseHead(version: head.version, status: .init(statusCode: status), headers: headers)
            context.write(wrapOutboundOut(.head(response)), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
