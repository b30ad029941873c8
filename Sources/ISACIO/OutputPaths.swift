import Foundation
import Linalg

/// Output-path safety shared by every command that writes: pre-flight checks (before any
/// computation), advisory locks for folders several processes may write into, stale temp-file
/// removal for `--resume`, and staged output folders renamed into place.
///
/// Every check is side-effect free: a refused `--out` leaves nothing behind on disk.
public enum OutputPaths {
    /// Infix of `AtomicFile`'s temp names: `.NAME.tmp-PID-RANDOM`.
    public static let tempMarker = ".tmp-"
    /// Prefix of the temp files Foundation's atomic `Data.write`/`FileManager.createFile` leave
    /// behind when killed (older ISACKit versions wrote through them).
    public static let foundationTempPrefix = ".dat.nosync"

    /// The nearest ancestor of `path` (or `path` itself) that exists, following symlinks.
    static func nearestExisting(_ path: String) -> String {
        var url = URL(fileURLWithPath: path).standardizedFileURL
        while !FileManager.default.fileExists(atPath: url.path) && url.path != "/" {
            url = url.deletingLastPathComponent()
        }
        return url.path
    }

    /// Throws `ISACError.invalidParameter(name: flag, …)` unless files can be created at `path`'s
    /// location: the nearest existing ancestor is a folder and writable (`access(W_OK)`, which also
    /// reports a read-only file system for root). Creates nothing.
    static func checkCreatable(_ path: String, flag: String, what: String) throws {
        let anc = nearestExisting(path)
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: anc, isDirectory: &isDir), isDir.boolValue else {
            throw ISACError.invalidParameter(name: flag, value: path, valid: "\(what) cannot be created: \(anc) is a file, not a folder")
        }
        guard access(anc, W_OK) == 0 else {
            let reason = String(cString: strerror(errno))
            throw ISACError.invalidParameter(name: flag, value: path, valid: "\(what) cannot be created: \(anc) is not writable (\(reason))")
        }
    }

    /// Pre-flight check of an output *file* flag (`--out x.npy`, `--out preds.csv`), run before the
    /// computation: the destination is absent or a regular file (no symlink/FIFO/device/folder, no
    /// trailing `/`) and its folder can be created and written. Creates nothing.
    public static func preflightFile(_ path: String, flag: String) throws {
        do { try AtomicFile.checkDestination(path) } catch let ISACError.io(msg) {
            throw ISACError.invalidParameter(name: flag, value: path, valid: "must be a regular file path (\(msg))")
        }
        try checkCreatable(URL(fileURLWithPath: path).deletingLastPathComponent().path, flag: flag, what: "its folder")
        if FileManager.default.fileExists(atPath: path), access(path, W_OK) != 0 {
            throw ISACError.invalidParameter(name: flag, value: path, valid: "must be writable (\(String(cString: strerror(errno))))")
        }
    }

    /// Pre-flight check of an output *folder* flag: `dir` is absent or a folder (a symlink to a
    /// folder is fine), and it (or the nearest existing ancestor) is writable. Creates nothing.
    public static func preflightFolder(_ dir: String, flag: String) throws {
        guard !dir.isEmpty else { throw ISACError.invalidParameter(name: flag, value: "\"\"", valid: "must be a folder path") }
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) {
            guard isDir.boolValue else {
                throw ISACError.invalidParameter(name: flag, value: dir, valid: "must be a folder (a file of that name exists)")
            }
            guard access(dir, W_OK) == 0 else {
                throw ISACError.invalidParameter(name: flag, value: dir, valid: "must be a writable folder (\(String(cString: strerror(errno))))")
            }
        } else {
            var st = stat()
            if lstat(dir, &st) == 0 {  // exists as a dangling symlink
                throw ISACError.invalidParameter(name: flag, value: dir, valid: "must be a folder (a dangling symbolic link of that name exists)")
            }
            try checkCreatable(dir, flag: flag, what: "the folder")
        }
    }

    /// True when `dir` exists and holds at least one entry.
    public static func isNonEmptyFolder(_ dir: String) -> Bool {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).isEmpty == false
    }

    /// Removes temp files left by killed writers in `dir` (not recursive): `AtomicFile` temps whose
    /// writer pid is no longer alive (or every one, when `all`), and Foundation's `.dat.nosync*`
    /// temps (only when `all`, since their writer cannot be identified). Callers pass `all: true`
    /// only while holding the folder's exclusive lock. Returns the names removed.
    @discardableResult
    public static func removeStaleTemps(in dir: String, all: Bool) -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return [] }
        var removed: [String] = []
        for n in names where n.hasPrefix(".") {
            var stale = false
            if n.hasPrefix(foundationTempPrefix) {
                stale = all
            } else if let r = n.range(of: tempMarker, options: .backwards) {
                let rest = n[r.upperBound...]
                let pidText = rest.split(separator: "-").first.map(String.init) ?? ""
                if all { stale = true }
                else if let pid = Int32(pidText) { stale = pid != getpid() && kill(pid, 0) != 0 && errno == ESRCH }
            }
            if stale, unlink(dir + "/" + n) == 0 { removed.append(n) }
        }
        return removed
    }
}

