import Foundation
import Linalg

/// Random-access bytes for the `.npy`/`.npz` readers: an in-memory `Data` or an open file read
/// with `pread`, so file readers fetch headers first and then read array payloads straight into
/// the result arrays (no intermediate copy of the file).
protocol ByteSource {
    /// Total length in bytes.
    var size: Int { get }
    /// Name used in error messages.
    var name: String { get }
    /// Exactly `count` bytes at `offset` (caller keeps the range inside `size`).
    func bytes(_ offset: Int, _ count: Int) throws -> Data
    /// Fills `buffer` with the bytes at `offset`.
    func fill(_ offset: Int, _ buffer: UnsafeMutableRawBufferPointer) throws
}

struct DataSource: ByteSource {
    let data: Data
    let name: String
    var size: Int { data.count }
    func bytes(_ offset: Int, _ count: Int) throws -> Data {
        guard offset >= 0, count >= 0, offset <= data.count, count <= data.count - offset else {
            throw ISACError.malformedFile(path: name, reason: "read of \(count) bytes at \(offset) past the end (\(data.count) bytes)")
        }
        let s = data.startIndex + offset
        return data.subdata(in: s..<(s + count))
    }
    func fill(_ offset: Int, _ buffer: UnsafeMutableRawBufferPointer) throws {
        guard buffer.count > 0 else { return }
        guard offset >= 0, offset <= data.count, buffer.count <= data.count - offset else {
            throw ISACError.malformedFile(path: name, reason: "read of \(buffer.count) bytes at \(offset) past the end (\(data.count) bytes)")
        }
        let s = data.startIndex + offset
        data[s..<(s + buffer.count)].withUnsafeBytes { buffer.copyMemory(from: $0) }
    }
}

/// A read-only file; closes itself when released.
final class FileSource: ByteSource {
    let fd: Int32
    let size: Int
    let name: String

    init(path: String) throws {
        fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw ISACError.io("cannot read \(path): \(String(cString: strerror(errno)))") }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let e = String(cString: strerror(errno))
            close(fd)
            throw ISACError.io("cannot stat \(path): \(e)")
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw ISACError.io("cannot read \(path): not a regular file")
        }
        size = Int(st.st_size)
        name = path
    }
    deinit { close(fd) }

    func bytes(_ offset: Int, _ count: Int) throws -> Data {
        var d = Data(count: count)
        try d.withUnsafeMutableBytes { try fill(offset, $0) }
        return d
    }

    func fill(_ offset: Int, _ buffer: UnsafeMutableRawBufferPointer) throws {
        var done = 0
        while done < buffer.count {
            let r = pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done))
            if r < 0 && errno == EINTR { continue }
            guard r > 0 else {
                throw ISACError.malformedFile(path: name, reason: r == 0 ? "unexpected end of file (was it truncated while reading?)"
                                                                       : String(cString: strerror(errno)))
            }
            done += r
        }
    }
}
