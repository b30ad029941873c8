import Foundation
import Linalg

/// Minimal dependency-free PNG writer (8-bit RGBA, no interlace). Pixel data goes into zlib
/// *stored* (uncompressed) deflate blocks: files are larger than a compressing encoder's, but
/// every PNG reader accepts them and no zlib is needed. Used to embed large heatmaps in SVGs.
public enum PNG {
    /// Encodes `width × height` pixels given row-major, top row first, 4 bytes (R, G, B, A) each.
    /// - Throws: `ISACError.invalidParameter` for non-positive sizes or
    ///   `ISACError.shapeMismatch` when `rgba.count != 4·width·height`.
    public static func encodeRGBA(width: Int, height: Int, rgba: [UInt8]) throws -> Data {
        try Check.positive(width, "width")
        try Check.positive(height, "height")
        guard rgba.count == 4 * width * height else {
            throw ISACError.shapeMismatch("PNG: \(rgba.count) bytes for \(width)×\(height) RGBA pixels (need \(4 * width * height))")
        }
        // Raw scanlines: filter type 0 (None) then the row bytes.
        var raw = [UInt8]()
        raw.reserveCapacity((4 * width + 1) * height)
        for r in 0..<height {
            raw.append(0)
            raw.append(contentsOf: rgba[(4 * width * r)..<(4 * width * (r + 1))])
        }
        var z: [UInt8] = [0x78, 0x01]  // zlib: deflate, 32 KiB window, no preset dictionary
        var pos = 0
        repeat {
            let n = Swift.min(65_535, raw.count - pos)
            let final: UInt8 = pos + n == raw.count ? 1 : 0
            z.append(final)  // BTYPE 00 = stored
            z.append(contentsOf: [UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)])
            z.append(contentsOf: raw[pos..<(pos + n)])
            pos += n
        } while pos < raw.count
        let adler = adler32(raw)
        z.append(contentsOf: [UInt8(adler >> 24), UInt8((adler >> 16) & 0xFF), UInt8((adler >> 8) & 0xFF), UInt8(adler & 0xFF)])

        var out = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        var ihdr = [UInt8]()
        ihdr.append(contentsOf: be32(UInt32(width)))
        ihdr.append(contentsOf: be32(UInt32(height)))
        ihdr.append(contentsOf: [8, 6, 0, 0, 0])  // bit depth 8, colour type 6 (RGBA)
        chunk("IHDR", ihdr, into: &out)
        chunk("IDAT", z, into: &out)
        chunk("IEND", [], into: &out)
        return out
    }

    /// Atomically writes an RGBA PNG (see `encodeRGBA`).
    public static func write(width: Int, height: Int, rgba: [UInt8], to path: String) throws {
        try AtomicFile.write(encodeRGBA(width: width, height: height, rgba: rgba), to: path)
    }

    /// Adler-32 (RFC 1950) of `bytes`.
    static func adler32(_ bytes: [UInt8]) -> UInt32 {
        var a: UInt32 = 1, b: UInt32 = 0
        var i = 0
        while i < bytes.count {
            // 5552 is the largest run before b can overflow 32 bits (zlib's NMAX).
            let end = Swift.min(bytes.count, i + 5552)
            while i < end { a += UInt32(bytes[i]); b += a; i += 1 }
            a %= 65_521; b %= 65_521
        }
        return b << 16 | a
    }

    static func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }

    static func chunk(_ type: String, _ body: [UInt8], into out: inout Data) {
        out.append(contentsOf: be32(UInt32(body.count)))
        let tb = Array(type.utf8) + body
        out.append(contentsOf: tb)
        out.append(contentsOf: be32(tb.withUnsafeBytes { CRC32.update(0, $0) }))
    }
}
