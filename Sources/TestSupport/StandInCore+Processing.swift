import Foundation
import NIOCore
import NIOHTTP1

extension StandInCore {
    /// The decision for one request, and how long to wait before giving it.
    struct Outcome: Sendable {
        var answer: Answer
        var delayMillis = 0
        var retryAfterMillis: Int?
    }

    /// Decides one complete request and records it: route, authenticate, inject faults, validate, reject
    /// scripted records, accept. Runs on the connection's event loop; no per-request task.
    func process(
        head: HTTPRequestHead, body: ByteBuffer, bodyTooLarge: Bool, verifier: inout SigV4Verifier,
        requestId: String
    ) -> Outcome {
        let path = SigV4Verifier.splitURI(head.uri).path
        guard head.method == .POST, let operation = PersonalizeStandIn.Operation(path: path) else {
            return finish(nil, .error(.unknownOperation(method: head.method.rawValue, path: String(path))), body)
        }
        if bodyTooLarge {
            return finish(operation, .error(.tooLarge(limit: configuration.maxBodyBytes)), body)
        }
        if case .failure(let error) = verifier.verify(
            method: head.method.rawValue, uri: head.uri, headers: head.headers, body: body)
        {
            return finish(operation, .error(error), body)
        }
        let fault = decideFault()
        var outcome = Outcome(answer: .accepted, delayMillis: fault.delayMillis)
        switch fault.scripted {
        case .pass:
            outcome.answer = accept(operation, head: head, body: body, fault: fault, requestId: requestId)
        case .signatureMismatch:
            outcome.answer = .error(
                SigV4Verifier.injectedMismatch(
                    uri: head.uri, method: head.method.rawValue, headers: head.headers, body: body))
            record(
                operation: operation, answer: outcome.answer, bodyBytes: body.readableBytes, accepted: nil,
                recordCount: 0)
        case .drop:
            outcome.answer = .drop
            record(operation: operation, answer: .drop, bodyBytes: body.readableBytes, accepted: nil, recordCount: 0)
        case .error(let status, let code, let message):
            var error = ServiceError(
                status: status, code: code, message: message ?? Self.defaultMessage(code: code), stage: .fault)
            if code == "ThrottlingException" { error.retryAfterMillis = fault.retryAfterMillis }
            outcome.answer = .error(error)
            record(
                operation: operation, answer: outcome.answer, bodyBytes: body.readableBytes, accepted: nil,
                recordCount: 0)
        }
        return outcome
    }

    private func finish(_ operation: PersonalizeStandIn.Operation?, _ answer: Answer, _ body: ByteBuffer) -> Outcome {
        record(operation: operation, answer: answer, bodyBytes: body.readableBytes, accepted: nil, recordCount: 0)
        return Outcome(answer: answer)
    }

    private static func defaultMessage(code: String) -> String {
        switch code {
        case "ThrottlingException": "Rate exceeded"
        case "ServiceUnavailable": "Service is unavailable. Please try again later."
        case "InternalFailure": "The request processing has failed because of an unknown error."
        default: "Injected by the stand-in's fault script."
        }
    }

    // MARK: Validation and acceptance

    private func accept(
        _ operation: PersonalizeStandIn.Operation, head: HTTPRequestHead, body: ByteBuffer, fault: FaultDecision,
        requestId: String
    ) -> Answer {
        let answer: Answer
        var accepted: AcceptedRequest?
        var recordCount = 0
        switch validate(operation, head: head, body: body) {
        case .failure(let error):
            answer = .error(error)
        case .success(let object):
            recordCount = (object[operation.listMember] as? [Any])?.count ?? 0
            let rejecting = !fault.rejectRecordIds.isEmpty || fault.rejectWhen != nil
            if configuration.recordBodies || rejecting {
                let records = RecordExtractor.records(
                    of: operation, object: object, withJSON: configuration.recordBodies || fault.rejectWhen != nil)
                if let error = Self.rejection(records, operation: operation, fault: fault) {
                    answer = .error(error)
                } else {
                    answer = .accepted
                    accepted = AcceptedRequest(
                        operation: operation, body: Array(body.readableBytesView), records: records,
                        requestId: requestId)
                }
            } else {
                answer = .accepted
            }
        }
        record(
            operation: operation, answer: answer, bodyBytes: body.readableBytes, accepted: accepted,
            recordCount: recordCount)
        return answer
    }

    private func validate(
        _ operation: PersonalizeStandIn.Operation, head: HTTPRequestHead, body: ByteBuffer
    ) -> Result<[String: Any], ServiceError> {
        let contentType = head.headers.first(name: "content-type") ?? ""
        guard Self.isJSONMediaType(contentType) else {
            return .failure(
                .invalidInput("Content-Type must be application/json for \(operation.rawValue), not '\(contentType)'."))
        }
        let parsed = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))
        guard let object = parsed as? [String: Any] else {
            return .failure(.invalidInput("The request body of \(operation.rawValue) must be a JSON object."))
        }
        let errors = RequestValidator.violations(of: operation, object: object)
        guard errors.isEmpty else { return .failure(.invalidInput(RequestValidator.message(for: errors))) }
        return .success(object)
    }

    /// `application/json` (or the tolerated `application/x-amz-json-1.1`), parameters such as `charset` allowed.
    static func isJSONMediaType(_ contentType: String) -> Bool {
        var mediaType = contentType.utf8.prefix { $0 != UInt8(ascii: ";") }[...]
        while mediaType.first == UInt8(ascii: " ") { mediaType = mediaType.dropFirst() }
        while mediaType.last == UInt8(ascii: " ") { mediaType = mediaType.dropLast() }
        let lower = mediaType.map { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") ? $0 | 0x20 : $0 }
        return lower.elementsEqual("application/json".utf8) || lower.elementsEqual("application/x-amz-json-1.1".utf8)
    }

    private static func rejection(
        _ records: [AcceptedRecord], operation: PersonalizeStandIn.Operation, fault: FaultDecision
    ) -> ServiceError? {
        for (index, record) in records.enumerated() {
            let listed = fault.rejectRecordIds.contains(record.id)
            guard listed || fault.rejectWhen?(record) == true else { continue }
            return .invalidInput(
                "Invalid record '\(record.id)' at '\(operation.listMember).\(index + 1).member': rejected by the "
                    + "stand-in's \(listed ? "rejectRecordIds" : "rejectWhen").", stage: .rejection)
        }
        return nil
    }
}
