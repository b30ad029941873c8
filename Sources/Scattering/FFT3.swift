import CLinalg
import Foundation
import Linalg
import Numerics

/// Serializes FFTW planning within this module (the planner is not thread-safe).
private let planLock = NSLock()

/// 3-D complex FFT used by the VIE operator, planned with FFTW_UNALIGNED.
///
/// Why not `Linalg.FFTPlan`: it plans on 64-byte-aligned FFTW buffers and then executes on Swift
/// arrays, which are only guaranteed 16-byte alignment; FFTW's new-array execute requires the
/// planning alignment, and for larger grids (≥ 24³ here) the SIMD codelets silently produced wrong
/// transforms (GMRES stagnated). FFTW_UNALIGNED makes any 16-byte-aligned array legal.
final class FFT3: @unchecked Sendable {
    let count: Int
    private let fwd: fftw_plan
    private let bwd: fftw_plan

    /// `shape` in C order (last index fastest).
    init(shape: [Int]) throws {
        for (i, n) in shape.enumerated() { try Check.positive(n, "shape[\(i)]") }
        count = shape.reduce(1, *)
        let n = shape.map { Int32($0) }
        let a = fftw_alloc_complex(count)!, b = fftw_alloc_complex(count)!
        defer { fftw_free(UnsafeMutableRawPointer(a)); fftw_free(UnsafeMutableRawPointer(b)) }
        planLock.lock(); defer { planLock.unlock() }
        let flags = UInt32(FFTW_ESTIMATE) | UInt32(FFTW_UNALIGNED)
        fwd = fftw_plan_dft(Int32(n.count), n, a, a, FFTW_FORWARD, flags)!
        bwd = fftw_plan_dft(Int32(n.count), n, a, a, FFTW_BACKWARD, flags)!
    }

    deinit {
        planLock.lock(); defer { planLock.unlock() }
        fftw_destroy_plan(fwd); fftw_destroy_plan(bwd)
    }

    func forward(_ x: inout [CDouble]) { run(fwd, &x) }
    /// Inverse including 1/N.
    func inverse(_ x: inout [CDouble]) {
        run(bwd, &x)
        let s = 1 / Double(count)
        for i in x.indices { x[i] = CDouble(x[i].real * s, x[i].imaginary * s) }
    }

    private func run(_ p: fftw_plan, _ x: inout [CDouble]) {
        precondition(x.count == count)
        x.withUnsafeMutableBufferPointer { b in
            let c = OpaquePointer(UnsafeMutableRawPointer(b.baseAddress!))
            fftw_execute_dft(p, c, c)
        }
    }
}
