internal import CLinalg
import Foundation
import Numerics

/// FFTW planning is not thread-safe; every plan creation/destruction goes through this lock.
private let fftwPlannerLock = NSLock()

/// A reusable FFTW plan for an n-dimensional complex-to-complex DFT of fixed shape.
///
/// Convention (FFTW's, unnormalized): forward X[k] = Σₙ x[n] e^{−2πi kn/N}; backward uses
/// e^{+2πi kn/N}. `backward(forward(x)) = N·x`. Shapes are given row-major (C order, the last
/// index fastest), like NumPy's `fft.fftn` on a C-contiguous array. Executing a plan on new
/// arrays (`fftw_execute_dft`) is thread-safe, so one plan serves many threads.
public final class FFTPlan: @unchecked Sendable {
    /// Transform shape, row-major (last index fastest).
    public let shape: [Int]
    /// Number of complex elements, the product of `shape`.
    public let count: Int
    private let forwardPlan: fftw_plan
    private let backwardPlan: fftw_plan

    /// Plans a DFT of `shape` (1-D: `[n]`, 2-D: `[n0, n1]`, 3-D: `[n0, n1, n2]`, C order).
    public init(shape: [Int]) throws {
        guard !shape.isEmpty, shape.count <= 3 else {
            throw ISACError.invalidParameter(name: "shape", value: "\(shape)", valid: "must have 1 to 3 dimensions")
        }
        for (i, n) in shape.enumerated() { try Check.positive(n, "shape[\(i)]") }
        self.shape = shape
        count = shape.reduce(1, *)
        let n = shape.map { Int32($0) }
        // Plan on scratch buffers with FFTW_ESTIMATE so planning never touches user data.
        let a = fftw_alloc_complex(count)!
        defer { fftw_free(UnsafeMutableRawPointer(a)) }
        fftwPlannerLock.lock(); defer { fftwPlannerLock.unlock() }
        // In-place plans (in == out): `execute` runs in place, and FFTW requires the in-place-ness
        // of the execution arrays to match the planning arrays. FFTW_UNALIGNED lets any Swift array
        // buffer be used regardless of its SIMD alignment.
        let flags = FFTW_ESTIMATE | FFTW_UNALIGNED
        forwardPlan = fftw_plan_dft(Int32(n.count), n, a, a, FFTW_FORWARD, flags)!
        backwardPlan = fftw_plan_dft(Int32(n.count), n, a, a, FFTW_BACKWARD, flags)!
    }

    deinit {
        fftwPlannerLock.lock(); defer { fftwPlannerLock.unlock() }
        fftw_destroy_plan(forwardPlan)
        fftw_destroy_plan(backwardPlan)
    }

    /// Unnormalized forward DFT, in place.
    public func forward(_ x: inout [Complex<Double>]) { execute(forwardPlan, &x) }
    /// Unnormalized backward (inverse without 1/N) DFT, in place.
    public func backward(_ x: inout [Complex<Double>]) { execute(backwardPlan, &x) }
    /// Inverse DFT including the 1/N factor, in place.
    public func inverse(_ x: inout [Complex<Double>]) {
        execute(backwardPlan, &x)
        let s = 1 / Double(count)
        for i in x.indices { x[i] = Complex(x[i].real * s, x[i].imaginary * s) }
    }

    private func execute(_ plan: fftw_plan, _ x: inout [Complex<Double>]) {
        precondition(x.count == count, "FFTPlan: array has \(x.count) elements, plan expects \(count)")
        x.withUnsafeMutableBufferPointer { p in
            let c = OpaquePointer(UnsafeMutableRawPointer(p.baseAddress!))
            fftw_execute_dft(plan, c, c)
        }
    }
}

