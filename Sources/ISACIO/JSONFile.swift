import Foundation
import Linalg

extension JSONOutput {
    /// Atomically writes `object` as JSON (sorted keys, non-finite numbers as `null`) to `path`,
    /// with a trailing newline; pretty-printed by default since files are read by people.
    public static func write(_ object: Any, to path: String, pretty: Bool = true) throws {
        let text: String
        do {
            text = try string(object, pretty: pretty)
        } catch {
            throw ISACError.invalidParameter(name: "json", value: "\(type(of: object))",
                                             valid: "a tree of dictionaries, arrays, strings, numbers and booleans")
        }
        try AtomicFile.write(text + "\n", to: path)
    }
}
