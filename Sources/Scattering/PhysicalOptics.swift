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
    /// Index of the mesh triangle each sample lies on.
    public var facets: [Int32] = []

    /// Number of quadrature samples.
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
                    tangent1.append(t1); tangent2.append(t2); twoSided.append(two); facets.append(Int32(i))
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
    /// `shadowing`: also zero the current where the path from the Tx to the sample crosses another opaque facet
    /// (part-to-part and non-convex self-shadowing, `shadowFlags`); off by default (docs/physical-optics.md).
    public static func channel(mesh: TriangleMesh, array: SensingArray, samplesPerWavelength spw: Double = defaultSamplesPerWavelength,
                               blockSize: Int = defaultBlockSize, minClearanceWavelengths: Double = 1, shadowing: Bool = false,
                               timing: PhysicalOpticsTiming? = nil) throws -> ChannelTensor {
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
        var (all, keep) = try litSamples(mesh: mesh, array: array, samplesPerWavelength: spw, timing: timing)
        var occluded: [UInt8]? = nil
        if shadowing {
            let t0 = Date()
            let f = shadowFlags(samples: all, indices: keep, mesh: mesh, txPositions: array.tx.positions)
            // Samples shadowed from every Tx carry no current: drop them before blocking.
            let nt = array.tx.count
            let live = keep.indices.filter { n in (0..<nt).contains { f[n * nt + $0] == 0 } }
            occluded = live.flatMap { n in f[(n * nt)..<((n + 1) * nt)] }
            keep = live.map { keep[$0] }
            timing?.shadowSeconds += Date().timeIntervalSince(t0)
        }
        return channel(samples: all, indices: keep, array: array, blockSize: blockSize, occluded: occluded, timing: timing)
    }

    /// Metal-facet samples at spacing λ_min / spw and the indices of those lit by at least one Tx element (the
    /// samples the channel sums over: its GEMMs cost 8 · N_r · N_t · 2 · kept.count real flops per subcarrier).
    public static func litSamples(mesh: TriangleMesh, array: SensingArray, samplesPerWavelength spw: Double,
                                  timing: PhysicalOpticsTiming? = nil) throws -> (SurfaceSamples, [Int]) {
        let lamMin = speedOfLight / array.frequenciesHz.max()!
        let t0 = DispatchTime.now().uptimeNanoseconds
        let all = try SurfaceSamples(mesh: mesh, spacingM: lamMin / spw)
        let t1 = DispatchTime.now().uptimeNanoseconds
        let keep = (0..<all.count).filter { q in
            all.twoSided[q] || array.tx.positions.contains { vdot(all.normals[q], all.points[q] - $0) < 0 }
        }
        if let tm = timing {
            tm.samplingSeconds += Double(t1 - t0) * 1e-9
            tm.litSeconds += Double(DispatchTime.now().uptimeNanoseconds - t1) * 1e-9
        }
        return (all, keep)
    }

    /// Tones between direct evaluations of the phasors e^{−jk_m R}; in between they advance by one complex multiply,
    /// e^{−j(k0 + mΔk)R} = e^{−jk_s R} · (e^{−jΔk R})^{m−s}. The recurrence's rounding grows ≈ (m − s)·ε per pair
    /// (measured: docs/physical-optics.md, "Tone recurrence"), far below the rounding of k·R itself at R ≫ λ.
    public static let defaultReseedInterval = 8

    /// The block kernel of `channel(mesh:…)`, per block of b samples:
    /// 1. pair geometry (Tx and Rx side, pair (a, i) at a·b_max + i): R, 1/R, two real projection factors, the seed
    ///    phasor e^{−jk0R} and the step e^{−jΔkR} (split real/imaginary planes; the per-sample quantities are gathered
    ///    into structure-of-arrays buffers first, so the pair loops have no look-ups and vectorize; sin/cos by
    ///    `FastSinCos`);
    /// 2. per tone: the phasors advance (or are re-seeded every `reseedInterval` tones) in the same pass that writes
    ///    A [2b × N_t] (currents, two tangential unknowns per sample) and Bᵀ [2b × N_r] (radiation to every Rx);
    /// 3. acc_k [N_r × N_t] += (Bᵀ)ᵀ · A: one ZGEMM (TN: both operands contiguous along the long inner dimension).
    /// `occluded` (optional, [keep.count × N_t], 1 = shadowed): per-(sample, Tx) shadow flags from `shadowFlags`.
    /// Default block: 256 samples (the pair tables and A, Bᵀ of one tone then stay in a 2 MB L2 cache; the ZGEMM
    /// inner dimension is 512).
    static func channel(samples s: SurfaceSamples, indices keep: [Int], array: SensingArray, blockSize: Int = defaultBlockSize,
                        reseedInterval: Int = defaultReseedInterval, occluded: [UInt8]? = nil,
                        timing: PhysicalOpticsTiming? = nil) -> ChannelTensor {
        func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) * 1e-9 }
        let nr = array.rx.count, nt = array.tx.count, K = array.frequenciesHz.count
        let ks = array.frequenciesHz.map { Fields.wavenumber(frequencyHz: $0) }
        let dk: Double? = K < 2 ? nil : {
            let d = ks[1] - ks[0]
            return ks.indices.allSatisfy { abs(ks[$0] - ks[0] - Double($0) * d) <= 1e-12 * ks[0] } ? d : nil
        }()
        let reseed = max(1, reseedInterval)
        let p = array.txPolarization, qv = array.rxPolarization
        let bmax = max(1, min(blockSize, keep.count))
        // Fast sin/cos is valid for |kR| < FastSinCos.maxArgument: bound R by |r_q − a_0| + max |a − a_0|.
        let all = array.allPositions
        let a0 = all.first ?? .zero
        let arrayRadius = all.map { vnorm($0 - a0) }.max() ?? 0
        let rBound = (keep.map { vnorm(s.points[$0] - a0) }.max() ?? 0) + arrayRadius
        let fast = (ks.max() ?? 0) * rBound < FastSinCos.maxArgument
        var acc = [Matrix<CDouble>](repeating: Matrix<CDouble>(rows: nr, cols: nt), count: K)
        let tx = PairPhasors(antennas: nt, stride: bmax), rx = PairPhasors(antennas: nr, stride: bmax)
        let blk = BlockSamples(capacity: bmax)
        let ld = 2 * bmax
        var A = [CDouble](repeating: .zero, count: ld * nt), Bt = [CDouble](repeating: .zero, count: ld * nr)
        let inv4pi = 1 / (4 * Double.pi)
        var start = 0
        while start < keep.count {
            let b = min(bmax, keep.count - start)
            let t0 = now()
            blk.gather(samples: s, indices: keep[start..<(start + b)], txPolarization: p, rxPolarization: qv)
            tx.fillTx(antennas: array.tx.positions, block: blk, count: b, k0: ks[0], dk: dk, fast: fast)
            if let o = occluded {
                // Shadowed (sample, Tx) pairs carry no current.
                for a in 0..<nt { for i in 0..<b where o[(start + i) * nt + a] != 0 { tx.f1[a * bmax + i] = 0; tx.f2[a * bmax + i] = 0 } }
            }
            rx.fillRx(antennas: array.rx.positions, block: blk, count: b, polarization: qv, k0: ks[0], dk: dk, fast: fast)
            timing?.geometrySeconds += now() - t0
            for kk in 0..<K {
                let k = ks[kk], invk = 1 / k
                // Phasor update mode for this tone: 0 = keep the seed (tone 0), 1 = multiply by the step, 2 = direct.
                let mode = kk == 0 ? 0 : (dk == nil || kk % reseed == 0 ? 2 : 1)
                let t1 = now()
                A.withUnsafeMutableBufferPointer { ab in
                    let O = SendableMutablePointer(UnsafeMutableRawPointer(ab.baseAddress!).assumingMemoryBound(to: Double.self))
                    let T = tx.pointers
                    ThreadCount.concurrentPerform(iterations: nt) { t in
                        let o = O.pointer + 2 * ld * t, base = t * bmax
                        let (pr, pi, sr, si, R, ir, f1, f2) = (T.pr + base, T.pi + base, T.sr + base, T.si + base,
                                                                T.r + base, T.ir + base, T.f1 + base, T.f2 + base)
                        PairPhasors.update(mode: mode, count: b, k: k, pr: pr, pi: pi, sr: sr, si: si, r: R, fast: fast)
                        for i in 0..<b {
                            // g(1 + u) = e^{−jkR}/(4πR) (1 − j/(kR)); f1, f2 already carry 1/(4πR).
                            let qk = ir[i] * invk
                            let er = pr[i] + pi[i] * qk, ei = pi[i] - pr[i] * qk
                            o[4 * i] = er * f1[i]; o[4 * i + 1] = ei * f1[i]
                            o[4 * i + 2] = er * f2[i]; o[4 * i + 3] = ei * f2[i]
                        }
                    }
                }
                let t2 = now()
                Bt.withUnsafeMutableBufferPointer { bb in
                    let O = SendableMutablePointer(UnsafeMutableRawPointer(bb.baseAddress!).assumingMemoryBound(to: Double.self))
                    let T = rx.pointers
                    let Q1 = SendableMutablePointer(blk.qt1), Q2 = SendableMutablePointer(blk.qt2)
                    ThreadCount.concurrentPerform(iterations: nr) { r in
                        let o = O.pointer + 2 * ld * r, base = r * bmax
                        let (pr, pi, sr, si, R, ir, f1, f2) = (T.pr + base, T.pi + base, T.sr + base, T.si + base,
                                                                T.r + base, T.ir + base, T.f1 + base, T.f2 + base)
                        PairPhasors.update(mode: mode, count: b, k: k, pr: pr, pi: pi, sr: sr, si: si, r: R, fast: fast)
                        let q1 = Q1.pointer, q2 = Q2.pointer
                        for i in 0..<b {
                            // q̂ᵀ G t̂ = α (q̂·t̂) + β (R̂·q̂)(R̂·t̂), α = g(1 + u + u²), β = −g(1 + 3u + 3u²), u = 1/(jkR)
                            let c = ir[i] * inv4pi, q = ir[i] * invk
                            let gr = c * pr[i], gi = c * pi[i]
                            let a0 = 1 - q * q, b0 = 1 - 3 * q * q, b1 = 3 * q
                            let alr = gr * a0 + gi * q, ali = gi * a0 - gr * q
                            let ber = -(gr * b0 + gi * b1), bei = -(gi * b0 - gr * b1)
                            o[4 * i] = alr * q1[i] + ber * f1[i]; o[4 * i + 1] = ali * q1[i] + bei * f1[i]
                            o[4 * i + 2] = alr * q2[i] + ber * f2[i]; o[4 * i + 3] = ali * q2[i] + bei * f2[i]
                        }
                    }
                }
                let t3 = now()
                A.withUnsafeBufferPointer { ap in Bt.withUnsafeBufferPointer { bp in acc[kk].data.withUnsafeMutableBufferPointer { cp in
                    CDouble.gemm(.transpose, .none, m: nr, n: nt, k: 2 * b, alpha: .one, a: bp.baseAddress!, lda: ld,
                                 b: ap.baseAddress!, ldb: ld, beta: .one, c: cp.baseAddress!, ldc: nr)
                } } }
                if let tm = timing {
                    let t4 = now()
                    tm.currentSeconds += t2 - t1; tm.radiationSeconds += t3 - t2
                    tm.gemmSeconds += t4 - t3; tm.gemmFlops += 8 * Double(nr * nt * 2 * b)
                }
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

    /// Samples per block of the PO kernel (see `channel(samples:…)`).
    public static let defaultBlockSize = 256

    /// Direct-summation reference of the PO channel (no blocking, no GEMM, no phasor recurrence: e^{−jkR} from
    /// cos/sin at every tone), the same quadrature as `channel(mesh:…)`: for tests of the fast kernel on small cases.
    static func directChannel(samples s: SurfaceSamples, indices keep: [Int], array: SensingArray) -> ChannelTensor {
        let nr = array.rx.count, nt = array.tx.count, K = array.frequenciesHz.count
        let p = array.txPolarization, qv = array.rxPolarization
        var H = ChannelTensor(rx: nr, tx: nt, subcarriers: K, data: .init(repeating: .zero, count: nr * nt * K))
        for kk in 0..<K {
            let k = Fields.wavenumber(frequencyHz: array.frequenciesHz[kk])
            for r in 0..<nr { for t in 0..<nt {
                var sum = CDouble.zero
                for q in keep {
                    let x = s.points[q], n = s.normals[q]
                    // current J/(2·η⁻¹) = s n̂ × (g(1 + u) R̂ × p̂), tangential components on t̂1, t̂2
                    let dt = x - array.tx.positions[t], Rt = vnorm(dt), ut = dt / Rt
                    let c = vdot(n, ut)
                    let sign: Double = c < 0 ? 1 : (s.twoSided[q] && c > 0 ? -1 : 0)
                    if sign == 0 { continue }
                    let gt = CDouble(Double.cos(k * Rt), -Double.sin(k * Rt)) * CDouble(1 / (4 * Double.pi * Rt), 0) * CDouble(1, -1 / (k * Rt))
                    let v = ut * vdot(n, p) - p * c
                    let j1 = gt * CDouble(sign * s.weights[q] * vdot(s.tangent1[q], v), 0)
                    let j2 = gt * CDouble(sign * s.weights[q] * vdot(s.tangent2[q], v), 0)
                    // q̂ᵀ G(r_r, x) t̂_c
                    let dr = x - array.rx.positions[r], Rr = vnorm(dr), ur = dr / Rr
                    let g = CDouble(Double.cos(k * Rr), -Double.sin(k * Rr)) * CDouble(1 / (4 * Double.pi * Rr), 0)
                    let u = CDouble(0, -1 / (k * Rr))
                    let al = g * (1 + u + u * u), be = -(g * (1 + 3 * u + 3 * u * u))
                    let uq = vdot(ur, qv)
                    let b1 = al * CDouble(vdot(qv, s.tangent1[q]), 0) + be * CDouble(uq * vdot(ur, s.tangent1[q]), 0)
                    let b2 = al * CDouble(vdot(qv, s.tangent2[q]), 0) + be * CDouble(uq * vdot(ur, s.tangent2[q]), 0)
                    sum += b1 * j1 + b2 * j2
                }
                H.data[(r * nt + t) * K + kk] = sum * CDouble(0, -2 * k * k * k)
            } }
        }
        return H
    }
}



/// sin and cos without library calls, so that loops over arrays of phases vectorize.
///
/// Cody–Waite reduction x = nπ/2 + r, |r| ≤ π/4, with π/2 split into two 33-bit parts and a 53-bit tail (n·P1 and
/// n·P2 are exact for |n| < 2²⁰), then the Taylor series of sin r to r¹⁷ and cos r to r¹⁸ (truncation
/// < (π/4)¹⁹/19! ≈ 1e-19), and the quadrant by bit operations on n. Valid for |x| < `maxArgument`; the rounding is a
/// few ulp of 1 (test `fastSinCosMatchesLibm`: max error < 4e-16 for |x| ≤ 2e4, i.e. far below the rounding of k·R).
enum FastSinCos {
    /// Largest |x| (rad) the reduction is exact for (2¹⁹ · π/2 ≈ 8.2e5; R ≤ 8 km at 4.9 GHz).
    static let maxArgument = 8.0e5
    static let p1 = 1.5707963267341256, p2 = 6.077100506303966e-11, p3 = 2.0222662487959506e-21
    static let twoOverPi = 0.6366197723675814
    static let magic = 6755399441055744.0  // 1.5 · 2⁵²: x + magic − magic rounds to the nearest integer

    /// (sin x, cos x) for |x| < `maxArgument`.
    @inline(__always)
    static func sinCos(_ x: Double) -> (sin: Double, cos: Double) {
        let t = x * twoOverPi + magic
        let n = t - magic
        let q = t.bitPattern  // low bits: n mod 2⁵¹ (two's complement)
        let r = ((x - n * p1) - n * p2) - n * p3
        let z = r * r
        var sp = 1.0 / 355687428096000.0      // 1/17!
        sp = sp * z - 1.0 / 1307674368000.0   // 1/15!
        sp = sp * z + 1.0 / 6227020800.0      // 1/13!
        sp = sp * z - 1.0 / 39916800.0        // 1/11!
        sp = sp * z + 1.0 / 362880.0          // 1/9!
        sp = sp * z - 1.0 / 5040.0            // 1/7!
        sp = sp * z + 1.0 / 120.0             // 1/5!
        sp = sp * z - 1.0 / 6.0               // 1/3!
        let sv = r + r * z * sp
        var cp = 1.0 / 6402373705728000.0     // 1/18!
        cp = cp * z - 1.0 / 20922789888000.0  // 1/16!
        cp = cp * z + 1.0 / 87178291200.0     // 1/14!
        cp = cp * z - 1.0 / 479001600.0       // 1/12!
        cp = cp * z + 1.0 / 3628800.0         // 1/10!
        cp = cp * z - 1.0 / 40320.0           // 1/8!
        cp = cp * z + 1.0 / 720.0             // 1/6!
        cp = cp * z - 1.0 / 24.0              // 1/4!
        cp = cp * z + 0.5
        let cv = 1 - z * cp
        // Quadrant n mod 4: odd n swaps sin and cos; sin changes sign for n mod 4 ∈ {2, 3}, cos for {1, 2}.
        let swap = 0 &- (q & 1)
        let sb = (sv.bitPattern & ~swap) | (cv.bitPattern & swap)
        let cb = (cv.bitPattern & ~swap) | (sv.bitPattern & swap)
        let sSign = (q & 2) << 62, cSign = ((q &+ 1) & 2) << 62
        return (Double(bitPattern: sb ^ sSign), Double(bitPattern: cb ^ cSign))
    }
}

/// Per-sample quantities of one block as structure-of-arrays buffers (allocated once, reused by every block):
/// position, normal·p̂, tangent projections, weight and the two-sided flag, for the vectorized pair loops.
final class BlockSamples: @unchecked Sendable {
    let x, y, z, nx, ny, nz, t1x, t1y, t1z, t2x, t2y, t2z, w, two, np, t1p, t2p, qt1, qt2: UnsafeMutablePointer<Double>
    private let all: [UnsafeMutablePointer<Double>]
    init(capacity n: Int) {
        let bufs = (0..<19).map { _ in
            let b = UnsafeMutablePointer<Double>.allocate(capacity: max(1, n)); b.initialize(repeating: 0, count: max(1, n)); return b
        }
        all = bufs
        (x, y, z, nx, ny, nz) = (bufs[0], bufs[1], bufs[2], bufs[3], bufs[4], bufs[5])
        (t1x, t1y, t1z, t2x, t2y, t2z) = (bufs[6], bufs[7], bufs[8], bufs[9], bufs[10], bufs[11])
        (w, two, np, t1p, t2p, qt1, qt2) = (bufs[12], bufs[13], bufs[14], bufs[15], bufs[16], bufs[17], bufs[18])
    }
    deinit { for b in all { b.deallocate() } }

    /// Copies samples `indices` of `s` (n̂·p̂, t̂·p̂ for the Tx polarization p̂, q̂·t̂ for the Rx polarization q̂).
    func gather(samples s: SurfaceSamples, indices: ArraySlice<Int>, txPolarization p: Point3, rxPolarization qv: Point3) {
        for (i, q) in indices.enumerated() {
            let r = s.points[q], n = s.normals[q], a = s.tangent1[q], b = s.tangent2[q]
            x[i] = r.x; y[i] = r.y; z[i] = r.z; nx[i] = n.x; ny[i] = n.y; nz[i] = n.z
            t1x[i] = a.x; t1y[i] = a.y; t1z[i] = a.z; t2x[i] = b.x; t2y[i] = b.y; t2z[i] = b.z
            w[i] = s.weights[q]; two[i] = s.twoSided[q] ? 1 : 0
            np[i] = vdot(n, p); t1p[i] = vdot(a, p); t2p[i] = vdot(b, p)
            qt1[i] = vdot(qv, a); qt2[i] = vdot(qv, b)
        }
    }
}

/// Frequency-independent geometry of (antenna, sample) pairs — R, 1/R, two real projection factors — and the running
/// phasor e^{−jkR} with its per-tone step e^{−jΔkR}, as split real/imaginary planes. Pair (a, i) at a·stride + i;
/// the buffers are allocated once and reused for every block (stride = the largest block).
final class PairPhasors: @unchecked Sendable {
    let count: Int
    let r, ir, f1, f2, pr, pi, sr, si: UnsafeMutablePointer<Double>
    let stride: Int
    struct Pointers: @unchecked Sendable { let r, ir, f1, f2, pr, pi, sr, si: UnsafeMutablePointer<Double> }
    var pointers: Pointers { Pointers(r: r, ir: ir, f1: f1, f2: f2, pr: pr, pi: pi, sr: sr, si: si) }

    init(antennas: Int, stride: Int) {
        let n = max(1, antennas * stride)
        count = antennas * stride; self.stride = stride
        r = Self.alloc(n); ir = Self.alloc(n); f1 = Self.alloc(n); f2 = Self.alloc(n)
        pr = Self.alloc(n); pi = Self.alloc(n); sr = Self.alloc(n); si = Self.alloc(n)
    }
    deinit { for b in [r, ir, f1, f2, pr, pi, sr, si] { b.deallocate() } }
    private static func alloc(_ n: Int) -> UnsafeMutablePointer<Double> {
        let b = UnsafeMutablePointer<Double>.allocate(capacity: n); b.initialize(repeating: 0, count: n); return b
    }

    /// `factors(a, i, R̂)` gives (f1, f2) for antenna a and point i with unit vector R̂ from the antenna to it
    /// (generic, scalar path: tests and small cases).
    func fill(antennas pos: [Point3], points: [Point3], k0: Double, dk: Double?, factors: @Sendable (Int, Int, Point3) -> (Double, Double)) {
        let b = points.count, st = stride, P = pointers, dkv = dk ?? 0
        ThreadCount.concurrentPerform(iterations: pos.count) { a in
            let src = pos[a]
            for i in 0..<b {
                let v = points[i] - src
                let d = vnorm(v), inv = 1 / d
                let j = a * st + i
                P.r[j] = d; P.ir[j] = inv
                let (x, y) = factors(a, i, v * inv)
                P.f1[j] = x; P.f2[j] = y
                P.pr[j] = Double.cos(k0 * d); P.pi[j] = -Double.sin(k0 * d)
                P.sr[j] = Double.cos(dkv * d); P.si[j] = -Double.sin(dkv * d)
            }
        }
    }

    /// Seed and step phasors of row j0..<j0+b from the distances already in `r` (fast path or libm).
    @inline(__always)
    private static func phasors(_ P: Pointers, from j0: Int, count b: Int, k0: Double, dk: Double, fast: Bool) {
        let R = P.r + j0, pr = P.pr + j0, pi = P.pi + j0, sr = P.sr + j0, si = P.si + j0
        if fast {
            for i in 0..<b {
                let (s0, c0) = FastSinCos.sinCos(k0 * R[i]), (s1, c1) = FastSinCos.sinCos(dk * R[i])
                pr[i] = c0; pi[i] = -s0; sr[i] = c1; si[i] = -s1
            }
        } else {
            for i in 0..<b {
                pr[i] = Double.cos(k0 * R[i]); pi[i] = -Double.sin(k0 * R[i])
                sr[i] = Double.cos(dk * R[i]); si[i] = -Double.sin(dk * R[i])
            }
        }
    }

    /// Tx side of the PO kernel: f_c = w s [(t̂_c·R̂)(n̂·p̂) − (t̂_c·p̂)(n̂·R̂)] / (4πR) = w s t̂_c·(n̂ × (R̂ × p̂)) / (4πR),
    /// s = 1 when the sample faces the antenna (n̂·R̂ < 0), −1 on the back of an open surface, else 0.
    func fillTx(antennas pos: [Point3], block S: BlockSamples, count b: Int, k0: Double, dk: Double?, fast: Bool) {
        let st = stride, P = pointers, dkv = dk ?? 0, inv4pi = 1 / (4 * Double.pi)
        ThreadCount.concurrentPerform(iterations: pos.count) { a in
            let src = pos[a], j0 = a * st
            let R = P.r + j0, IR = P.ir + j0, F1 = P.f1 + j0, F2 = P.f2 + j0
            for i in 0..<b {
                let vx = S.x[i] - src.x, vy = S.y[i] - src.y, vz = S.z[i] - src.z
                let d = (vx * vx + vy * vy + vz * vz).squareRoot(), inv = 1 / d
                let ux = vx * inv, uy = vy * inv, uz = vz * inv
                let c = S.nx[i] * ux + S.ny[i] * uy + S.nz[i] * uz
                let sign: Double = c < 0 ? 1 : (c > 0 ? -S.two[i] : 0)
                let t1u = S.t1x[i] * ux + S.t1y[i] * uy + S.t1z[i] * uz
                let t2u = S.t2x[i] * ux + S.t2y[i] * uy + S.t2z[i] * uz
                let ws = sign * S.w[i] * inv * inv4pi
                R[i] = d; IR[i] = inv
                F1[i] = ws * (t1u * S.np[i] - S.t1p[i] * c); F2[i] = ws * (t2u * S.np[i] - S.t2p[i] * c)
            }
            Self.phasors(P, from: j0, count: b, k0: k0, dk: dkv, fast: fast)
        }
    }

    /// Rx side of the PO kernel: f_c = (R̂·q̂)(R̂·t̂_c) for the Rx polarization q̂.
    func fillRx(antennas pos: [Point3], block S: BlockSamples, count b: Int, polarization qv: Point3, k0: Double, dk: Double?, fast: Bool) {
        let st = stride, P = pointers, dkv = dk ?? 0
        let (qx, qy, qz) = (qv.x, qv.y, qv.z)
        ThreadCount.concurrentPerform(iterations: pos.count) { a in
            let src = pos[a], j0 = a * st
            let R = P.r + j0, IR = P.ir + j0, F1 = P.f1 + j0, F2 = P.f2 + j0
            for i in 0..<b {
                let vx = S.x[i] - src.x, vy = S.y[i] - src.y, vz = S.z[i] - src.z
                let d = (vx * vx + vy * vy + vz * vz).squareRoot(), inv = 1 / d
                let ux = vx * inv, uy = vy * inv, uz = vz * inv
                let t1u = S.t1x[i] * ux + S.t1y[i] * uy + S.t1z[i] * uz
                let t2u = S.t2x[i] * ux + S.t2y[i] * uy + S.t2z[i] * uz
                let uq = ux * qx + uy * qy + uz * qz
                R[i] = d; IR[i] = inv
                F1[i] = uq * t1u; F2[i] = uq * t2u
            }
            Self.phasors(P, from: j0, count: b, k0: k0, dk: dkv, fast: fast)
        }
    }

    /// Advances `count` phasors to wavenumber k: mode 1 multiplies by the step, mode 2 evaluates e^{−jkR} directly
    /// (re-seed; `FastSinCos` when `fast`), mode 0 leaves them.
    @inline(__always)
    static func update(mode: Int, count b: Int, k: Double, pr: UnsafeMutablePointer<Double>, pi: UnsafeMutablePointer<Double>,
                       sr: UnsafeMutablePointer<Double>, si: UnsafeMutablePointer<Double>, r: UnsafeMutablePointer<Double>,
                       fast: Bool = false) {
        if mode == 1 {
            for i in 0..<b {
                let a = pr[i], c = pi[i]
                pr[i] = a * sr[i] - c * si[i]; pi[i] = a * si[i] + c * sr[i]
            }
        } else if mode == 2 {
            if fast {
                for i in 0..<b { let (s, c) = FastSinCos.sinCos(k * r[i]); pr[i] = c; pi[i] = -s }
            } else {
                for i in 0..<b { pr[i] = Double.cos(k * r[i]); pi[i] = -Double.sin(k * r[i]) }
            }
        }
    }
}

/// Wall-clock split of `PhysicalOptics.channel` (for benchmarks): seconds inside ZGEMM and its real flop count
/// (8·N_r·N_t·2b per block and subcarrier), and the number of lit samples summed.
public final class PhysicalOpticsTiming: @unchecked Sendable {
    /// Seconds inside ZGEMM and its real flop count.
    public var gemmSeconds = 0.0, gemmFlops = 0.0
    /// Wall seconds per stage: facet sampling, lit test, pair geometry (incl. the seed phasors), current fill A_k
    /// (incident field × facet factors), radiation fill B_k, voxel placement (vehicles), Born part (hybrid).
    public var samplingSeconds = 0.0, litSeconds = 0.0, geometrySeconds = 0.0, currentSeconds = 0.0, radiationSeconds = 0.0
    public var placeSeconds = 0.0, bornSeconds = 0.0, shadowSeconds = 0.0
    /// The stages as one dictionary (JSON output of `scatter channel`).
    public var stageSeconds: [String: Double] {
        ["sampling": samplingSeconds, "litTest": litSeconds, "pairGeometry": geometrySeconds, "currentFill": currentSeconds,
         "radiationFill": radiationSeconds, "zgemm": gemmSeconds, "place": placeSeconds, "born": bornSeconds, "shadow": shadowSeconds]
    }
    /// Number of lit samples summed.
    public var samples = 0
    /// All timers and counters start at zero.
    public init() {}
}

