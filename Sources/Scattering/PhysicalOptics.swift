import Arrays
import Dispatch
import Foundation
import Linalg
import Numerics

/// Quadrature of the PEC part of a triangle mesh for physical optics.
///
/// Every facet is split by recursive longest-edge bisection until no edge exceeds d = λ / samplesPerWavelength (the
/// sample spacing at the shortest wavelength); each leaf triangle contributes one point at its centroid with weight =
/// its area (midpoint rule, error O((kd)²) per cell). Bisection keeps the leaves well shaped, so long thin facets
/// (box sides split into two triangles, sliver facets of imported meshes) get ≈ area / (0.3 d²) samples instead of the
/// (ℓ_max/d)² of a uniform split. Facets of any size are integrated this way; docs/physical-optics.md has the measured
/// accuracy vs samples per wavelength.
public struct SurfaceSamples: Sendable {
    /// Sample points r_q, m.
    public var points: [Point3] = []
    /// Unit facet normals n̂_q (from the winding).
    public var normals: [Point3] = []
    /// Quadrature weights (sub-triangle areas), m².
    public var weights: [Double] = []
    /// Orthonormal tangents t̂1, t̂2 with t̂1 × t̂2 = n̂ (PO currents are tangential: two unknowns per point).
    public var tangent1: [Point3] = [], tangent2: [Point3] = []
    /// True where the facet belongs to an open surface (lit from either side).
    public var twoSided: [Bool] = []

    public var count: Int { points.count }

    /// Samples the facets of `mesh` whose part is in `parts` with spacing `spacingM`.
    public init(mesh: TriangleMesh, spacingM d: Double, parts: Set<MeshPart> = [.metal]) throws {
        try Check.positive(d, "sample spacing")
        let closed = mesh.closedComponentFlags()
        for i in mesh.triangles.indices where parts.contains(mesh.parts[i]) {
            let (a, b, c) = mesh.corners(i)
            let av = mesh.areaVector(i), area2 = vnorm(av)
            guard area2 > 0 else { continue }
            let n = av / area2
            let e = b - a, t1 = e / vnorm(e), t2 = vcross(n, t1)
            let two = !closed[i], d2 = d * d
            var stack = [(a, b, c)]
            while let (p, q, r) = stack.popLast() {
                let lpq = vdot(q - p, q - p), lqr = vdot(r - q, r - q), lrp = vdot(p - r, p - r)
                let lmax = max(lpq, lqr, lrp)
                if lmax <= d2 {
                    points.append((p + q + r) / 3); normals.append(n); weights.append(vnorm(vcross(q - p, r - p)) / 2)
                    tangent1.append(t1); tangent2.append(t2); twoSided.append(two)
                    continue
                }
                // Split the longest edge at its midpoint; both halves keep the facet's winding.
                if lmax == lpq { let m = (p + q) / 2; stack.append((p, m, r)); stack.append((m, q, r)) }
                else if lmax == lqr { let m = (q + r) / 2; stack.append((q, m, p)); stack.append((m, r, p)) }
                else { let m = (r + p) / 2; stack.append((r, m, q)); stack.append((m, p, q)) }
            }
        }
    }
}

/// Polarization of the incident plane wave for RCS: θ̂ (vertical) or φ̂ (horizontal) of the radar direction.
public enum RCSPolarization: String, Sendable, CaseIterable { case theta, phi }

/// Physical optics (PO) for perfect electric conductors, e^{jωt}.
///
/// On the lit side of a PEC surface the current is J = 2 n̂ × H_inc (tangent-plane approximation), zero in the
/// shadow; the scattered field is radiated by J in free space:
///
///     E_s(r) = −jωμ0 ∫_S G(r, r′) J(r′) dS′ = −j k0 η ∫_S G(r, r′) J(r′) dS′
///
/// with the full dyadic Green's function G of eq. (8) (near-zone terms included). PO neglects multiple bounces,
/// edge diffraction and creeping waves, and uses only a per-facet lit test (no shadowing of one part by another),
/// which is exact for convex bodies (docs/physical-optics.md).
public enum PhysicalOptics {
    /// Default quadrature density (samples per wavelength along a facet edge; docs/physical-optics.md has the
    /// accuracy study that sets it).
    public static let defaultSamplesPerWavelength = 3.0

