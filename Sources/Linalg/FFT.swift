import CLinalg
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
    public let shape: [Int]
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