/// An advisory `flock(2)` on `DIR/.isac.lock`, held for the lifetime of the object (and released by
/// the kernel if the process dies, so a kill -9 never leaves a stuck lock).
///
/// Exclusive: one writer owns the folder. Shared: several cooperating writers (the shards of one
/// `dataset generate` layout) may write at once, but not while someone holds it exclusively.
/// Acquisition never waits: a busy folder fails at once with the flag and the lock file named.
public final class DirectoryLock: @unchecked Sendable {
    /// Path of the lock file, `dir/name`.
    public let path: String
    private var fd: Int32

    /// Default lock-file name inside the locked folder.
    public static let fileName = ".isac.lock"

    /// Locks `dir/name` (the folder must exist). `flag` names the CLI flag in the error.
    public init(dir: String, name: String = DirectoryLock.fileName, exclusive: Bool, flag: String) throws {
        path = dir + "/" + name
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw ISACError.invalidParameter(name: flag, value: dir, valid: "must be a writable folder (cannot create lock file \(path): \(String(cString: strerror(errno))))")
        }
        if flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) != 0 {
            let e = errno
            close(fd); fd = -1
            if e == EWOULDBLOCK {
                throw ISACError.invalidParameter(name: flag, value: dir,
                    valid: "is being written by another isac process (lock \(path) is held); wait for it to finish or use another folder")
            }
            throw ISACError.io("cannot lock \(path): \(String(cString: strerror(e)))")
        }
    }

    /// Releases the lock now (also done on deinit).
    public func release() {
        if fd >= 0 { flock(fd, LOCK_UN); close(fd); fd = -1 }
    }

    deinit { release() }
}

/// An output folder written as a whole: files go into a hidden staging folder beside the
/// destination (`.NAME.staging-PID-RANDOM`, same file system), and `commit()` renames it into place,
/// so readers — and concurrent writers — only ever see a complete folder from one run.
///
/// - A non-empty destination is refused up front unless `force` (then the old folder is replaced at
///   commit). An empty destination folder is replaced by the rename.
/// - Two concurrent writers: the rename is atomic and `rename(2)` refuses to replace a non-empty
///   folder, so without `--force` the second to finish fails with a clear message and nothing of
///   it is left; with `--force` the last one wins, but each folder is self-consistent.
/// - If the process dies, only the hidden staging folder remains; the next run on the same
///   destination removes staging folders whose writer pid is dead.
/// - On error paths, dropping the object (or calling `discard()`) removes the staging folder.
public final class StagedDirectory: @unchecked Sendable {
    /// The destination as given.
    public let destination: String
    /// Where the command writes its files (the staging folder).
    public let path: String
    let force: Bool
    let flag: String
    private var done = false
    private var createdParents: [String] = []

    static let marker = ".staging-"