    /// Direction r̂(θ, φ) = (sinθ cosφ, sinθ sinφ, cosθ) and the unit vectors θ̂, φ̂ there.
    public static func sphericalFrame(thetaRad t: Double, phiRad p: Double) -> (r: Point3, theta: Point3, phi: Point3) {
        (Point3(Double.sin(t) * Double.cos(p), Double.sin(t) * Double.sin(p), Double.cos(t)),
         Point3(Double.cos(t) * Double.cos(p), Double.cos(t) * Double.sin(p), -Double.sin(t)),
         Point3(-Double.sin(p), Double.cos(p), 0))
    }

    /// Far-field PO radar cross-section σ = 4π lim R² |E_s|² / |E_inc|² (m²) for a unit plane wave
    /// E_inc = ê e^{−jk k̂_i·r} (propagation direction `incidentDirection` = k̂_i, unit; ê ⊥ k̂_i) observed in direction r̂:
    ///
    ///     σ = k² / (4π) · |(I − r̂r̂ᵀ) Σ_q w_q 2 n̂_q × (k̂_i × ê) e^{−jk (k̂_i − r̂)·r_q}|²,  lit: n̂_q·k̂_i < 0
    ///
    /// (η cancels: H_inc = k̂_i × E_inc / η and J = 2 n̂ × H_inc). Monostatic: r̂ = −k̂_i.
    public static func farFieldRCS(samples s: SurfaceSamples, wavenumber k: Double, incidentDirection ki: Point3,
                                   polarization e: Point3, observation rh: Point3) -> Double {
        let h = vcross(ki, e)
        let w = k * (ki - rh)
        var acc = (SIMD3<Double>.zero, SIMD3<Double>.zero)  // (Re, Im) of the vector sum
        for q in 0..<s.count {
            let n = s.normals[q]
            let c = vdot(n, ki)
            var sign = 0.0
            if c < 0 { sign = 1 } else if s.twoSided[q] && c > 0 { sign = -1 }
            if sign == 0 { continue }
            let j = (2 * sign * s.weights[q]) * vcross(n, h)
            let ph = -vdot(w, s.points[q])
            acc.0 += j * Double.cos(ph); acc.1 += j * Double.sin(ph)
        }
        let re = acc.0 - rh * vdot(rh, acc.0), im = acc.1 - rh * vdot(rh, acc.1)
        return k * k / (4 * Double.pi) * (vdot(re, re) + vdot(im, im))
    }

    /// Monostatic PO RCS (m²) of `mesh` for a radar in direction (θ, φ) with polarization θ̂ or φ̂, at `frequencyHz`.
    public static func monostaticRCS(mesh: TriangleMesh, frequencyHz f: Double, thetaRad: [Double], phiRad: Double = 0,
                                     polarization: RCSPolarization = .theta,
                                     samplesPerWavelength spw: Double = defaultSamplesPerWavelength) throws -> [Double] {
        try Check.positive(f, "--frequency-hz"); try Check.positive(spw, "--samples-per-wavelength")
        let k = Fields.wavenumber(frequencyHz: f)
        let s = try SurfaceSamples(mesh: mesh, spacingM: 2 * Double.pi / k / spw, parts: Set(MeshPart.allCases))
        return thetaRad.map { t in
            let fr = sphericalFrame(thetaRad: t, phiRad: phiRad)
            return farFieldRCS(samples: s, wavenumber: k, incidentDirection: -fr.r,
                               polarization: polarization == .theta ? fr.theta : fr.phi, observation: fr.r)
        }
    }

    /// Bistatic PO RCS (m²): incidence from direction (θ_i, φ) (wave travelling along −r̂_i), observation at (θ, φ)
    /// for every θ in `thetaRad`.
    public static func bistaticRCS(mesh: TriangleMesh, frequencyHz f: Double, incidenceThetaRad ti: Double, thetaRad: [Double],
                                   phiRad: Double = 0, polarization: RCSPolarization = .theta,
                                   samplesPerWavelength spw: Double = defaultSamplesPerWavelength) throws -> [Double] {
        try Check.positive(f, "--frequency-hz"); try Check.positive(spw, "--samples-per-wavelength")
        let k = Fields.wavenumber(frequencyHz: f)
        let s = try SurfaceSamples(mesh: mesh, spacingM: 2 * Double.pi / k / spw, parts: Set(MeshPart.allCases))
        let fi = sphericalFrame(thetaRad: ti, phiRad: phiRad)
        return thetaRad.map { t in
            farFieldRCS(samples: s, wavenumber: k, incidentDirection: -fi.r, polarization: polarization == .theta ? fi.theta : fi.phi,
                        observation: sphericalFrame(thetaRad: t, phiRad: phiRad).r)
        }
    }

