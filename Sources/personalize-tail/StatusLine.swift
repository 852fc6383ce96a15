import Foundation
import Synchronization

/// The one line at the bottom of a terminal that the progress bar redraws in place, shared with the log handler:
/// a log line first clears the bar, is written on a line of its own, and the bar is drawn again below it, so log
/// lines and the bar never overwrite each other.
final class StatusLine: Sendable {
    static let shared = StatusLine()
    private static let clear = "\r\u{1B}[2K"
    /// The bar on screen, if any.
    private let shown = Mutex<String?>(nil)

    /// Draws `line` in place of the previous bar.
    func show(_ line: String) {
        shown.withLock { current in
            current = line
            FileHandle.standardError.write(Data((Self.clear + line).utf8))
        }
    }

    /// Removes the bar.
    func clear() {
        shown.withLock { current in
            guard current != nil else { return }
            current = nil
            FileHandle.standardError.write(Data(Self.clear.utf8))
        }
    }

    /// Writes `text` (whole lines) to standard error, below the bar's place, and redraws the bar.
    func write(_ text: String) {
        shown.withLock { current in
            guard let bar = current else {
                FileHandle.standardError.write(Data(text.utf8))
                return
            }
            FileHandle.standardError.write(Data((Self.clear + text + bar).utf8))
        }
    }
}
