import Crypto
import Synchronization

/// Remembers derived SigV4 signing keys so the four key-derivation HMACs run once per credentials
/// and day rather than once per request.
///
/// A class so every copy of a `SigV4Signer` shares it; a `Mutex` because signers are used from many
/// tasks at once. Region and service are fixed per signer, so entries are keyed by the credentials
/// and the day. The few entries cover credential rotation and the midnight overlap.
final class SigningKeyCache: Sendable {
    private struct Entry {
        var accessKeyId: String
        var secretAccessKey: String
        var dayNumber: Int
        /// An HMAC already keyed with the derived signing key (its inner pad hashed): each signature copies it
        /// instead of keying a new one.
        var keyed: HMAC<SHA256>
    }

    private static let capacity = 4
    private let entries = Mutex<[Entry]>([])
    private let region: [UInt8]
    private let service: [UInt8]

    init(region: String, service: String) {
        self.region = Array(region.utf8)
        self.service = Array(service.utf8)
    }

    /// An HMAC-SHA256 keyed with the signing key for `credentials` on the day of `date` (derived on first use),
    /// ready for the string to sign.
    func keyedHMAC(for credentials: AWSCredentials, date: AmzDate) -> HMAC<SHA256> {
        entry(for: credentials, date: date).keyed
    }

    private func entry(for credentials: AWSCredentials, date: AmzDate) -> Entry {
        let cached = entries.withLock { entries in
            entries.first {
                $0.dayNumber == date.dayNumber && $0.accessKeyId == credentials.accessKeyId
                    && $0.secretAccessKey == credentials.secretAccessKey
            }
        }
        if let cached { return cached }
        let key = Self.derive(
            secret: credentials.secretAccessKey, dateStamp: date.dateStamp, region: region, service: service)
        let entry = Entry(
            accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey,
            dayNumber: date.dayNumber, keyed: HMAC<SHA256>(key: key))
        entries.withLock { entries in
            if entries.count >= Self.capacity { entries.removeFirst() }
            entries.append(entry)
        }
        return entry
    }

    /// `kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")`.
    static func derive(
        secret: String, dateStamp: ArraySlice<UInt8>, region: [UInt8], service: [UInt8]
    ) -> SymmetricKey {
        let secretKey = SymmetricKey(data: Array("AWS4\(secret)".utf8))
        let dateKey = SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: dateStamp, using: secretKey))
        let regionKey = SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: region, using: dateKey))
        let serviceKey = SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: service, using: regionKey))
        return SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: Array("aws4_request".utf8), using: serviceKey))
    }
}
