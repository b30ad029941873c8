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

/// Frequency-independent geometry of all (antenna, voxel) pairs of one voxel block — 1/R, R̂ and
/// R̂·pol — plus the running phasor e^{−j k R}, advanced subcarrier by subcarrier. Pair (a, n) is
/// stored at a·b + n. Precomputing this once per block instead of once per subcarrier removes the
/// square roots, divisions and (for uniformly spaced tones) the sin/cos from the K-fold inner loop,
/// which dominated the Born cost.
struct PairTable: @unchecked Sendable {
    let b: Int, antennas: Int
    var dist: [Double], invR: [Double], ux: [Double], uy: [Double], uz: [Double], upol: [Double]
    var phase: [CDouble]
    /// e^{−jΔk R} per pair when the tones are uniformly spaced (Δk = k_{i+1} − k_i), else nil.
    var step: [CDouble]?

    init(points: ArraySlice<Point3>, antennas pos: [Point3], polarization pol: SIMD3<Double>, k0: Double, dk: Double?) {
        b = points.count; antennas = pos.count
        let n = b * antennas
        var d = [Double](repeating: 0, count: n), ir = d, x = d, y = d, z = d, up = d
        var ph = [CDouble](repeating: .zero, count: n)
        var st: [CDouble]? = dk == nil ? nil : [CDouble](repeating: .zero, count: n)
        let base = points.startIndex, bb = b
        d.withUnsafeMutableBufferPointer { dp in ir.withUnsafeMutableBufferPointer { irp in
        x.withUnsafeMutableBufferPointer { xp in y.withUnsafeMutableBufferPointer { yp in z.withUnsafeMutableBufferPointer { zp in
        up.withUnsafeMutableBufferPointer { upp in ph.withUnsafeMutableBufferPointer { php in
            let (D, IR, X, Y, Z, UP, PH) = (SendablePointer(dp), SendablePointer(irp), SendablePointer(xp), SendablePointer(yp),
                                            SendablePointer(zp), SendablePointer(upp), SendablePointer(php))
            DispatchQueue.concurrentPerform(iterations: pos.count) { a in
                let src = pos[a]
                for i in 0..<bb {
                    let v = points[base + i] - src
                    let r = (v * v).sum().squareRoot(), inv = 1 / r
                    let j = a * bb + i
                    D[j] = r; IR[j] = inv; X[j] = v.x * inv; Y[j] = v.y * inv; Z[j] = v.z * inv
                    UP[j] = (v.x * pol.x + v.y * pol.y + v.z * pol.z) * inv
                    PH[j] = CDouble(Double.cos(k0 * r), -Double.sin(k0 * r))
                }
            }
        } } } } } } }
        if let dk {
            st!.withUnsafeMutableBufferPointer { sp in
                let S = SendablePointer(sp), dd = d
                DispatchQueue.concurrentPerform(iterations: pos.count) { a in
                    for j in (a * bb)..<((a + 1) * bb) { S[j] = CDouble(Double.cos(dk * dd[j]), -Double.sin(dk * dd[j])) }
                }
            }
        }
        dist = d; invR = ir; ux = x; uy = y; uz = z; upol = up; phase = ph; step = st
    }

    /// Moves the phasors to wavenumber `k` (one complex multiply per pair for uniform tones).
    mutating func advance(to k: Double) {
        if let st = step {
            for j in phase.indices { phase[j] *= st[j] }
        } else {
            for j in phase.indices { phase[j] = CDouble(Double.cos(k * dist[j]), -Double.sin(k * dist[j])) }
        }
    }

    /// Fills `out` with pol-projected dyadic rows at wavenumber k (current phasors):
    /// value(a, n, c) = scale · [α p_c + β R̂_c (R̂·p)], α = g(1 + u + u²), β = −g(1 + 3u + 3u²),
    /// g = e^{−jkR}/(4πR), u = 1/(jkR) (eq. 8), written at a·antennaStride + (3n + c)·rowStride
    /// (A_inc [3b × N_t] column-major: (3b, 1); B [N_r × 3b]: (1, N_r)).
    func fill(_ out: inout [CDouble], wavenumber k: Double, polarization p: SIMD3<Double>, scale: Double,
              antennaStride sa: Int, rowStride sr: Int) {
        let bb = b
        let (ir, x, y, z, up, ph) = (invR, ux, uy, uz, upol, phase)
        out.withUnsafeMutableBufferPointer { o in
            let O = SendablePointer(o)
            DispatchQueue.concurrentPerform(iterations: antennas) { a in
                for i in 0..<bb {
                    let j = a * bb + i
                    let e = ph[j] * CDouble(ir[j] * scale / (4 * Double.pi), 0)
                    let q = ir[j] / k            // 1/(kR); u = −jq, u² = −q²
                    let al = e * CDouble(1 - q * q, -q)
                    let be = -(e * CDouble(1 - 3 * q * q, -3 * q))
                    let bu = be * CDouble(up[j], 0)
                    let o0 = a * sa + 3 * i * sr
                    O[o0] = al * CDouble(p.x, 0) + bu * CDouble(x[j], 0)
                    O[o0 + sr] = al * CDouble(p.y, 0) + bu * CDouble(y[j], 0)
                    O[o0 + 2 * sr] = al * CDouble(p.z, 0) + bu * CDouble(z[j], 0)
                }
            }
        }
    }
}

