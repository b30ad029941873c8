import Arrays
import Dispatch
import Foundation
import Linalg
import Numerics

/// Fields and channel matrices for many voxels at once, shared by the Born and VIE solvers.
enum TransferMatrices {
    /// Incident-field transfer rows for a block of voxel centres (eq. 5): returns [3b × N_t] column-major,
    /// row 3n + c = component c of E_inc at voxel n from Tx t, E_inc = k0² G(r_n, r_t) p̂.
    static func incident(points: ArraySlice<Point3>, array: SensingArray, wavenumber k: Double) -> Matrix<CDouble> {
        let b = points.count, nt = array.tx.count
        var m = Matrix<CDouble>(rows: 3 * b, cols: nt)
        let p = array.txPolarization, k2 = CDouble(k * k, 0)
        let base = points.startIndex
        m.data.withUnsafeMutableBufferPointer { out in
            let o = SendableMutablePointer(out)
            ThreadCount.concurrentPerform(iterations: nt) { t in
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
            let o = SendableMutablePointer(out)
            ThreadCount.concurrentPerform(iterations: nr) { r in
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
    /// Dimensions N_r, N_t and K.
    public var rx: Int, tx: Int, subcarriers: Int
    /// Complex entries, N_r·N_t·K, C-order with k fastest.
    public var data: [CDouble]
    /// Wraps `data`; its count must be rx·tx·subcarriers (precondition).
    public init(rx: Int, tx: Int, subcarriers: Int, data: [CDouble]) {
        precondition(data.count == rx * tx * subcarriers)
        self.rx = rx; self.tx = tx; self.subcarriers = subcarriers; self.data = data
    }
    /// H[r, t, k] = `data[(r·N_t + t)·K + k]`.
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
            let (D, IR, X, Y, Z, UP, PH) = (SendableMutablePointer(dp), SendableMutablePointer(irp), SendableMutablePointer(xp), SendableMutablePointer(yp),
                                            SendableMutablePointer(zp), SendableMutablePointer(upp), SendableMutablePointer(php))
            ThreadCount.concurrentPerform(iterations: pos.count) { a in
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
                let S = SendableMutablePointer(sp), dd = d
                ThreadCount.concurrentPerform(iterations: pos.count) { a in
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
            let O = SendableMutablePointer(o)
            ThreadCount.concurrentPerform(iterations: antennas) { a in
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

/// How the Born integral ∫_V B(r) χ(r) A_inc(r) dV is evaluated over each voxel.
public enum BornQuadrature: String, Sendable, Codable, CaseIterable {
    /// Point sample at the voxel centre: Σ_n ΔV f(r_n). Aliases once the two-way phase advances ≳ π per
    /// voxel (pitch ≳ λ/4 for backscatter): at λ/2 the lattice is a Bragg grating and every layer adds.
    case center
    /// Exact cube integral of the local plane wave (default): f(r_n + δ) ≈ f(r_n) e^{−j q·δ} with the
    /// Tx + Rx phase gradient q = k0 (R̂_t + R̂_r), so ∫_cube = ΔV f(r_n) Π_i sinc(q_i h/2); voxels whose
    /// wavefront curvature across the cube exceeds `curvatureLimitRad` are split into s³ sub-cubes first.
    case cube
}

/// First-order Born approximation (eq. 14 with A_k ≈ A_k,inc):
///
///     H_k ≈ k0² Σ_n w_n B_k(r_n) χ_k(r_n) A_k,inc(r_n) · F_n(t, r)
///
/// with w_n the cell volume. `.center`: F ≡ 1, w_n = ΔV, evaluated as one ZGEMM per block and subcarrier,
/// k0² · B [N_r × 3N_s] · diag(χ w ⊗ 1₃) · A_inc [3N_s × N_t]. `.cube` (default): the per-triple form factor
///
///     F_n(t, r) = Π_{i∈x,y,z} sinc(θ_i),  θ_i = k0 (h_n/2)(R̂_{t,n} + R̂_{r,n})_i,  sinc θ = sin θ / θ,
///
/// the exact integral of e^{−j q·δ} over the cube |δ_i| ≤ h_n/2 divided by h_n³ (docs/scattering.md, "Alias-free
/// Born"). It couples Tx and Rx, so it is a direct O(K N_s N_r N_t) kernel (≈ 5–10× the ZGEMM flops) rather
/// than a GEMM; sin/cos of θ are split into per-antenna halves (sin(a + b) = sin a cos b + cos a sin b), so the
/// triple loop has no transcendental calls. Blocks are accumulated in a fixed order and each (r, t) sum is
/// sequential, so the result does not depend on the thread count.
public enum BornSolver {
    /// Largest wavefront-curvature phase (rad) across one cube that `.cube` accepts before splitting the cube:
    /// φ = k0 (3h²/8)(1/R_t + 1/R_r) ≥ the neglected second-order phase of the local plane wave.
    public static let curvatureLimitRad = 0.05

    /// First-order Born channel of `target` seen by `array`, H ∈ C^{N_r × N_t × K}.
    /// Voxels are processed in blocks of `blockSize`; weighted boundary voxels are rejected.
    public static func channel(target: VoxelTarget, array: SensingArray, blockSize: Int = 1024,
                               quadrature: BornQuadrature = .cube) throws -> ChannelTensor {
        try Check.positive(blockSize, "blockSize")
        // The Born kernel is scalar in χ per voxel; weighted boundary voxels (fill f, tensor χ_eff) would be counted
        // as full voxels — a silently wrong volume — so refuse them.
        guard target.boundary.isEmpty else {
            throw ISACError.invalidParameter(name: "--voxelization", value: "weighted",
                                             valid: "the Born solver takes staircase voxels only; use --solver vie for weighted boundary voxels")
        }
        try checkClearance(target: target, array: array)
        let cells = BornCells(target: target, array: array, quadrature: quadrature)
        return channel(cells: cells, materials: target.materials, array: array, blockSize: blockSize, formFactor: quadrature == .cube)
    }

    /// Born channel of the same voxels integrated by an n×n×n Gauss–Legendre rule in every voxel, with the exact
    /// Green's functions at every node (no local-plane-wave assumption): the brute-force near-field reference
    /// of the alias-free `.cube` quadrature. Cost n³ × that of `.center`.
    public static func gaussLegendreReference(target: VoxelTarget, array: SensingArray, order n: Int, blockSize: Int = 4096) throws -> ChannelTensor {
        try Check.inRange(n, 1, 32, "order")
        try checkClearance(target: target, array: array)
        let (x, w) = GaussLegendre.rule(n)
        var cells = BornCells()
        let h = target.pitch
        for idx in target.occupiedIndices {
            let c = target.center(idx), m = Int(target.material[idx]) - 1
            for a in 0..<n { for b in 0..<n { for l in 0..<n {
                cells.append(c + (h / 2) * Point3(x[a], x[b], x[l]), material: m, volume: h * h * h * w[a] * w[b] * w[l] / 8, halfSize: 0)
            } } }
        }
        return channel(cells: cells, materials: target.materials, array: array, blockSize: blockSize, formFactor: false)
    }

    static func channel(cells: BornCells, materials: [Material], array: SensingArray, blockSize: Int, formFactor: Bool) -> ChannelTensor {
        let pts = cells.position
        let nr = array.rx.count, nt = array.tx.count, K = array.frequenciesHz.count
        let ks = array.frequenciesHz.map { Fields.wavenumber(frequencyHz: $0) }
        // Uniform tones (the cross array's default) let the phasors advance by one complex multiply.
        let dk: Double? = K < 2 ? nil : {
            let d = ks[1] - ks[0]
            return ks.indices.allSatisfy { abs(ks[$0] - ks[0] - Double($0) * d) <= 1e-12 * ks[0] } ? d : nil
        }()
        let chiMat = array.frequenciesHz.map { f in materials.map { $0.contrast(frequencyHz: f) } }
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
                // diag(χ w) applied to the rows of A.
                for n in start..<end {
                    let chi = chiMat[kk][cells.material[n]] * CDouble(cells.volume[n], 0)
                    let r0 = 3 * (n - start)
                    for t in 0..<nt { for c in 0..<3 { A.data[r0 + c + t * rowsA] *= chi } }
                }
                if formFactor {
                    let half = Array(cells.halfSize[start..<end])
                    let tf = FormFactorHalf(table: txT, wavenumber: k, halfSize: half, antennaFastest: true)
                    let rf = FormFactorHalf(table: rxT, wavenumber: k, halfSize: half)
                    BornSolver.accumulateFormFactorTiled(A: A, B: B, tx: tf, rx: rf, into: &acc[kk])
                } else {
                    Matrix.gemm(.none, B, .none, A, beta: .one, into: &acc[kk])
                }
            }
            start = end
        }
        var H = ChannelTensor(rx: nr, tx: nt, subcarriers: K, data: .init(repeating: .zero, count: nr * nt * K))
        for kk in 0..<K {
            let s = CDouble(ks[kk] * ks[kk], 0)
            for i in acc[kk].data.indices { acc[kk].data[i] *= s }
            H.set(subcarrier: kk, acc[kk])
        }
        return H
    }

    /// Cells per tile of `accumulateFormFactorTiled` (the Tx-side planes of one tile, 15 · 64 · 8 B per cell for
    /// N_t = 64, stay in L2 while every Rx row of the thread's group passes over them).
    static let formFactorTileCells = 32

    /// acc[r, t] += Σ_n F_n(t, r) Σ_c B[r, 3n + c] A[3n + c, t], the same arithmetic as `accumulateFormFactor`
    /// (every (r, t) sum runs over n in the same order with the same operations, so the result is bit-identical),
    /// with the loops reordered r → n → t: the innermost loop runs over Tx elements, has no reduction and
    /// vectorizes, and the cells are taken in L2-sized tiles. `tx` must be built with `antennaFastest: true`.
    static func accumulateFormFactorTiled(A: Matrix<CDouble>, B: Matrix<CDouble>, tx: FormFactorHalf, rx: FormFactorHalf,
                                          into acc: inout Matrix<CDouble>) {
        precondition(tx.antennaFastest && !rx.antennaFastest)
        let nr = B.rows, nt = A.cols, b = A.rows / 3
        // A transposed to [3b × N_t] row-major (Tx fastest), split into real/imaginary planes; B as in the reference.
        let aT = UnsafeMutablePointer<Double>.allocate(capacity: 2 * 3 * b * nt)
        defer { aT.deallocate() }
        let are = aT, aim = aT + 3 * b * nt
        A.data.withUnsafeBufferPointer { ad in
            for t in 0..<nt { for j in 0..<(3 * b) { let v = ad[j + t * 3 * b]; are[j * nt + t] = v.real; aim[j * nt + t] = v.imaginary } }
        }
        var br = [Double](repeating: 0, count: 3 * b * nr), bi = br
        for r in 0..<nr { for j in 0..<(3 * b) { let v = B.data[r + j * nr]; br[r * 3 * b + j] = v.real; bi[r * 3 * b + j] = v.imaginary } }
        let bre = br, bim = bi
        let AR = SendableMutablePointer(are), AI = SendableMutablePointer(aim)
        let groups = min(nr, 2 * ThreadCount.count), tile = formFactorTileCells
        let out = ParallelResults<[Double]>(count: groups)
        ThreadCount.concurrentPerform(iterations: groups) { g in
            let r0 = g * nr / groups, r1 = (g + 1) * nr / groups, rows = r1 - r0
            // Accumulators [rows × N_t] (real, imaginary), summed over n in order, like `sre`/`sim` of the reference.
            var sums = [Double](repeating: 0, count: 2 * rows * nt)
            sums.withUnsafeMutableBufferPointer { sp in
                let sre = sp.baseAddress!, sim = sp.baseAddress! + rows * nt
                let are = AR.pointer, aim = AI.pointer
                tx.theta0.withUnsafeBufferPointer { T0 in tx.theta1.withUnsafeBufferPointer { T1 in tx.theta2.withUnsafeBufferPointer { T2 in
                tx.sin0.withUnsafeBufferPointer { S0 in tx.sin1.withUnsafeBufferPointer { S1 in tx.sin2.withUnsafeBufferPointer { S2 in
                tx.cos0.withUnsafeBufferPointer { C0 in tx.cos1.withUnsafeBufferPointer { C1 in tx.cos2.withUnsafeBufferPointer { C2 in
                    var n0 = 0
                    while n0 < b {
                        let n1 = min(b, n0 + tile)
                        for r in r0..<r1 {
                            let rb = r * b, rb3 = r * 3 * b
                            let accR = sre + (r - r0) * nt, accI = sim + (r - r0) * nt
                            for n in n0..<n1 {
                                let q = rb + n, ib = rb3 + 3 * n, p0 = n * nt, ia = 3 * n * nt
                                let rt0 = rx.theta0[q], rt1 = rx.theta1[q], rt2 = rx.theta2[q]
                                let rs0 = rx.sin0[q], rs1 = rx.sin1[q], rs2 = rx.sin2[q]
                                let rc0 = rx.cos0[q], rc1 = rx.cos1[q], rc2 = rx.cos2[q]
                                let b0r = bre[ib], b1r = bre[ib + 1], b2r = bre[ib + 2]
                                let b0i = bim[ib], b1i = bim[ib + 1], b2i = bim[ib + 2]
                                // Eight Tx elements at a time in SIMD lanes (lane-wise the same IEEE operations as
                                // the scalar loop below, which takes the remainder).
                                var t = 0
                                while t + 8 <= nt {
                                    let p = p0 + t
                                    @inline(__always) func ld(_ b: UnsafeBufferPointer<Double>, _ i: Int) -> SIMD8<Double> {
                                        UnsafeRawPointer(b.baseAddress! + i).loadUnaligned(as: SIMD8<Double>.self)
                                    }
                                    @inline(__always) func ldp(_ b: UnsafeMutablePointer<Double>, _ i: Int) -> SIMD8<Double> {
                                        UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<Double>.self)
                                    }
                                    let tx0 = ld(T0, p) + rt0, tx1 = ld(T1, p) + rt1, tx2 = ld(T2, p) + rt2
                                    let s0 = ld(S0, p) * rc0 + ld(C0, p) * rs0
                                    let s1 = ld(S1, p) * rc1 + ld(C1, p) * rs1
                                    let s2 = ld(S2, p) * rc2 + ld(C2, p) * rs2
                                    let z0 = (tx0 .< 1e-4) .& (tx0 .> -1e-4), z1 = (tx1 .< 1e-4) .& (tx1 .> -1e-4), z2 = (tx2 .< 1e-4) .& (tx2 .> -1e-4)
                                    let one = SIMD8<Double>(repeating: 1)
                                    let f0 = (s0 / tx0.replacing(with: one, where: z0)).replacing(with: 1 - tx0 * tx0 / 6, where: z0)
                                    let f1 = (s1 / tx1.replacing(with: one, where: z1)).replacing(with: 1 - tx1 * tx1 / 6, where: z1)
                                    let f2 = (s2 / tx2.replacing(with: one, where: z2)).replacing(with: 1 - tx2 * tx2 / 6, where: z2)
                                    let f = f0 * f1 * f2
                                    let a0 = ia + t, a1 = a0 + nt, a2 = a1 + nt
                                    let ar0 = ldp(are, a0), ar1 = ldp(are, a1), ar2 = ldp(are, a2)
                                    let ai0 = ldp(aim, a0), ai1 = ldp(aim, a1), ai2 = ldp(aim, a2)
                                    var pre = b0r * ar0 - b0i * ai0
                                    pre += b1r * ar1 - b1i * ai1
                                    pre += b2r * ar2 - b2i * ai2
                                    var pim = b0r * ai0 + b0i * ar0
                                    pim += b1r * ai1 + b1i * ar1
                                    pim += b2r * ai2 + b2i * ar2
                                    let nR = ldp(accR, t) + f * pre, nI = ldp(accI, t) + f * pim
                                    UnsafeMutableRawPointer(accR + t).storeBytes(of: nR, as: SIMD8<Double>.self)
                                    UnsafeMutableRawPointer(accI + t).storeBytes(of: nI, as: SIMD8<Double>.self)
                                    t += 8
                                }
                                while t < nt {
                                    defer { t += 1 }
                                    let p = p0 + t
                                    let tx0 = T0[p] + rt0, tx1 = T1[p] + rt1, tx2 = T2[p] + rt2
                                    let s0 = S0[p] * rc0 + C0[p] * rs0
                                    let s1 = S1[p] * rc1 + C1[p] * rs1
                                    let s2 = S2[p] * rc2 + C2[p] * rs2
                                    // Branch-free sinc (selects, no division by 0), so the loop vectorizes; the
                                    // same values as the reference's branches.
                                    let z0 = abs(tx0) < 1e-4, z1 = abs(tx1) < 1e-4, z2 = abs(tx2) < 1e-4
                                    let q0 = s0 / (z0 ? 1 : tx0), q1 = s1 / (z1 ? 1 : tx1), q2 = s2 / (z2 ? 1 : tx2)
                                    let f0 = z0 ? 1 - tx0 * tx0 / 6 : q0
                                    let f1 = z1 ? 1 - tx1 * tx1 / 6 : q1
                                    let f2 = z2 ? 1 - tx2 * tx2 / 6 : q2
                                    let f = f0 * f1 * f2
                                    let a0 = ia + t, a1 = a0 + nt, a2 = a1 + nt
                                    var pre: Double = b0r * are[a0] - b0i * aim[a0]
                                    pre += b1r * are[a1] - b1i * aim[a1]
                                    pre += b2r * are[a2] - b2i * aim[a2]
                                    var pim: Double = b0r * aim[a0] + b0i * are[a0]
                                    pim += b1r * aim[a1] + b1i * are[a1]
                                    pim += b2r * aim[a2] + b2i * are[a2]
                                    accR[t] += f * pre; accI[t] += f * pim
                                }
                            }
                        }
                        n0 = n1
                    }
                } } } } } } } } }
            }
            out.set(g, sums)
        }
        let parts = out.values()
        for g in 0..<groups {
            let r0 = g * nr / groups, r1 = (g + 1) * nr / groups, rows = r1 - r0, sums = parts[g]
            for r in r0..<r1 { for t in 0..<nt {
                acc.data[r + t * nr] += CDouble(sums[(r - r0) * nt + t], sums[rows * nt + (r - r0) * nt + t])
            } }
        }
    }

    /// acc[r, t] += Σ_n F_n(t, r) Σ_c B[r, 3n + c] A[3n + c, t]: the form-factor-weighted block product (scalar
    /// reference of `accumulateFormFactorTiled`, kept for its bit-identity test).
    static func accumulateFormFactor(A: Matrix<CDouble>, B: Matrix<CDouble>, tx: FormFactorHalf, rx: FormFactorHalf,
                                     into acc: inout Matrix<CDouble>) {
        let nr = B.rows, nt = A.cols, b = A.rows / 3
        // Split real/imaginary planes; B transposed so that each Rx row is contiguous in (n, c).
        var ar = [Double](repeating: 0, count: 3 * b * nt), ai = ar
        for i in A.data.indices { ar[i] = A.data[i].real; ai[i] = A.data[i].imaginary }
        var br = [Double](repeating: 0, count: 3 * b * nr), bi = br
        for r in 0..<nr { for j in 0..<(3 * b) { let v = B.data[r + j * nr]; br[r * 3 * b + j] = v.real; bi[r * 3 * b + j] = v.imaginary } }
        let are = ar, aim = ai, bre = br, bim = bi
        let out = ParallelResults<[CDouble]>(count: nr)
        ThreadCount.concurrentPerform(iterations: nr) { r in
            var row = [CDouble](repeating: .zero, count: nt)
            let rb = r * b, rb3 = r * 3 * b
            for t in 0..<nt {
                let tb = t * b, tb3 = t * 3 * b
                var sre = 0.0, sim = 0.0
                for n in 0..<b {
                    let p = tb + n, q = rb + n
                    let tx0 = tx.theta0[p] + rx.theta0[q], tx1 = tx.theta1[p] + rx.theta1[q], tx2 = tx.theta2[p] + rx.theta2[q]
                    let s0 = tx.sin0[p] * rx.cos0[q] + tx.cos0[p] * rx.sin0[q]
                    let s1 = tx.sin1[p] * rx.cos1[q] + tx.cos1[p] * rx.sin1[q]
                    let s2 = tx.sin2[p] * rx.cos2[q] + tx.cos2[p] * rx.sin2[q]
                    // sinc θ = sin θ/θ; below |θ| = 1e-4 the series 1 − θ²/6 is exact to double precision.
                    let f0 = abs(tx0) < 1e-4 ? 1 - tx0 * tx0 / 6 : s0 / tx0
                    let f1 = abs(tx1) < 1e-4 ? 1 - tx1 * tx1 / 6 : s1 / tx1
                    let f2 = abs(tx2) < 1e-4 ? 1 - tx2 * tx2 / 6 : s2 / tx2
                    let f = f0 * f1 * f2
                    let ia = tb3 + 3 * n, ib = rb3 + 3 * n
                    var pre: Double = bre[ib] * are[ia] - bim[ib] * aim[ia]
                    pre += bre[ib + 1] * are[ia + 1] - bim[ib + 1] * aim[ia + 1]
                    pre += bre[ib + 2] * are[ia + 2] - bim[ib + 2] * aim[ia + 2]
                    var pim: Double = bre[ib] * aim[ia] + bim[ib] * are[ia]
                    pim += bre[ib + 1] * aim[ia + 1] + bim[ib + 1] * are[ia + 1]
                    pim += bre[ib + 2] * aim[ia + 2] + bim[ib + 2] * are[ia + 2]
                    sre += f * pre; sim += f * pim
                }
                row[t] = CDouble(sre, sim)
            }
            out.set(r, row)
        }
        let rows = out.values()
        for r in 0..<nr { for t in 0..<nt { acc.data[r + t * nr] += rows[r][t] } }
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

/// Integration cells of the Born sum: position, material (0-based), volume weight w (m³) and, for the
/// `.cube` form factor, the cube half-size h/2 (m).
struct BornCells {
    var position: [Point3] = [], material: [Int] = [], volume: [Double] = [], halfSize: [Double] = []
    init() {}
    mutating func append(_ p: Point3, material m: Int, volume v: Double, halfSize s: Double) {
        position.append(p); material.append(m); volume.append(v); halfSize.append(s)
    }

    /// One cell per occupied voxel, except that with `.cube` a voxel whose wavefront-curvature phase
    /// φ = k_max (3h²/8)(1/R_t,min + 1/R_r,min) exceeds `BornSolver.curvatureLimitRad` is split into
    /// s³ sub-cubes, s = ⌈√(φ/limit)⌉ (φ scales as h²).
    init(target: VoxelTarget, array: SensingArray, quadrature: BornQuadrature) {
        let h = target.pitch
        let kmax = Fields.wavenumber(frequencyHz: array.frequenciesHz.max()!)
        for idx in target.occupiedIndices {
            let c = target.center(idx), m = Int(target.material[idx]) - 1
            guard quadrature == .cube else { append(c, material: m, volume: h * h * h, halfSize: 0); continue }
            func minDist(_ ps: [Point3]) -> Double { ps.reduce(Double.infinity) { let d = c - $1; return min($0, (d * d).sum()) }.squareRoot() }
            let phi = kmax * 3 * h * h / 8 * (1 / minDist(array.tx.positions) + 1 / minDist(array.rx.positions))
            let s = phi <= BornSolver.curvatureLimitRad ? 1 : min(16, Int((phi / BornSolver.curvatureLimitRad).squareRoot().rounded(.up)))
            let hs = h / Double(s)
            for a in 0..<s { for b in 0..<s { for l in 0..<s {
                let o = hs * Point3(Double(a), Double(b), Double(l)) - Point3(repeating: (h - hs) / 2)
                append(c + o, material: m, volume: hs * hs * hs, halfSize: hs / 2)
            } } }
        }
    }
}

/// One side (Tx or Rx) of the cube form factor: θ_i = k0 (h_n/2) R̂_i per (antenna, cell) pair and its sin/cos,
/// pair (a, n) at a·b + n (or at n·N_a + a with `antennaFastest`), so that θ_i(t) + θ_i(r) is the argument of sinc
/// for the pair (t, r). Filled in parallel over antennas (libm sin/cos; same values in either layout).
struct FormFactorHalf: @unchecked Sendable {
    var theta0: [Double], theta1: [Double], theta2: [Double]
    var sin0: [Double], sin1: [Double], sin2: [Double], cos0: [Double], cos1: [Double], cos2: [Double]
    let antennaFastest: Bool
    init(table t: PairTable, wavenumber k: Double, halfSize: [Double], antennaFastest: Bool = false) {
        let n = t.b * t.antennas, b = t.b, na = t.antennas
        self.antennaFastest = antennaFastest
        var all = [Double](repeating: 0, count: 9 * max(1, n))
        let (ux, uy, uz) = (t.ux, t.uy, t.uz)
        all.withUnsafeMutableBufferPointer { ab in
            let P = SendableMutablePointer(ab)
            ThreadCount.concurrentPerform(iterations: na) { a in
                for i in 0..<b {
                    let j = a * b + i, o = antennaFastest ? i * na + a : j
                    let h = halfSize[i]
                    let th0 = k * h * ux[j], th1 = k * h * uy[j], th2 = k * h * uz[j]
                    P[o] = th0; P[n + o] = th1; P[2 * n + o] = th2
                    P[3 * n + o] = Double.sin(th0); P[4 * n + o] = Double.sin(th1); P[5 * n + o] = Double.sin(th2)
                    P[6 * n + o] = Double.cos(th0); P[7 * n + o] = Double.cos(th1); P[8 * n + o] = Double.cos(th2)
                }
            }
        }
        func plane(_ m: Int) -> [Double] { Array(all[(m * n)..<((m + 1) * n)]) }
        (theta0, theta1, theta2) = (plane(0), plane(1), plane(2))
        (sin0, sin1, sin2) = (plane(3), plane(4), plane(5))
        (cos0, cos1, cos2) = (plane(6), plane(7), plane(8))
    }
}

/// Gauss–Legendre nodes and weights on [−1, 1] (Newton on P_n from the Chebyshev-like initial guess;
/// exact for polynomials of degree ≤ 2n − 1).
public enum GaussLegendre {
    /// The n-point rule: nodes and weights on [−1, 1].
    public static func rule(_ n: Int) -> (nodes: [Double], weights: [Double]) {
        var x = [Double](repeating: 0, count: n), w = x
        for i in 0..<n {
            var z = Double.cos(Double.pi * (Double(i) + 0.75) / (Double(n) + 0.5))
            var dp = 0.0
            for _ in 0..<100 {
                var p0 = 1.0, p1 = 0.0
                for j in 0..<n { let p2 = p1; p1 = p0; p0 = ((2 * Double(j) + 1) * z * p1 - Double(j) * p2) / Double(j + 1) }
                dp = Double(n) * (z * p0 - p1) / (z * z - 1)
                let dz = p0 / dp
                z -= dz
                if abs(dz) < 1e-15 { break }
            }
            x[i] = z; w[i] = 2 / ((1 - z * z) * dp * dp)
        }
        return (x, w)
    }
}