    /// Magnetic field of a unit Tx dipole, η·H_inc(r) = k² g(R) (1 + 1/(jkR)) (R̂ × p̂) with R = r − r_t (A/m times η),
    /// the curl partner of E_inc = k² G p̂ (`SensingArray`'s normalization): ∇ × E = −jωμ0 H.
    public static func incidentH(at r: Point3, source: Point3, polarization p: Point3, wavenumber k: Double) -> (re: Point3, im: Point3) {
        let d = r - source, R = vnorm(d)
        let g = Fields.scalarGreen(distance: R, wavenumber: k) * CDouble(k * k, 0) * CDouble(1, -1 / (k * R))
        let v = vcross(d / R, p)
        return (v * g.real, v * g.imaginary)
    }

    /// Near-field PO channel of the metal facets of `mesh` (eq. 13 with the metal replaced by its surface):
    ///
    ///     H_k[r, t] = q̂ᵀ E_s(r_r) = −2j k³ Σ_q w_q Σ_{i=1,2} [q̂ᵀ G(r_r, r_q) t̂_i] · s_qt [t̂_i · (n̂_q × (g(R_qt)(1 + u_qt) R̂_qt × p̂))]
    ///
    /// u = 1/(jkR), R̂_qt from Tx t to sample q, s_qt = 1 when the facet faces the Tx (n̂·R̂ < 0; ±1 for open
    /// surfaces, 0 in the shadow). The lit test is per facet sample and per Tx element. Evaluated block-wise like
    /// `BornSolver`: per block of samples the pair geometry is computed once, then per subcarrier B [N_r × 2b] and
    /// A [2b × N_t] are filled and accumulated with one ZGEMM (8·N_r·N_t·2b flops). Samples shadowed from every Tx
    /// are dropped before blocking. Throws when the mesh comes closer than `minClearanceWavelengths` λ to the array.
    public static func channel(mesh: TriangleMesh, array: SensingArray, samplesPerWavelength spw: Double = defaultSamplesPerWavelength,
                               blockSize: Int = 2048, minClearanceWavelengths: Double = 1, timing: PhysicalOpticsTiming? = nil) throws -> ChannelTensor {
        try Check.positive(spw, "--po-samples-per-wavelength"); try Check.positive(blockSize, "blockSize")
        let fmax = array.frequenciesHz.max()!, lamMin = speedOfLight / fmax
        let clearance = mesh.minimumDistance(to: array.allPositions)
        guard clearance > minClearanceWavelengths * lamMin else {
            throw ISACError.invalidParameter(name: "target position", value: String(format: "mesh %.3f m from the array", clearance),
                                             valid: String(format: "the mesh must not overlap the array (distance > %.3g λ = %.4f m)", minClearanceWavelengths, minClearanceWavelengths * lamMin))
        }
        if let inside = array.allPositions.firstIndex(where: { mesh.containsPoint($0) }) {
            throw ISACError.invalidParameter(name: "target position", value: "antenna \(inside) is inside the mesh",
                                             valid: "the mesh must not overlap the array; move the target away from the antennas")
        }
        let (all, keep) = try litSamples(mesh: mesh, array: array, samplesPerWavelength: spw)
        return channel(samples: all, indices: keep, array: array, blockSize: blockSize, timing: timing)
    }

    /// Metal-facet samples at spacing λ_min / spw and the indices of those lit by at least one Tx element (the
    /// samples the channel sums over: its GEMMs cost 8 · N_r · N_t · 2 · kept.count real flops per subcarrier).
    public static func litSamples(mesh: TriangleMesh, array: SensingArray, samplesPerWavelength spw: Double) throws -> (SurfaceSamples, [Int]) {
        let lamMin = speedOfLight / array.frequenciesHz.max()!
        let all = try SurfaceSamples(mesh: mesh, spacingM: lamMin / spw)
        let keep = (0..<all.count).filter { q in
            all.twoSided[q] || array.tx.positions.contains { vdot(all.normals[q], all.points[q] - $0) < 0 }
        }
        return (all, keep)
    }