    /// Pre-flights `destination` (see `OutputPaths.preflightFolder`), refuses a non-empty one unless
    /// `force`, and creates the staging folder.
    public init(_ destination: String, flag: String = "--out", force: Bool) throws {
        try OutputPaths.preflightFolder(destination, flag: flag)
        if OutputPaths.isNonEmptyFolder(destination) && !force {
            throw ISACError.invalidParameter(name: flag, value: destination,
                valid: "must be a new or empty folder (it already holds files; pass --force to replace them)")
        }
        self.destination = destination
        self.force = force
        self.flag = flag
        let dest = URL(fileURLWithPath: destination).standardizedFileURL
        let parent = dest.deletingLastPathComponent().path
        // Remember which parents we create so a failed run removes them again.
        var missing: [String] = []
        var p = URL(fileURLWithPath: parent)
        while !FileManager.default.fileExists(atPath: p.path) && p.path != "/" { missing.append(p.path); p.deleteLastPathComponent() }
        do { try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true) } catch {
            throw ISACError.invalidParameter(name: flag, value: destination, valid: "its parent folder cannot be created (\(ISACError.userMessage(error)))")
        }
        createdParents = missing
        StagedDirectory.removeStale(parent: parent, name: dest.lastPathComponent)
        path = parent + "/." + dest.lastPathComponent + StagedDirectory.marker + "\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        guard mkdir(path, 0o755) == 0 else {
            let e = String(cString: strerror(errno))
            throw ISACError.invalidParameter(name: flag, value: destination, valid: "must be in a writable folder (cannot create \(path): \(e))")
        }
    }

    /// Removes `.NAME.staging-PID-*` folders of dead writers in `parent`.
    static func removeStale(parent: String, name: String) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: parent) else { return }
        let prefix = "." + name + marker
        for n in names where n.hasPrefix(prefix) {
            let pidText = n.dropFirst(prefix.count).split(separator: "-").first.map(String.init) ?? ""
            if let pid = Int32(pidText), pid != getpid(), kill(pid, 0) != 0, errno == ESRCH {
                try? FileManager.default.removeItem(atPath: parent + "/" + n)
            }
        }
    }

    /// Path of `name` inside the staging folder.
    public func file(_ name: String) -> String { path + "/" + name }

    /// Renames the staging folder to the destination. With `force`, an existing non-empty
    /// destination is first moved aside and removed after the rename — or, with `merge`, each
    /// staged entry is renamed into it (replacing same-named entries, keeping the others: used by
    /// commands that add files to a folder of results, e.g. one figure at a time).
    public func commit(merge: Bool = false) throws {
        guard !done else { return }
        if merge && force && OutputPaths.isNonEmptyFolder(destination) {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
            for n in names {
                let target = destination + "/" + n
                var isDir: ObjCBool = false
                if FileManager.default.fileExists(atPath: target, isDirectory: &isDir), isDir.boolValue {
                    try? FileManager.default.removeItem(atPath: target)
                }
                guard rename(path + "/" + n, target) == 0 else {
                    let m = String(cString: strerror(errno)); discard()
                    throw ISACError.io("cannot move \(n) into \(destination): \(m)")
                }
            }
            discard()
            return
        }
        let dest = URL(fileURLWithPath: destination).standardizedFileURL.path
        if rename(path, dest) == 0 { done = true; return }
        let e = errno
        if (e == ENOTEMPTY || e == EEXIST) && force {
            let aside = path + ".old"
            guard rename(dest, aside) == 0 else {
                let m = String(cString: strerror(errno)); discard()
                throw ISACError.io("cannot replace \(dest): \(m)")
            }
            guard rename(path, dest) == 0 else {
                let m = String(cString: strerror(errno))
                _ = rename(aside, dest); discard()
                throw ISACError.io("cannot move the new output into \(dest): \(m)")
            }
            done = true
            try? FileManager.default.removeItem(atPath: aside)
            return
        }
        discard()
        if e == ENOTEMPTY || e == EEXIST {
            throw ISACError.invalidParameter(name: flag, value: destination,
                valid: "was filled by another process while this run was computing; nothing was written (pass --force to replace it)")
        }
        throw ISACError.io("cannot move the output into \(dest): \(String(cString: strerror(e)))")
    }

    /// Removes the staging folder (and any parent folders this object created).
    public func discard() {
        guard !done else { return }
        done = true
        try? FileManager.default.removeItem(atPath: path)
        for p in createdParents { rmdir(p) }
    }

    deinit { discard() }
}
