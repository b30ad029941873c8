import Foundation
import Linalg

/// Writes outputs so that a reader never sees a half-written file: data goes to a temporary file
/// in the same folder (`.NAME.tmp-PID-RANDOM`, created with O_EXCL), which is then renamed over the
/// destination (rename is atomic on POSIX).
///
/// The destination must be a regular file or absent: a symlink, FIFO, device node, socket or folder
/// at `path` is refused (renaming over it would silently replace it), and so is a path ending in
/// `/` (it names a folder, not a file). The temp name carries the writer's pid so a later
/// `--resume` can tell a stale temp file (dead writer) from a live one (`OutputPaths.removeStaleTemps`).
public enum AtomicFile {
    /// Atomically writes `data` to `path`, creating the parent folder if needed.
    /// Throws `ISACError.io` naming the path when the folder is not writable or the destination is
    /// not a regular file.
    public static func write(_ data: Data, to path: String) throws {
        try write(to: path) { emit in try data.withUnsafeBytes { try emit($0) } }
    }

    /// Atomically writes UTF-8 `text` to `path`.
    public static func write(_ text: String, to path: String) throws {
        try write(Data(text.utf8), to: path)
    }

    /// Throws `ISACError.io` unless `path` may be (re)placed by a file: not empty, not ending in
    /// `/`, and absent or a regular file (a symlink is refused even when it points to one).
    public static func checkDestination(_ path: String) throws {
        guard !path.isEmpty else { throw ISACError.io("empty output path") }
        guard !path.hasSuffix("/") else {
            throw ISACError.io("\(path) ends in '/', so it names a folder; give a file path (e.g. \(path)out.ext)")
        }
        var st = stat()
        guard lstat(path, &st) == 0 else { return }  // absent: fine
        let kind = st.st_mode & S_IFMT
        switch kind {
        case S_IFREG: return
        case S_IFLNK: throw ISACError.io("\(path) is a symbolic link; refusing to replace it (remove it or write elsewhere)")
        case S_IFDIR: throw ISACError.io("\(path) is a folder; give a file path")
        case S_IFIFO: throw ISACError.io("\(path) is a FIFO; refusing to replace it")
        case S_IFCHR, S_IFBLK: throw ISACError.io("\(path) is a device node; refusing to replace it")
        case S_IFSOCK: throw ISACError.io("\(path) is a socket; refusing to replace it")
        default: throw ISACError.io("\(path) is not a regular file; refusing to replace it")
        }
    }

    /// Temp name beside `url`: `.NAME.tmp-PID-RANDOM` (see `OutputPaths.removeStaleTemps`).
    static func tempPath(for url: URL) -> String {
        url.deletingLastPathComponent().appendingPathComponent(
            ".\(url.lastPathComponent)\(OutputPaths.tempMarker)\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
    }

    /// Atomically writes a file produced piecewise: `body` receives an `emit` function that
    /// appends raw bytes, so large outputs (arrays of hundreds of MB) go from their buffers to
    /// the file without being assembled in memory first. Same temp + rename protocol as
    /// `write(_:to:)`; on any error the temporary file is removed and nothing appears at `path`.
    public static func write(to path: String,
                             _ body: (_ emit: (UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
        try checkDestination(path)
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        } catch {
            throw ISACError.io("cannot create output folder \(dir.path): \(ISACError.userMessage(error))")
        }
        let tmp = tempPath(for: url)
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard fd >= 0 else {
            throw ISACError.io("cannot write into \(dir.path): \(String(cString: strerror(errno)))")
        }
        var closed = false
        defer {
            if !closed { close(fd) }
        }
        do {
            try body { buf in
                guard buf.count > 0 else { return }
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
            // Re-check just before the rename: something may have appeared at `path` meanwhile.
            try checkDestination(path)
            if rename(tmp, url.path) != 0 {
                throw ISACError.io("cannot move output into place at \(url.path): \(String(cString: strerror(errno)))")
            }
        } catch {
            unlink(tmp)
            throw error
        }
    }

    /// Writes `data` to `path` only if nothing exists there yet (atomic create-exclusive: temp file +
    /// `link(2)`, which fails with EEXIST instead of replacing). Returns false when `path` already
    /// exists (its content is left untouched), true when this call created it. Readers never see a
    /// partial file, and of two concurrent callers exactly one wins.
    public static func createExclusive(_ data: Data, at path: String) throws -> Bool {
        try checkDestination(path)
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent()
        do { try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true) } catch {
            throw ISACError.io("cannot create output folder \(dir.path): \(ISACError.userMessage(error))")
        }
        let tmp = tempPath(for: url)
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard fd >= 0 else { throw ISACError.io("cannot write into \(dir.path): \(String(cString: strerror(errno)))") }
        defer { unlink(tmp) }
        var ok = true
        data.withUnsafeBytes { buf in
            var done = 0
            while done < buf.count {
                let r = Foundation.write(fd, buf.baseAddress! + done, buf.count - done)
                if r < 0 && errno == EINTR { continue }
                if r <= 0 { ok = false; return }
                done += r
            }
        }
        if close(fd) != 0 { ok = false }
        guard ok else { throw ISACError.io("cannot write \(path): \(String(cString: strerror(errno)))") }
        if link(tmp, path) == 0 { return true }
        if errno == EEXIST { return false }
        throw ISACError.io("cannot create \(path): \(String(cString: strerror(errno)))")
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