/// First-order Born approximation (eq. 14 with A_k ≈ A_k,inc):
///
///     H_k ≈ k0² ΔV Σ_n B_k(r_n) χ_k(r_n) A_k,inc(r_n) = k0² ΔV · B [N_r × 3N_s] · diag(χ ⊗ 1₃) · A_inc [3N_s × N_t]
///
/// evaluated block-wise (voxel blocks of `blockSize`): per block the pair geometry is computed once
/// (`PairTable`), then for every subcarrier B and χ-scaled A_inc are filled and accumulated with one ZGEMM
/// into H_k. Blocks are accumulated in a fixed order, so the result does not depend on the thread count.
/// Cost O(K · N_s · N_r · N_t) flops in the GEMMs plus O(K · N_s · (N_r + N_t)) for the fills.
public enum BornSolver {
    public static func channel(target: VoxelTarget, array: SensingArray, blockSize: Int = 1024) throws -> ChannelTensor {
        try Check.positive(blockSize, "blockSize")
        try checkClearance(target: target, array: array)
        let occ = target.occupiedIndices
        let pts = occ.map { target.center($0) }
        let nr = array.rx.count, nt = array.tx.count, K = array.frequenciesHz.count
        let ks = array.frequenciesHz.map { Fields.wavenumber(frequencyHz: $0) }
        // Uniform tones (the cross array's default) let the phasors advance by one complex multiply.
        let dk: Double? = K < 2 ? nil : {
            let d = ks[1] - ks[0]
            return ks.indices.allSatisfy { abs(ks[$0] - ks[0] - Double($0) * d) <= 1e-12 * ks[0] } ? d : nil
        }()
        let chiMat = array.frequenciesHz.map { f in target.materials.map { $0.contrast(frequencyHz: f) } }
        var acc = [Matrix<CDouble>](repeating: Matrix<CDouble>(rows: nr, cols: nt), count: K)
        var start = 0
        while start < pts.count {
            let end = min(start + blockSize, pts.count), bsz = end - start
            var txT = PairTable(points: pts[start..<end], antennas: array.tx.positions, polarization: array.txPolarization, k0: ks[0], dk: dk)
            var rxT = PairTable(points: pts[start..<end], antennas: array.rx.positions, polarization: array.rxPolarization, k0: ks[0], dk: dk)
            var A = Matrix<CDouble>(rows: 3 * bsz, cols: nt), B = Matrix<CDouble>(rows: nr, cols: 3 * bsz)
            for kk in 0..<K {
                let k = ks[kk]
                if kk > 0 { txT.advance(to: k); rxT.advance(to: k) }
                // A_inc [3b × N_t]: row 3n + c, column t (E_inc = k0² G p̂); B [N_r × 3b]: qᵀ G.
                let rowsA = 3 * bsz
                txT.fill(&A.data, wavenumber: k, polarization: array.txPolarization, scale: k * k, antennaStride: rowsA, rowStride: 1)
                rxT.fill(&B.data, wavenumber: k, polarization: array.rxPolarization, scale: 1, antennaStride: 1, rowStride: nr)
                // diag(χ) applied to the rows of A.
                for n in start..<end {
                    let chi = chiMat[kk][Int(target.material[occ[n]]) - 1]
                    let r0 = 3 * (n - start)
                    for t in 0..<nt { for c in 0..<3 { A.data[r0 + c + t * rowsA] *= chi } }
                }
                Matrix.gemm(.none, B, .none, A, beta: .one, into: &acc[kk])
            }
            start = end
        }
        var H = ChannelTensor(rx: nr, tx: nt, subcarriers: K, data: .init(repeating: .zero, count: nr * nt * K))
        for kk in 0..<K {
            let s = CDouble(ks[kk] * ks[kk] * target.voxelVolume, 0)
            for i in acc[kk].data.indices { acc[kk].data[i] *= s }
            H.set(subcarrier: kk, acc[kk])
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
