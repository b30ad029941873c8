import _Differentiation
import Foundation
import Linalg

/// A dense float32 tensor: row-major (C order) storage of `shape.reduce(1, *)` scalars.
///
/// Conventions: the leading dimension is the batch where one exists; images are `[N, C, H, W]`,
/// token sequences `[N, L, D]`. A rank-0 tensor (`shape == []`) holds one scalar (losses).
///
/// `Tensor` is its own tangent vector (`TangentVector == Tensor`). Its `zero` is the rank-0
/// tensor `0`, which broadcasts against any shape: adding it to a tensor of any shape returns that
/// tensor unchanged, so the zero gradients that automatic differentiation creates for unused
/// branches never need to know the shape they stand for.
///
/// Value semantics come from the copy-on-write `[Float]` storage; kernels read and write through
/// `withUnsafeBufferPointer` so hot loops run without bounds checks or closures.
public struct Tensor: Differentiable, AdditiveArithmetic, Equatable, Sendable, CustomStringConvertible {
    /// A tensor is its own tangent space.
    public typealias TangentVector = Tensor

    /// Dimensions, outermost first. `[]` for a scalar.
    public var shape: [Int]
    /// Row-major scalars (`scalars.count == shape.reduce(1, *)`).
    public var scalars: [Float]

    /// Wraps `scalars` (row-major) with `shape`. The count must match (programmer error otherwise).
    public init(shape: [Int], scalars: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor: negative dimension in \(shape)")
        precondition(shape.reduce(1, *) == scalars.count,
                     "Tensor: shape \(shape) needs \(shape.reduce(1, *)) scalars, got \(scalars.count)")
        self.shape = shape
        self.scalars = scalars
    }

    /// Validating initializer for data that comes from outside (files, user input).
    /// - Throws: `ISACError.shapeMismatch` when the count does not match the shape.
    public init(validatingShape shape: [Int], scalars: [Float]) throws {
        guard shape.allSatisfy({ $0 >= 0 }), shape.reduce(1, *) == scalars.count else {
            throw ISACError.shapeMismatch("tensor shape \(shape) needs \(shape.reduce(1, *)) scalars, got \(scalars.count)")
        }
        self.init(shape: shape, scalars: scalars)
    }

    /// A tensor of `shape` filled with `value`.
    public init(repeating value: Float, shape: [Int]) {
        self.init(shape: shape, scalars: [Float](repeating: value, count: shape.reduce(1, *)))
    }

    /// Zeros of `shape`.
    public static func zeros(_ shape: [Int]) -> Tensor { Tensor(repeating: 0, shape: shape) }
    /// Ones of `shape`.
    public static func ones(_ shape: [Int]) -> Tensor { Tensor(repeating: 1, shape: shape) }

    /// A rank-0 tensor.
    public init(_ value: Float) { self.init(shape: [], scalars: [value]) }

    /// i.i.d. N(mean, std²) entries drawn from `rng` (deterministic for a given seed/stream).
    public static func randomNormal(_ shape: [Int], mean: Float = 0, std: Float = 1,
                                    rng: inout RandomSource) -> Tensor {
        let n = shape.reduce(1, *)
        var s = [Float](repeating: 0, count: n)
        for i in 0..<n { s[i] = mean + std * Float(rng.gaussian()) }
        return Tensor(shape: shape, scalars: s)
    }

    /// i.i.d. U[lo, hi) entries drawn from `rng`.
    public static func randomUniform(_ shape: [Int], lo: Float, hi: Float, rng: inout RandomSource) -> Tensor {
        let n = shape.reduce(1, *)
        var s = [Float](repeating: 0, count: n)
        for i in 0..<n { s[i] = lo + (hi - lo) * Float(rng.uniform()) }
        return Tensor(shape: shape, scalars: s)
    }

    /// Number of axes.
    public var rank: Int { shape.count }
    /// Number of scalars.
    public var count: Int { scalars.count }
    /// The single scalar of a one-element tensor (loss values).
    public var scalar: Float {
        precondition(scalars.count == 1, "Tensor.scalar: tensor has \(scalars.count) elements")
        return scalars[0]
    }

    /// True for the rank-0 additive identity produced by `Tensor.zero`.
    @inlinable var isScalarZero: Bool { shape.isEmpty && scalars.count == 1 && scalars[0] == 0 }

