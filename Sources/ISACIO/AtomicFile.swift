import Foundation
import Linalg

/// Writes outputs so that a reader never sees a half-written file: data goes to a temporary file
/// in the same folder, which is then renamed over the destination (rename is atomic on POSIX).
public enum AtomicFile {
    /// Atomically writes `data` to `path`, creating the parent folder if needed.
    /// Throws `ISACError.io` naming the path when the folder is not writable.
    public static func write(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        } catch {
            throw ISACError.io("cannot create output folder \(dir.path): \(error.localizedDescription)")
        }
        let tmp = dir.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        guard FileManager.default.createFile(atPath: tmp.path, contents: data) else {
            throw ISACError.io("cannot write into \(dir.path) (is it writable?)")
        }
        if rename(tmp.path, url.path) != 0 {
            let err = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: tmp)
            throw ISACError.io("cannot move output into place at \(url.path): \(err)")
        }
    }

    /// Atomically writes UTF-8 `text` to `path`.
    public static func write(_ text: String, to path: String) throws {
        try write(Data(text.utf8), to: path)
    }

    /// Atomically writes a file produced piecewise: `body` receives an `emit` function that
    /// appends raw bytes, so large outputs (arrays of hundreds of MB) go from their buffers to
    /// the file without being assembled in memory first. Same temp + rename protocol as
    /// `write(_:to:)`; on any error the temporary file is removed and nothing appears at `path`.
    public static func write(to path: String,
                             _ body: (_ emit: (UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        } catch {
            throw ISACError.io("cannot create output folder \(dir.path): \(error.localizedDescription)")
        }
        let tmp = dir.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else {
            throw ISACError.io("cannot write into \(dir.path) (is it writable?): \(String(cString: strerror(errno)))")
        }
        var closed = false
        defer {
            if !closed { close(fd) }
        }
        do {
            try body { buf in
                var done = 0
                while done < buf.count {
                    let r = Foundation.write(fd, buf.baseAddress! + done, buf.count - done)
                    if r < 0 && errno == EINTR { continue }
                    guard r > 0 else { throw ISACError.io("cannot write \(path): \(String(cString: strerror(errno)))") }
                    done += r
                }
            }
            closed = true
            if close(fd) != 0 { throw ISACError.io("cannot write \(path): \(String(cString: strerror(errno)))") }
            if rename(tmp, url.path) != 0 {
                throw ISACError.io("cannot move output into place at \(url.path): \(String(cString: strerror(errno)))")
            }
        } catch {
            unlink(tmp)
            throw error
        }
    }
}

/// JSON helpers: results are `[String: Any]`-shaped trees of numbers, strings, arrays and objects.
public enum JSONOutput {
    /// Serializes `object` with sorted keys. Non-finite doubles become `null` (JSON has no NaN).
    public static func string(_ object: Any, pretty: Bool = false) throws -> String {
        let clean = sanitize(object)
        var opts: JSONSerialization.WritingOptions = [.sortedKeys, .withoutEscapingSlashes]
        if pretty { opts.insert(.prettyPrinted) }
        let data = try JSONSerialization.data(withJSONObject: clean, options: opts)
        return String(decoding: data, as: UTF8.self)
    }

    static func sanitize(_ v: Any) -> Any {
        switch v {
        case let d as Double: return d.isFinite ? d : NSNull()
        case let f as Float: return f.isFinite ? Double(f) : NSNull()
        case let a as [Any]: return a.map(sanitize)
        case let o as [String: Any]: return o.mapValues(sanitize)
        default: return v
        }
    }
}