    static func channel(samples s: SurfaceSamples, indices keep: [Int], array: SensingArray, blockSize: Int,
                        timing: PhysicalOpticsTiming? = nil) -> ChannelTensor {
        func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) * 1e-9 }
        let nr = array.rx.count, nt = array.tx.count, K = array.frequenciesHz.count
        let ks = array.frequenciesHz.map { Fields.wavenumber(frequencyHz: $0) }
        let dk: Double? = K < 2 ? nil : {
            let d = ks[1] - ks[0]
            return ks.indices.allSatisfy { abs(ks[$0] - ks[0] - Double($0) * d) <= 1e-12 * ks[0] } ? d : nil
        }()
        let p = array.txPolarization, qv = array.rxPolarization
        var acc = [Matrix<CDouble>](repeating: Matrix<CDouble>(rows: nr, cols: nt), count: K)
        var start = 0
        while start < keep.count {
            let idx = Array(keep[start..<min(start + blockSize, keep.count)])
            let b = idx.count
            // Tx pairs (t, i) at t·b + i: geometric current factors a1, a2 (w·s·t̂_c·(n̂ × (R̂ × p̂)), real).
            var tx = PairGeometry(count: nt * b), rx = PairGeometry(count: nr * b)
            tx.fill(antennas: array.tx.positions, points: idx.map { s.points[$0] }, k0: ks[0], dk: dk) { j, a, i, u in
                let q = idx[i], n = s.normals[q]
                let c = vdot(n, u)
                let sign: Double = c < 0 ? 1 : (s.twoSided[q] && c > 0 ? -1 : 0)
                // n̂ × (R̂ × p̂) = R̂ (n̂·p̂) − p̂ (n̂·R̂)
                let v = u * vdot(n, p) - p * c
                let w = sign * s.weights[q]
                return (w * vdot(s.tangent1[q], v), w * vdot(s.tangent2[q], v))
            }
            // Rx pairs (r, i) at r·b + i: (R̂·q̂)(R̂·t̂_c).
            rx.fill(antennas: array.rx.positions, points: idx.map { s.points[$0] }, k0: ks[0], dk: dk) { j, a, i, u in
                let q = idx[i], uq = vdot(u, qv)
                return (uq * vdot(u, s.tangent1[q]), uq * vdot(u, s.tangent2[q]))
            }
            let qt = idx.map { (vdot(qv, s.tangent1[$0]), vdot(qv, s.tangent2[$0])) }
            var A = Matrix<CDouble>(rows: 2 * b, cols: nt), B = Matrix<CDouble>(rows: nr, cols: 2 * b)
            for kk in 0..<K {
                let k = ks[kk]
                if kk > 0 { tx.advance(to: k); rx.advance(to: k) }
                let rowsA = 2 * b
                A.data.withUnsafeMutableBufferPointer { ap in
                    let O = SendablePointer(ap)
                    let (ph, ir, f1, f2) = (tx.phase, tx.invR, tx.f1, tx.f2)
                    DispatchQueue.concurrentPerform(iterations: nt) { t in
                        for i in 0..<b {
                            let j = t * b + i
                            // g(1 + u) = e^{−jkR}/(4πR) (1 − j/(kR))
                            let e = ph[j] * CDouble(ir[j] / (4 * Double.pi), 0) * CDouble(1, -ir[j] / k)
                            O[2 * i + t * rowsA] = e * CDouble(f1[j], 0)
                            O[2 * i + 1 + t * rowsA] = e * CDouble(f2[j], 0)
                        }
                    }
                }
                B.data.withUnsafeMutableBufferPointer { bp in
                    let O = SendablePointer(bp)
                    let (ph, ir, f1, f2) = (rx.phase, rx.invR, rx.f1, rx.f2)
                    DispatchQueue.concurrentPerform(iterations: nr) { r in
                        for i in 0..<b {
                            let j = r * b + i
                            let g = ph[j] * CDouble(ir[j] / (4 * Double.pi), 0)
                            let q = ir[j] / k
                            let al = g * CDouble(1 - q * q, -q), be = -(g * CDouble(1 - 3 * q * q, -3 * q))
                            O[r + 2 * i * nr] = al * CDouble(qt[i].0, 0) + be * CDouble(f1[j], 0)
                            O[r + (2 * i + 1) * nr] = al * CDouble(qt[i].1, 0) + be * CDouble(f2[j], 0)
                        }
                    }
                }
                let g0 = now()
                Matrix.gemm(.none, B, .none, A, beta: .one, into: &acc[kk])
                if let tm = timing { tm.gemmSeconds += now() - g0; tm.gemmFlops += 8 * Double(nr * nt * 2 * b) }
            }
            start += b
        }
        timing?.samples = keep.count
        var H = ChannelTensor(rx: nr, tx: nt, subcarriers: K, data: .init(repeating: .zero, count: nr * nt * K))
        for kk in 0..<K {
            let sc = CDouble(0, -2 * ks[kk] * ks[kk] * ks[kk])
            for i in acc[kk].data.indices { acc[kk].data[i] *= sc }
            H.set(subcarrier: kk, acc[kk])
        }
        return H
    }
}

