import Arrays
import Dispatch
import Foundation
import Linalg
import Numerics

/// Fields and channel matrices for many voxels at once, shared by the Born and VIE solvers.
/// Lets a parallel loop write disjoint elements of one buffer (each iteration owns its indices).
struct SendablePointer<T>: @unchecked Sendable {
    let base: UnsafeMutableBufferPointer<T>
    init(_ b: UnsafeMutableBufferPointer<T>) { base = b }
    subscript(i: Int) -> T {
        get { base[i] }
        nonmutating set { base[i] = newValue }
    }
}

enum TransferMatrices {
    /// Incident-field transfer rows for a block of voxel centres (eq. 5): returns [3b × N_t] column-major,
    /// row 3n + c = component c of E_inc at voxel n from Tx t, E_inc = k0² G(r_n, r_t) p̂.
    static func incident(points: ArraySlice<Point3>, array: SensingArray, wavenumber k: Double) -> Matrix<CDouble> {
        let b = points.count, nt = array.tx.count
        var m = Matrix<CDouble>(rows: 3 * b, cols: nt)
        let p = array.txPolarization, k2 = CDouble(k * k, 0)
        let base = points.startIndex
        m.data.withUnsafeMutableBufferPointer { out in
            let o = SendablePointer(out)
            DispatchQueue.concurrentPerform(iterations: nt) { t in
                let src = array.tx.positions[t]
                for n in 0..<b {
                    let (al, be, u) = Fields.dyadicGreenCoefficients(separation: points[base + n] - src, wavenumber: k)
                    let up = (u * p).sum()
                    for c in 0..<3 { o[3 * n + c + t * 3 * b] = k2 * (al * CDouble(p[c], 0) + be * CDouble(u[c] * up, 0)) }
                }
            }
        }
        return m
    }

    /// Receive rows (eq. 12) for a block of voxels: [N_r × 3b] column-major, entry (r, 3n + c) = [qᵀ G(r_r, r_n)]_c.
    static func receive(points: ArraySlice<Point3>, array: SensingArray, wavenumber k: Double) -> Matrix<CDouble> {
        let b = points.count, nr = array.rx.count
        var m = Matrix<CDouble>(rows: nr, cols: 3 * b)
        let q = array.rxPolarization
        let base = points.startIndex
        m.data.withUnsafeMutableBufferPointer { out in
            let o = SendablePointer(out)
            DispatchQueue.concurrentPerform(iterations: nr) { r in
                let rcv = array.rx.positions[r]
                for n in 0..<b {
                    let (al, be, u) = Fields.dyadicGreenCoefficients(separation: points[base + n] - rcv, wavenumber: k)
                    let uq = (u * q).sum()
                    for c in 0..<3 { o[r + (3 * n + c) * nr] = al * CDouble(q[c], 0) + be * CDouble(u[c] * uq, 0) }
                }
            }
        }
        return m
    }
}

/// Channel tensor H ∈ C^{N_r × N_t × K}, stored C-order (k fastest): `data[(r·N_t + t)·K + k]`.
public struct ChannelTensor: Sendable, Equatable {
    public var rx: Int, tx: Int, subcarriers: Int
    public var data: [CDouble]
    public init(rx: Int, tx: Int, subcarriers: Int, data: [CDouble]) {
        precondition(data.count == rx * tx * subcarriers)
        self.rx = rx; self.tx = tx; self.subcarriers = subcarriers; self.data = data
    }
    public subscript(r: Int, t: Int, k: Int) -> CDouble { data[(r * tx + t) * subcarriers + k] }

    /// Subcarrier slice H_k as an [N_r × N_t] matrix.
    public func matrix(subcarrier k: Int) -> Matrix<CDouble> {
        Matrix(rows: rx, cols: tx) { r, t in self[r, t, k] }
    }
    mutating func set(subcarrier k: Int, _ m: Matrix<CDouble>) {
        for r in 0..<rx { for t in 0..<tx { data[(r * tx + t) * subcarriers + k] = m[r, t] } }
    }
    /// Frobenius norm over all entries.
    public var norm: Double { data.reduce(0) { $0 + $1.lengthSquared }.squareRoot() }
}

/// First-order Born approximation (eq. 14 with A_k ≈ A_k,inc):
///
///     H_k ≈ k0² ΔV Σ_n B_k(r_n) χ_k(r_n) A_k,inc(r_n) = k0² ΔV · B [N_r × 3N_s] · diag(χ ⊗ 1₃) · A_inc [3N_s × N_t]
///
/// evaluated block-wise (voxel blocks of `blockSize`) as ZGEMMs accumulated in a fixed order, so the
/// result does not depend on the thread count. Cost O(K · N_s · N_r · N_t).
public enum BornSolver {
    public static func channel(target: VoxelTarget, array: SensingArray, blockSize: Int = 1024) throws -> ChannelTensor {
        try Check.positive(blockSize, "blockSize")
        try checkClearance(target: target, array: array)
        let occ = target.occupiedIndices
        let pts = occ.map { target.center($0) }
        let nr = array.rx.count, nt = array.tx.count, K = array.frequenciesHz.count
        var H = ChannelTensor(rx: nr, tx: nt, subcarriers: K, data: .init(repeating: .zero, count: nr * nt * K))
        for (kk, f) in array.frequenciesHz.enumerated() {
            let k = Fields.wavenumber(frequencyHz: f)
            let chiMat = target.materials.map { $0.contrast(frequencyHz: f) }
            var acc = Matrix<CDouble>(rows: nr, cols: nt)
            var start = 0
            while start < pts.count {
                let end = min(start + blockSize, pts.count)
                var A = TransferMatrices.incident(points: pts[start..<end], array: array, wavenumber: k)
                let B = TransferMatrices.receive(points: pts[start..<end], array: array, wavenumber: k)
                // diag(χ) applied to the rows of A.
                let rows = A.rows
                for n in start..<end {
                    let chi = chiMat[Int(target.material[occ[n]]) - 1]
                    let r0 = 3 * (n - start)
                    for t in 0..<nt { for c in 0..<3 { A.data[r0 + c + t * rows] *= chi } }
                }
                Matrix.gemm(.none, B, .none, A, beta: .one, into: &acc)
                start = end
            }
            let s = CDouble(k * k * target.voxelVolume, 0)
            for i in acc.data.indices { acc.data[i] *= s }
            H.set(subcarrier: kk, acc)
        }
        return H
    }

    /// Rejects targets that overlap (or touch, within one voxel pitch) any antenna element: the
    /// Green's function is singular there and the array is not part of the scattering model.
    public static func checkClearance(target: VoxelTarget, array: SensingArray) throws {
        let d = target.minimumDistance(to: array.allPositions)
        guard d > target.pitch else {
            throw ISACError.invalidParameter(name: "target position", value: String(format: "%.3f m from the array", d),
                                             valid: "the target must not overlap the array (distance > one voxel pitch = \(target.pitch) m)")
        }
    }
}
