import Dispatch

/// Deterministic parallel map over an index range: `out[i] = body(i)` for i = 0..<count, evaluated on
/// `ThreadCount.concurrentPerform` (at most `ThreadCount.count` workers; one iteration per index, or per chunk of
/// `chunk` consecutive indices).
///
/// Every result is written into its own slot, so the output is identical to the serial
/// `(0..<count).map(body)` whatever the scheduling (as long as `body(i)` depends only on i, e.g. draws
/// from `RandomSource(seed:stream: i)`). `body` runs concurrently: it must not mutate shared state.
/// If some iterations throw, the error of the smallest failing index is rethrown (after all iterations
/// finish), so the reported error is deterministic too.
///
/// - Parameters: count ≥ 0 (0 gives []); chunk ≥ 1, indices per work item (amortizes scheduling for
///   cheap bodies; results do not depend on it).
/// - Returns: shape [count].
public func parallelMap<T>(_ count: Int, chunk: Int = 1, _ body: (Int) throws -> T) throws -> [T] {
    guard count > 0 else { return [] }
    let step = Swift.max(chunk, 1)
    let slots = UnsafeMutablePointer<Result<T, Error>?>.allocate(capacity: count)
    slots.initialize(repeating: nil, count: count)
    defer { slots.deinitialize(count: count); slots.deallocate() }
    let out = ParallelSlots(base: slots)
    withoutActuallyEscaping(body) { body in
        let work = ParallelBody(body: body)
        ThreadCount.concurrentPerform(iterations: (count + step - 1) / step) { c in
            for i in (c * step)..<Swift.min((c + 1) * step, count) {
                out.base[i] = Result { try work.body(i) }
            }
        }
    }
    var result = [T]()
    result.reserveCapacity(count)
    for i in 0..<count { result.append(try slots[i]!.get()) }
    return result
}

/// Non-throwing `parallelMap`.
public func parallelMap<T>(_ count: Int, chunk: Int = 1, _ body: (Int) -> T) -> [T] {
    // The throwing overload cannot throw here.
    try! parallelMap(count, chunk: chunk, { (i: Int) throws -> T in body(i) })
}

/// The one `@unchecked Sendable` wrapper behind `parallelMap`: iteration i writes only slot i.
private struct ParallelSlots<T>: @unchecked Sendable { let base: UnsafeMutablePointer<Result<T, Error>?> }
/// `body` is called concurrently; callers of `parallelMap` are told not to share mutable state in it.
private struct ParallelBody<T>: @unchecked Sendable { let body: (Int) throws -> T }

/// The one pointer that concurrent iterations may share (`parallelForEach`, `ThreadCount.concurrentPerform`):
/// a plain `UnsafeMutablePointer` marked `Sendable` on the caller's promise that **iterations write disjoint
/// elements** (iteration i owns its indices or its range) and nobody reads an element another iteration writes.
/// Under that promise the result does not depend on the scheduling, so parallel loops stay deterministic.
/// Read-only sharing (`init(mutating:)`) is always safe while no iteration writes.
///
/// Use `pointer` for pointer arithmetic and C calls, the subscript for element access. The buffer it points to
/// must outlive the loop (wrap it inside `withUnsafeMutableBufferPointer`).
public struct SendableMutablePointer<T>: @unchecked Sendable {
    /// The shared base address.
    public let pointer: UnsafeMutablePointer<T>
    /// Shares `pointer`.
    @inlinable public init(_ pointer: UnsafeMutablePointer<T>) { self.pointer = pointer }
    /// Shares the base of `buffer`; precondition: `buffer` is non-empty.
    @inlinable public init(_ buffer: UnsafeMutableBufferPointer<T>) { pointer = buffer.baseAddress! }
    /// Shares a read-only pointer (the loop must not write through it).
    @inlinable public init(mutating pointer: UnsafePointer<T>) { self.pointer = UnsafeMutablePointer(mutating: pointer) }
    /// Element i (no bounds check: the caller owns the range).
    @inlinable public subscript(i: Int) -> T {
        get { pointer[i] }
        nonmutating set { pointer[i] = newValue }
    }
}

/// Deterministic parallel loop `body(i)` for i = 0..<count on `ThreadCount.concurrentPerform`, in work items of
/// `chunk` consecutive indices. `body` must write only what index i owns (e.g. through a `SendableMutablePointer`
/// at disjoint offsets); then the result equals the serial loop whatever the scheduling.
/// - Parameters: count ≥ 0 (0 runs nothing); chunk ≥ 1 (values below 1 act as 1).
public func parallelForEach(_ count: Int, chunk: Int = 1, _ body: (Int) -> Void) {
    guard count > 0 else { return }
    let step = Swift.max(chunk, 1)
    withoutActuallyEscaping(body) { body in
        let work = ParallelVoidBody(body: body)
        ThreadCount.concurrentPerform(iterations: (count + step - 1) / step) { c in
            for i in (c * step)..<Swift.min((c + 1) * step, count) { work.body(i) }
        }
    }
}

/// `body` is called concurrently; callers of `parallelForEach` are told to write only what index i owns.
private struct ParallelVoidBody: @unchecked Sendable { let body: (Int) -> Void }