/// Frequency-independent geometry of (antenna, sample) pairs — 1/R, two real projection factors — and the running
/// phasor e^{−jkR}, advanced per subcarrier (one complex multiply for uniform tones). Pair (a, i) at a·b + i.
struct PairGeometry {
    var dist: [Double], invR: [Double], f1: [Double], f2: [Double], phase: [CDouble], step: [CDouble]?
    init(count n: Int) {
        dist = .init(repeating: 0, count: n); invR = dist; f1 = dist; f2 = dist
        phase = .init(repeating: .zero, count: n); step = nil
    }

    /// `factors(j, a, i, R̂)` gives (f1, f2) for pair j = a·b + i with unit vector R̂ from antenna a to point i.
    mutating func fill(antennas pos: [Point3], points: [Point3], k0: Double, dk: Double?,
                       factors: @Sendable (Int, Int, Int, Point3) -> (Double, Double)) {
        let b = points.count
        if dk != nil { step = .init(repeating: .zero, count: pos.count * b) }
        let hasStep = dk != nil, dkv = dk ?? 0
        dist.withUnsafeMutableBufferPointer { dp in invR.withUnsafeMutableBufferPointer { ip in
        f1.withUnsafeMutableBufferPointer { ap in f2.withUnsafeMutableBufferPointer { bp in
        phase.withUnsafeMutableBufferPointer { pp in
            let (D, I, F1, F2, P) = (SendablePointer(dp), SendablePointer(ip), SendablePointer(ap), SendablePointer(bp), SendablePointer(pp))
            var stepBuf = step ?? []
            stepBuf.withUnsafeMutableBufferPointer { sp in
                let S = SendablePointer(sp)
                DispatchQueue.concurrentPerform(iterations: pos.count) { a in
                    let src = pos[a]
                    for i in 0..<b {
                        let v = points[i] - src
                        let r = vnorm(v), inv = 1 / r
                        let j = a * b + i
                        D[j] = r; I[j] = inv
                        let (x, y) = factors(j, a, i, v * inv)
                        F1[j] = x; F2[j] = y
                        P[j] = CDouble(Double.cos(k0 * r), -Double.sin(k0 * r))
                        if hasStep { S[j] = CDouble(Double.cos(dkv * r), -Double.sin(dkv * r)) }
                    }
                }
            }
            if hasStep { step = stepBuf }
        } } } } }
    }

    mutating func advance(to k: Double) {
        if let st = step {
            phase.withUnsafeMutableBufferPointer { p in st.withUnsafeBufferPointer { s in for j in 0..<p.count { p[j] *= s[j] } } }
        } else {
            for j in phase.indices { phase[j] = CDouble(Double.cos(k * dist[j]), -Double.sin(k * dist[j])) }
        }
    }
}

/// Wall-clock split of `PhysicalOptics.channel` (for benchmarks): seconds inside ZGEMM and its real flop count
/// (8·N_r·N_t·2b per block and subcarrier), and the number of lit samples summed.
public final class PhysicalOpticsTiming: @unchecked Sendable {
    public var gemmSeconds = 0.0, gemmFlops = 0.0
    public var samples = 0
    public init() {}
}