    /// Row-major strides.
    public static func strides(_ shape: [Int]) -> [Int] {
        var s = [Int](repeating: 1, count: shape.count)
        var acc = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) { s[i] = acc; acc *= shape[i] }
        return s
    }

    /// Shape and up to the first 16 scalars.
    public var description: String { "Tensor(shape: \(shape), scalars: \(scalars.prefix(16))\(scalars.count > 16 ? "…" : ""))" }

    // MARK: AdditiveArithmetic / Differentiable

    /// Scalar zero (shape []).
    public static var zero: Tensor { Tensor(shape: [], scalars: [0]) }

    /// Equal shape and scalars.
    public static func == (a: Tensor, b: Tensor) -> Bool { a.shape == b.shape && a.scalars == b.scalars }

    /// Adds `offset` in place (broadcasting allowed when `offset` has fewer elements).
    public mutating func move(by offset: Tensor) {
        if offset.isScalarZero { return }
        if offset.shape == shape {
            let n = scalars.count
            scalars.withUnsafeMutableBufferPointer { d in
                offset.scalars.withUnsafeBufferPointer { o in
                    for i in 0..<n { d[i] += o[i] }
                }
            }
        } else {
            self = self + offset
        }
    }

    /// `self` expanded to `target` when it is the rank-0 zero placeholder; otherwise `self`.
    @inlinable func materialized(_ target: [Int]) -> Tensor {
        if shape == target { return self }
        if isScalarZero { return .zeros(target) }
        return self
    }
}

// MARK: - Parallel helpers

// Hand-partitioned parallel loops share pointers through `Linalg.SendableMutablePointer` (each worker writes a
// disjoint range; read-only inputs via `init(mutating:)`).

/// The worker count of every Learning parallel loop (`parallelChunks`, `parallelFor`, the conv and GEMM splits):
/// the process-wide policy `Linalg.ThreadCount` (`--threads`, `ISAC_THREADS`, `OMP_NUM_THREADS`, affinity mask),
/// under the name the Learning API has always used.
public typealias LearningThreads = ThreadCount

@_silgen_name("mallopt") func c_mallopt(_ parameter: Int32, _ value: Int32) -> Int32
/// glibc <malloc.h> parameter numbers.
let mallocTrimThreshold: Int32 = -1, mallocMmapMax: Int32 = -4

/// Number of workers for `parallelFor` (see `LearningThreads`).
@usableFromInline var learningWorkers: Int { LearningThreads.count }

/// Runs `body(worker, range)` over contiguous chunks of `0..<n`, one chunk per worker (`workers`
/// chunks at most), so each worker can own scratch buffers and partial sums indexed by `worker`.
/// Returns the number of workers used.
@discardableResult
func parallelChunks(_ n: Int, workers requested: Int = learningWorkers, _ body: @Sendable (Int, Range<Int>) -> Void) -> Int {
    let workers = max(1, min(requested, n))
    if workers == 1 { body(0, 0..<n); return 1 }
    ThreadCount.concurrentPerform(iterations: workers) { w in
        let lo = n * w / workers, hi = n * (w + 1) / workers
        if lo < hi { body(w, lo..<hi) }
    }
    return workers
}

/// Elementwise loops: split over the cores only past 2¹⁶ elements (below that, dispatch costs more).
@inline(__always)
func parallelElementwise(_ n: Int, _ body: @Sendable (Range<Int>) -> Void) {
    if n < 65_536 { if n > 0 { body(0..<n) }; return }
    parallelChunks(n) { _, r in body(r) }
}

/// Learning parallelizes its own loops (batch samples, GEMM row blocks) over the cores and calls
/// OpenBLAS single-threaded inside them: nesting OpenBLAS's thread pool inside those loops
/// oversubscribes the cores and its idle threads spin in `sched_yield`. Set once, process-wide,
/// on the first Learning kernel (documented in docs/learning.md).
///
/// The same one-time hook turns off glibc's per-allocation `mmap` (M_MMAP_MAX = 0) and raises the
/// heap trim threshold to 1 GiB: by default every activation buffer ≥ 128 KiB is a fresh `mmap`
/// that the kernel zero-fills page by page on first touch and unmaps on release, i.e. ~1 M minor
/// page faults per few hundred training steps (28 % of the CPU time was sys time). With these
/// settings freed buffers stay in the heap and the next step's allocations of the same sizes reuse
/// them (process-wide; documented in docs/learning.md). Set `ISAC_MALLOC_DEFAULT=1` to keep glibc's defaults.
let blasSingleThreaded: Void = {
    RowMajorBLAS.setThreadCount(1)
    if ProcessInfo.processInfo.environment["ISAC_MALLOC_DEFAULT"] != "1" {
        _ = c_mallopt(mallocMmapMax, 0)
        _ = c_mallopt(mallocTrimThreshold, 1 << 30)
    }
}()

/// Runs `body(i)` for `i in 0..<n`, split into contiguous chunks over the available cores.
/// Falls back to a serial loop when `n * costPerItem` is small (thread start-up would dominate).
@inline(__always)
func parallelFor(_ n: Int, costPerItem: Int = 1_000_000, _ body: @Sendable (Range<Int>) -> Void) {
    let workers = min(learningWorkers, n)
    if workers <= 1 || n * costPerItem < 200_000 {
        body(0..<n)
        return
    }
    ThreadCount.concurrentPerform(iterations: workers) { w in
        let lo = n * w / workers, hi = n * (w + 1) / workers
        if lo < hi { body(lo..<hi) }
    }
}