/// 3-D DFT of a zero-padded array whose input support is a corner box, and whose output is only needed
/// on a corner box: the Toeplitz-by-circulant-embedding convolution (`forwardFromCorner`, multiply,
/// `backwardToCorner`).
///
/// Layout: x fastest, linear index i + P_x (j + P_y l) on the padded P_x × P_y × P_z grid (the C-order shape
/// [P_z, P_y, P_x] of `FFTPlan`). The corner is i < n_x, j < n_y, l < n_z. Why: with P ≈ 2n per axis the
/// full 3-D FFT transforms 8× more lines than carry data. Done axis by axis, the forward pass transforms
/// x-lines only where j < n_y, l < n_z (¼ of them), y-lines only where l < n_z (½), z-lines all; the
/// backward pass runs in the reverse order and skips the lines whose results are never read. That is
/// (¼ + ½ + 1)/3 ≈ 58 % of the 1-D transforms of an unpruned 3-D FFT in each direction; results are equal
/// to the full transform on the corner up to rounding.
public final class CornerFFT3: @unchecked Sendable {
    /// Padded grid (P_x, P_y, P_z) the transform runs on.
    public let padded: (x: Int, y: Int, z: Int)
    /// Corner box (n_x, n_y, n_z): where input data lives and the part of the result that is kept.
    public let corner: (x: Int, y: Int, z: Int)
    /// Number of complex elements of the padded grid.
    public let count: Int
    private let fx, fy, fz, bx, by, bz: fftw_plan

    /// - Parameters: padded (P_x, P_y, P_z) ≥ corner (n_x, n_y, n_z) ≥ 1 per axis.
    public init(padded p: (Int, Int, Int), corner n: (Int, Int, Int)) throws {
        for (name, pv, nv) in [("x", p.0, n.0), ("y", p.1, n.1), ("z", p.2, n.2)] {
            try Check.positive(nv, "corner.\(name)")
            guard pv >= nv else {
                throw ISACError.invalidParameter(name: "padded.\(name)", value: "\(pv)", valid: "must be ≥ corner.\(name) = \(nv)")
            }
        }
        padded = p; corner = n
        count = p.0 * p.1 * p.2
        let a = fftw_alloc_complex(count)!
        defer { fftw_free(UnsafeMutableRawPointer(a)) }
        fftwPlannerLock.lock(); defer { fftwPlannerLock.unlock() }
        let flags = FFTW_ESTIMATE | FFTW_UNALIGNED
        let sx = 1, sy = p.0, sz = p.0 * p.1
        func plan(_ len: Int, _ stride: Int, _ loops: [(Int, Int)], _ sign: Int32) -> fftw_plan {
            var dim = fftw_iodim(n: Int32(len), is: Int32(stride), os: Int32(stride))
            var many = loops.map { fftw_iodim(n: Int32($0.0), is: Int32($0.1), os: Int32($0.1)) }
            return many.withUnsafeMutableBufferPointer { m in
                fftw_plan_guru_dft(1, &dim, Int32(m.count), m.baseAddress, a, a, sign, flags)!
            }
        }
        // Forward: x-lines of the data rows, y-lines of the data planes, all z-lines.
        fx = plan(p.0, sx, [(n.1, sy), (n.2, sz)], FFTW_FORWARD)
        fy = plan(p.1, sy, [(p.0, sx), (n.2, sz)], FFTW_FORWARD)
        fz = plan(p.2, sz, [(p.0 * p.1, sx)], FFTW_FORWARD)
        // Backward: all z-lines, y-lines of the planes that are read, x-lines of the rows that are read.
        bz = plan(p.2, sz, [(p.0 * p.1, sx)], FFTW_BACKWARD)
        by = plan(p.1, sy, [(p.0, sx), (n.2, sz)], FFTW_BACKWARD)
        bx = plan(p.0, sx, [(n.1, sy), (n.2, sz)], FFTW_BACKWARD)
    }

    deinit {
        fftwPlannerLock.lock(); defer { fftwPlannerLock.unlock() }
        for p in [fx, fy, fz, bx, by, bz] { fftw_destroy_plan(p) }
    }

    /// Unnormalized forward DFT of `x` (length P_x P_y P_z), in place. Precondition (not checked):
    /// x is zero outside the corner.
    public func forwardFromCorner(_ x: inout [Complex<Double>]) { run([fx, fy, fz], &x) }

    /// Unnormalized backward DFT (no 1/N), in place; only the corner of the result is valid.
    public func backwardToCorner(_ x: inout [Complex<Double>]) { run([bz, by, bx], &x) }

    private func run(_ plans: [fftw_plan], _ x: inout [Complex<Double>]) {
        precondition(x.count == count, "CornerFFT3: array has \(x.count) elements, plan expects \(count)")
        x.withUnsafeMutableBufferPointer { p in
            let c = OpaquePointer(UnsafeMutableRawPointer(p.baseAddress!))
            for pl in plans { fftw_execute_dft(pl, c, c) }
        }
    }
}
