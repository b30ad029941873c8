import Foundation
import Linalg
import Estimation
import Numerics

/// Localization method (`--method`).
public enum LocalizationMethod: String, Sendable, CaseIterable, Codable {
    /// Proposed: hybrid dictionary + SOMP over the full WB-NF model (Algorithm 1).
    case cs
    /// Narrowband near-field MUSIC, subcarriers as snapshots (eqs. 36–40).
    case nbnfMusic = "nbnf-music"
    /// Wideband far-field MUSIC on the full N·M space-frequency snapshots (eqs. 50–53).
    case wbffMusic = "wbff-music"
}

/// A rectangular (range × angle) scan grid for the MUSIC pseudo-spectra.
public struct ScanGrid: Sendable, Equatable {
    /// Ranges, m (ascending).
    public var rangesMeters: [Double]
    /// Angles θ, rad (ascending).
    public var anglesRad: [Double]
    /// Grid from explicit ranges (m) and angles (rad).
    public init(rangesMeters: [Double], anglesRad: [Double]) { self.rangesMeters = rangesMeters; self.anglesRad = anglesRad }
    /// Uniform grid: `rangeCount` ranges in [rMin, rMax], `angleCount` angles in [θmin, θmax] (degrees in, radians stored).
    public static func uniform(rMin: Double, rMax: Double, rangeCount: Int, thetaMinDeg: Double = 60, thetaMaxDeg: Double = 120,
                               angleCount: Int) throws -> ScanGrid {
        try Check.positive(rMin, "scan rMin"); try Check.positive(rMax, "scan rMax")
        try Check.inRange(rangeCount, 2, 1_000_000, "scan range count")
        try Check.inRange(angleCount, 2, 1_000_000, "scan angle count")
        let rs = (0..<rangeCount).map { rMin + (rMax - rMin) * Double($0) / Double(rangeCount - 1) }
        let ts = (0..<angleCount).map { (thetaMinDeg + (thetaMaxDeg - thetaMinDeg) * Double($0) / Double(angleCount - 1)) * Double.pi / 180 }
        return ScanGrid(rangesMeters: rs, anglesRad: ts)
    }
}

/// A 2-D MUSIC pseudo-spectrum: values[iθ][ir] = S(r_ir, θ_iθ) (linear, unnormalized).
public struct MUSICSpectrum: Sendable {
    /// Scan grid the spectrum is sampled on.
    public var grid: ScanGrid
    /// values[iθ][ir] = S(r_ir, θ_iθ), linear, unnormalized.
    public var values: [[Double]]
    /// The P strongest local maxima as targets, strongest first.
    public func peaks(_ count: Int) -> [PolarTarget] {
        Peaks.localMaxima2D(values, count: count).map {
            PolarTarget(rangeMeters: grid.rangesMeters[$0.col], angleRad: grid.anglesRad[$0.row])
        }
    }
    /// Spectrum in dB normalized to its maximum (0 dB peak).
    public var normalizedDB: [[Double]] {
        let mx = values.flatMap { $0 }.max() ?? 1
        return values.map { $0.map { 10 * Foundation.log10(Swift.max($0 / mx, 1e-30)) } }
    }
}

/// Result of one localization run.
public struct LocalizationResult: Sendable {
    /// Estimated targets (range m, angle rad).
    public var estimates: [PolarTarget]
    /// SOMP row energies (CS only): per selected atom, Σ_k |x_k|²/K.
    public var coefficientPower: [Double] = []
    /// Selected dictionary atoms (CS only).
    public var support: [Int] = []
}

/// Target localization methods: proposed CS (SOMP) and the MUSIC baselines.
public enum Localizer {
    /// Proposed CS localization (Algorithm 1 step 4): SOMP over a prebuilt unit-norm dictionary.
    /// - Parameters: observation Y [N·M × K]; grid and its dictionary B [N·M × Q]; targets P (1 ≤ P < N).
    ///   exclusionCells: band exclusion radius in grid cells (0 = plain SOMP, as in the paper and the default; 1 = after a
    ///   pick, its neighbours within one angle step and one ring step are barred, see
    ///   `AngleDistanceGrid.neighbours`). Off-grid targets correlate ≈ 0.64 with both neighbouring rings
    ///   (Δr is the Dirichlet null spacing), so plain SOMP can spend a pick on a target's residual.
    public static func compressedSensing(observation y: Matrix<CDouble>, grid: AngleDistanceGrid, dictionary b: Matrix<CDouble>,
                                         targets p: Int, exclusionCells: Int = 0, system: WidebandSystem? = nil) throws -> LocalizationResult {
        try Check.inRange(exclusionCells, 0, 1000, "--exclusion-cells")
        // With the system known, Gram columns Bᴴb_q come from the closed-form subcarrier sum
        // (O(QN) instead of a pass over the NM × Q dictionary).
        var gram: ((Int) -> [CDouble])? = nil
        if let s = system {
            guard b.rows == s.snapshotLength, b.cols == grid.count else {
                throw ISACError.shapeMismatch("dictionary is \(b.rows) × \(b.cols), expected \(s.snapshotLength) × \(grid.count)")
            }
            gram = closedFormGram(grid: grid, system: s)
        }
        let r = try SOMP.recover(dictionary: b, observations: y, sparsity: p,
                                 exclude: exclusionCells == 0 ? nil : { grid.neighbours(of: $0, cells: exclusionCells) },
                                 gramColumn: gram)
        let est = r.support.map { grid.points[$0].target }
        let k = Double(y.cols)
        return LocalizationResult(estimates: est, coefficientPower: r.rowEnergies.map { $0 / k }, support: r.support)
    }

    /// Closed-form Gram columns Bᴴ b_q of the grid's unit-norm dictionary from a flat [Q·N] table of
    /// element distances (eq. 1) — O(QN) per column instead of a pass over the NM × Q dictionary.
    static func closedFormGram(grid: AngleDistanceGrid, system s: WidebandSystem) -> (Int) -> [CDouble] {
        let n = s.antennas, offs = s.elementOffsetsMeters
        var dist = [Double](repeating: 0, count: grid.count * n)
        for (j, p) in grid.points.enumerated() {
            let r = p.rangeMeters, c = p.alpha
            for i in 0..<n { let x = offs[i]; dist[j * n + i] = (r * r + x * x - 2 * r * x * c).squareRoot() }
        }
        return { [dist] q in DictionaryCoherence.gramColumn(system: s, flatDistances: dist, antennas: n, column: q) }
    }

    /// `compressedSensing` with the correlation step in single precision: `bf` is the complex64
    /// dictionary (`AngleDistanceGrid.dictionarySingle`), every pick is verified against exact double
    /// correlations and the coefficients come from the exact double atoms (`SinglePrecisionSOMP`), so
    /// the support and estimates equal those of the complex128 path up to double rounding.
    /// - Returns: the localization result and the number of exact candidate correlations evaluated.
    public static func compressedSensing(observation y: Matrix<CDouble>, grid: AngleDistanceGrid, singlePrecisionDictionary bf: Matrix<CFloat>,
                                         targets p: Int, exclusionCells: Int = 0,
                                         system s: WidebandSystem) throws -> (result: LocalizationResult, verifiedCandidates: Int) {
        try Check.inRange(exclusionCells, 0, 1000, "--exclusion-cells")
        guard bf.rows == s.snapshotLength, bf.cols == grid.count else {
            throw ISACError.shapeMismatch("dictionary is \(bf.rows) × \(bf.cols), expected \(s.snapshotLength) × \(grid.count)")
        }
        let pts = grid.points
        let r = try SinglePrecisionSOMP.recover(
            dictionary: bf, observations: y, sparsity: p,
            exclude: exclusionCells == 0 ? nil : { grid.neighbours(of: $0, cells: exclusionCells) },
            gramColumn: closedFormGram(grid: grid, system: s),
            atom: { s.nearFieldWideband(rangeMeters: pts[$0].rangeMeters, angleRad: pts[$0].angleRad, normalized: true) })
        let k = Double(y.cols)
        return (LocalizationResult(estimates: r.support.map { pts[$0].target }, coefficientPower: r.rowEnergies.map { $0 / k },
                                   support: r.support), r.verifiedCandidates)
    }

    /// Off-grid refinement of CS estimates (an option on top of Algorithm 1, not part of it): each
    /// estimate is polished by a local continuous search in (r, α = cos θ) that maximizes the
    /// concentrated likelihood ‖P_A Y‖_F² of the exact WB-NF model (`OffGridRefinement`), within
    /// ±1.5 grid cells of its atom. Cell sizes: 2/N in α (the angle grid step) and the local ring gap
    /// on the atom's ray (capped at Δr = c/B) in r. α stays in the field of view [−½, ½].
    /// - Parameters: observation Y [N·M × K]; estimates (the SOMP atoms); grid they came from.
    /// - Returns: refined estimates, same order.
    public static func refineOffGrid(system s: WidebandSystem, observation y: Matrix<CDouble>, estimates: [PolarTarget],
                                     grid: AngleDistanceGrid) throws -> [PolarTarget] {
        guard y.rows == s.snapshotLength else { throw ISACError.shapeMismatch("observation has \(y.rows) rows, expected N·M = \(s.snapshotLength)") }
        guard !estimates.isEmpty else { return [] }
        let dr = s.rangeResolutionMeters
        // One common range scale: the smallest local ring gap among the estimates (capped at Δr).
        var rScale = dr
        for e in estimates {
            let rs = grid.rings(angleIndex: grid.nearestAngleIndex(angleRad: e.angleRad))
            if let i = rs.indices.min(by: { abs(rs[$0] - e.rangeMeters) < abs(rs[$1] - e.rangeMeters) }) {
                if i > 0 { rScale = Swift.min(rScale, rs[i - 1] - rs[i]) }
                if i + 1 < rs.count { rScale = Swift.min(rScale, rs[i] - rs[i + 1]) }
            }
        }
        rScale = Swift.max(rScale, 1e-3)
        let rMin = 1e-3
        let initial: [[Double]] = estimates.map { [$0.rangeMeters, Double.cos($0.angleRad)] }
        let scales: [Double] = [rScale, 2 / Double(s.antennas)]
        let clamp: ([Double]) -> [Double] = { v in [Swift.max(v[0], rMin), Swift.min(0.5, Swift.max(-0.5, v[1]))] }
        let steering: ([Double]) -> [CDouble] = { v in s.nearFieldWideband(rangeMeters: v[0], angleRad: Double.acos(v[1])) }
        // Tolerance 1e-6 cell (≈ 2.4 µm in range): far below the CRB standard deviation (1.6 mm at 5 m,
        // 0 dB), so the result is not quantized to the search lattice around the starting atom.
        // Basin screen (issue 17, the 2 m failure of Fig. 8): before the polish, each estimate starts from the
        // best point of a lattice of ±1 range cell in quarter cells × ±5 angle cells in half cells (9 × 21
        // objective evaluations) around its atom (±3 angle cells left 3 of 100 trials at 2 m stuck: SOMP's atom
        // can lie more than 3 angle cells off there). Where the grid has no atom coherent with the target (at 2 m
        // the two nearest rings, 0.96 m and 3.40 m, reach |bᴴa| ≤ 0.26 for the paper grid), SOMP's atom lies up
        // to ≈ 2.2 angle cells and 0.6 ring cells away, on a side lobe of the concentrated likelihood, and the
        // compass search from it stops on that side lobe.
        let (par, _) = try OffGridRefinement.refine(observations: y, initial: initial, scales: scales,
                                                    options: OffGridRefinement.Options(tolerance: 1e-6, screenHalfWidth: [1, 5],
                                                                                       screenStep: [0.25, 0.5]),
                                                    clamp: clamp, steering: steering)
        return par.map { PolarTarget(rangeMeters: $0[0], angleRad: Double.acos($0[1])) }
    }

    /// NB-NF MUSIC spectrum (eqs. 37–40). Each subcarrier block Y_m ([N × K]) is treated as K more
    /// narrowband snapshots: R = (1/MK) Σ_m Y_m Y_mᴴ, which is Z Zᴴ/(MK) for the [N × MK] reshape Z of Y
    /// (column-major NM-vectors stack subcarriers). Scanning vector: exp(−j k_c r_n) (eq. 39).
    public static func narrowbandNearFieldSpectrum(system s: WidebandSystem, observation y: Matrix<CDouble>, targets p: Int,
                                                   grid: ScanGrid) throws -> MUSICSpectrum {
        try checkTargets(p, s)
        guard y.rows == s.snapshotLength else { throw ISACError.shapeMismatch("observation has \(y.rows) rows, expected N·M = \(s.snapshotLength)") }
        let us = try narrowbandSubspace(system: s, observation: y, targets: p)
        return narrowbandNearFieldSpectrum(system: s, signalSubspace: us, grid: grid)
    }

    /// NB-NF signal subspace: the P leading eigenvectors of R = (1/MK) Σ_m Y_m Y_mᴴ (eq. 37), [N × P].
    static func narrowbandSubspace(system s: WidebandSystem, observation y: Matrix<CDouble>, targets p: Int) throws -> Matrix<CDouble> {
        let n = s.antennas
        let z = y.reshaped(rows: n, cols: s.subcarriers * y.cols)
        var r = Matrix<CDouble>(rows: n, cols: n)
        Matrix.gemm(.none, z, .conjugateTranspose, z, alpha: CDouble(1 / Double(z.cols), 0), into: &r)
        return try MUSIC.signalSubspace(covariance: r, rank: p)
    }

    /// NB-NF pseudo-spectrum (eq. 40) on `grid` for a given signal subspace U_s [N × P].
    ///
    /// The steering block A[i, j] = e^{−jk r_{ij}}, r_{ij} = √(r_j² + x_i² − 2 r_j x_i cos θ) [N × Q_r] per angle takes
    /// its phases from `VectorSinCos` (vectorized, ≤ 2 ulp vs libm; the spectrum moves in the last bits only);
    /// `libmPhases` selects glibc `sincos` instead (the previous, bit-reproducible path; tests compare the two).
    static func narrowbandNearFieldSpectrum(system s: WidebandSystem, signalSubspace us: Matrix<CDouble>, grid: ScanGrid,
                                            libmPhases: Bool = false) -> MUSICSpectrum {
        let n = s.antennas, p = us.cols
        let nr = grid.rangesMeters.count, nt = grid.anglesRad.count
        var values = [[Double]](repeating: [], count: nt)
        // One GEMM per angle: U_sᴴ [N × nr].
        let k = s.carrierWavenumber
        let offs = s.elementOffsetsMeters
        var out = [[Double]](repeating: [], count: nt)
        out.withUnsafeMutableBufferPointer { po in
            let so = SendableMutablePointer(po.baseAddress!)
            ThreadCount.concurrentPerform(iterations: nt) { t in
                let c = Double.cos(grid.anglesRad[t])
                var a = Matrix<CDouble>(rows: n, cols: nr)
                if libmPhases {
                    LibmSinCos.withEvaluator { sc in
                        offs.withUnsafeBufferPointer { px in
                            grid.rangesMeters.withUnsafeBufferPointer { pr in
                                a.data.withUnsafeMutableBufferPointer { pa in
                                    for j in 0..<nr {
                                        let rr = pr[j], col = pa.baseAddress! + j * n
                                        for i in 0..<n {
                                            let x = px[i]
                                            let v = sc(-k * (rr * rr + x * x - 2 * rr * x * c).squareRoot())
                                            col[i] = CDouble(v.cos, v.sin)
                                        }
                                    }
                                }
                            }
                        }
                    }
                } else {
                    // Phases of the whole block first (the sqrt loop vectorizes), then one vector sincos pass,
                    // then the interleave into complex entries. Same phase expression as the libm path.
                    let cnt = n * nr
                    let buf = UnsafeMutablePointer<Double>.allocate(capacity: 3 * Swift.max(cnt, 1))
                    defer { buf.deallocate() }
                    let ph = buf, sn = buf + cnt, cs = buf + 2 * cnt
                    offs.withUnsafeBufferPointer { px in
                        grid.rangesMeters.withUnsafeBufferPointer { pr in
                            for j in 0..<nr {
                                let rr = pr[j], col = ph + j * n
                                for i in 0..<n {
                                    let x = px[i]
                                    col[i] = -k * (rr * rr + x * x - 2 * rr * x * c).squareRoot()
                                }
                            }
                        }
                    }
                    VectorSinCos.sinCos(ph, count: cnt, sin: sn, cos: cs)
                    a.data.withUnsafeMutableBufferPointer { pa in
                        for e in 0..<cnt { pa[e] = CDouble(cs[e], sn[e]) }
                    }
                }
                var proj = Matrix<CDouble>(rows: p, cols: nr)
                Matrix.gemm(.conjugateTranspose, us, .none, a, into: &proj)
                so.pointer[t] = MUSIC.spectrum(projections: proj, steeringNormSquared: Double(n))
            }
        }
        values = out
        return MUSICSpectrum(grid: grid, values: values)
    }

    /// WB-FF MUSIC spectrum (eqs. 50–53) without the NM × NM covariance.
    ///
    /// U_s = the P leading left singular vectors of Y (thin SVD, [NM × P]) spans the same signal
    /// subspace as the covariance R_y = YYᴴ/K, and aᴴU_nU_nᴴa = ‖a‖² − ‖U_sᴴa‖² with ‖a‖² = NM.
    /// The planar steering vector factorizes, a[n + mN] = e^{−jk_m r}·e^{jk_m δ_n d α}, so
    /// U_sᴴ a = Σ_m e^{−jk_m r} W_α[m], W_α[m] = Σ_n conj(U_s[n + mN]) e^{jk_m δ_n d α}. Both sums are
    /// GEMMs: per subcarrier U_{s,m}ᴴ E_m ([P × N]·[N × Q_θ]), then [Q_θ P × M]·[M × Q_r].
    /// Cost O(P M (N Q_θ + Q_θ Q_r)) instead of O(P N M Q_θ Q_r).
    public static func widebandFarFieldSpectrum(system s: WidebandSystem, observation y: Matrix<CDouble>, targets p: Int,
                                                grid: ScanGrid) throws -> MUSICSpectrum {
        try checkTargets(p, s)
        guard y.rows == s.snapshotLength else { throw ISACError.shapeMismatch("observation has \(y.rows) rows, expected N·M = \(s.snapshotLength)") }
        guard y.cols >= p else {
            throw ISACError.invalidParameter(name: "--snapshots", value: "\(y.cols)", valid: "WB-FF MUSIC needs at least as many snapshots as targets (\(p))")
        }
        let us = try MUSIC.signalSubspace(data: y, rank: p)
        return widebandFarFieldSpectrum(system: s, signalSubspace: us, grid: grid)
    }

    /// WB-FF pseudo-spectrum (eq. 53) on `grid` for a given signal subspace U_s [N·M × P].
    static func widebandFarFieldSpectrum(system s: WidebandSystem, signalSubspace us: Matrix<CDouble>, grid: ScanGrid) -> MUSICSpectrum {
        let p = us.cols
        let n = s.antennas, m = s.subcarriers
        let nt = grid.anglesRad.count, nr = grid.rangesMeters.count
        let ks = s.wavenumbers, offs = s.elementOffsetsMeters
        let alphas = grid.anglesRad.map { Double.cos($0) }
        let mirrored = LibmSinCos.isOddEven && (0..<n).allSatisfy { offs[n - 1 - $0] == -offs[$0] }
        // W: rows (t, p) → index p + t·P, columns m.   W[(p,t), m] = Σ_n conj(U[n+mN, p]) e^{j k_m x_n α_t}
        var w = Matrix<CDouble>(rows: p * nt, cols: m)
        w.data.withUnsafeMutableBufferPointer { pw in
            let sw = SendableMutablePointer(pw.baseAddress!)
            let chunks = Swift.min(m, 32)
            ThreadCount.concurrentPerform(iterations: chunks) { c in
                var e = Matrix<CDouble>(rows: n, cols: nt)
                var um = Matrix<CDouble>(rows: n, cols: p)
                var res = Matrix<CDouble>(rows: p, cols: nt)
                for mi in (c * m / chunks)..<((c + 1) * m / chunks) {
                    for pp in 0..<p { for i in 0..<n { um.data[i + pp * n] = us.data[i + mi * n + pp * us.rows] } }
                    LibmSinCos.withEvaluator { sc in
                        e.data.withUnsafeMutableBufferPointer { pe in
                            for t in 0..<nt {
                                let col = pe.baseAddress! + t * n
                                if mirrored {
                                    // x_{N−1−i} = −x_i exactly, so the phase is exactly negated and
                                    // (sin, cos) of it is (−sin, cos) bit for bit (glibc's sin is odd and
                                    // cos even exactly): half the sincos calls, the same values.
                                    for i in 0..<(n / 2) {
                                        let v = sc(ks[mi] * offs[i] * alphas[t])
                                        col[i] = CDouble(v.cos, v.sin)
                                        col[n - 1 - i] = CDouble(v.cos, -v.sin)
                                    }
                                    if n % 2 == 1 {
                                        let v = sc(ks[mi] * offs[n / 2] * alphas[t])
                                        col[n / 2] = CDouble(v.cos, v.sin)
                                    }
                                } else {
                                    for i in 0..<n {
                                        let v = sc(ks[mi] * offs[i] * alphas[t])
                                        col[i] = CDouble(v.cos, v.sin)
                                    }
                                }
                            }
                        }
                    }
                    Matrix.gemm(.conjugateTranspose, um, .none, e, into: &res)
                    for t in 0..<nt { for pp in 0..<p { sw.pointer[pp + t * p + mi * p * nt] = res.data[pp + t * p] } }
                }
            }
        }
        // F[m, r] = e^{−j k_m r}
        var f = Matrix<CDouble>(rows: m, cols: nr)
        LibmSinCos.withEvaluator { sc in
            for (j, rr) in grid.rangesMeters.enumerated() { for mi in 0..<m {
                let v = sc(-ks[mi] * rr)
                f.data[mi + j * m] = CDouble(v.cos, v.sin)
            } }
        }
        let proj = Matrix.matmul(w, f)                         // [(P·Q_θ) × Q_r]
        let norm2 = Double(n * m)
        var values = [[Double]](repeating: [Double](repeating: 0, count: nr), count: nt)
        for t in 0..<nt { for j in 0..<nr {
            var ps = 0.0
            for pp in 0..<p { ps += proj.data[pp + t * p + j * proj.rows].absSquared }
            values[t][j] = 1 / Swift.max(norm2 - ps, norm2 * 1e-14)
        } }
        return MUSICSpectrum(grid: grid, values: values)
    }

    /// MUSIC localization (NB-NF or WB-FF): spectrum on the `coarse` grid, its P strongest local
    /// maxima, then each maximum refined on a local (2·refine+1)² grid spanning ± one coarse step
    /// (the subspace is computed once). `refine = 0` returns the coarse peaks.
    /// - Returns: P estimates (fewer if the coarse spectrum has fewer local maxima).
    /// `levels` > 1 repeats the local refinement around the previous best, each level spanning ± one
    /// step of the previous one (resolution coarse step / (refine^levels)).
    public static func musicEstimate(method: LocalizationMethod, system s: WidebandSystem, observation y: Matrix<CDouble>,
                                     targets p: Int, coarse: ScanGrid, refine: Int = 8, levels: Int = 1) throws -> [PolarTarget] {
        try checkTargets(p, s)
        guard y.rows == s.snapshotLength else { throw ISACError.shapeMismatch("observation has \(y.rows) rows, expected N·M = \(s.snapshotLength)") }
        try Check.inRange(refine, 0, 1000, "refine")
        let spectrum: (ScanGrid) -> MUSICSpectrum
        switch method {
        case .cs:
            throw ISACError.invalidParameter(name: "--method", value: "cs", valid: "MUSIC estimate needs nbnf-music or wbff-music")
        case .nbnfMusic:
            let us = try narrowbandSubspace(system: s, observation: y, targets: p)
            spectrum = { narrowbandNearFieldSpectrum(system: s, signalSubspace: us, grid: $0) }
        case .wbffMusic:
            guard y.cols >= p else {
                throw ISACError.invalidParameter(name: "--snapshots", value: "\(y.cols)", valid: "WB-FF MUSIC needs at least as many snapshots as targets (\(p))")
            }
            let us = try MUSIC.signalSubspace(data: y, rank: p)
            spectrum = { widebandFarFieldSpectrum(system: s, signalSubspace: us, grid: $0) }
        }
        let peaks = spectrum(coarse).peaks(p)
        guard refine > 0 else { return peaks }
        let rs = coarse.rangesMeters, ts = coarse.anglesRad
        let dr = rs.count > 1 ? (rs.last! - rs.first!) / Double(rs.count - 1) : 0
        let dt = ts.count > 1 ? (ts.last! - ts.first!) / Double(ts.count - 1) : 0
        try Check.inRange(levels, 1, 10, "levels")
        return peaks.map { pk in
            var best = pk
            var dr = dr, dt = dt
            for _ in 0..<levels {
                let r0 = Swift.max(best.rangeMeters - dr, Swift.min(rs.first!, best.rangeMeters)), r1 = best.rangeMeters + dr
                let t0 = Swift.max(best.angleRad - dt, ts.first!), t1 = Swift.min(best.angleRad + dt, ts.last!)
                let nrr = r1 > r0 ? 2 * refine + 1 : 1, ntt = t1 > t0 ? 2 * refine + 1 : 1
                let g = ScanGrid(rangesMeters: (0..<nrr).map { nrr == 1 ? r0 : r0 + (r1 - r0) * Double($0) / Double(nrr - 1) },
                                 anglesRad: (0..<ntt).map { ntt == 1 ? t0 : t0 + (t1 - t0) * Double($0) / Double(ntt - 1) })
                let v = spectrum(g).values
                var bi = (0, 0), bv = -Double.infinity
                for i in v.indices { for j in v[i].indices where v[i][j] > bv { bv = v[i][j]; bi = (i, j) } }
                best = PolarTarget(rangeMeters: g.rangesMeters[bi.1], angleRad: g.anglesRad[bi.0])
                dr /= Double(refine); dt /= Double(refine)
            }
            return best
        }
    }

    static func checkTargets(_ p: Int, _ s: WidebandSystem) throws {
        try Check.positive(p, "--targets")
        guard p < s.antennas else {
            throw ISACError.invalidParameter(name: "--targets", value: "\(p)",
                                             valid: "must be fewer than the number of antennas (\(s.antennas))")
        }
    }
}

/// Localization error metrics.
public enum LocalizationError {
    /// Matches estimates to truths (minimum total squared Cartesian error; exhaustive for P ≤ 7,
    /// greedy otherwise) and returns the estimate assigned to each truth (nil when missing).
    public static func match(truth: [PolarTarget], estimates: [PolarTarget]) -> [PolarTarget?] {
        func d2(_ a: PolarTarget, _ b: PolarTarget) -> Double {
            let (x1, z1) = a.cartesian, (x2, z2) = b.cartesian
            return (x1 - x2) * (x1 - x2) + (z1 - z2) * (z1 - z2)
        }
        let p = truth.count
        if estimates.isEmpty { return [PolarTarget?](repeating: nil, count: p) }
        if p <= 7 && estimates.count <= 7 {
            var best = Double.infinity
            var bestAssign = [Int](repeating: -1, count: p)
            var used = [Bool](repeating: false, count: estimates.count)
            var cur = [Int](repeating: -1, count: p)
            func rec(_ i: Int, _ acc: Double) {
                if acc >= best { return }
                if i == p { best = acc; bestAssign = cur; return }
                var any = false
                for j in estimates.indices where !used[j] {
                    any = true
                    used[j] = true; cur[i] = j
                    rec(i + 1, acc + d2(truth[i], estimates[j]))
                    used[j] = false
                }
                if !any { cur[i] = -1; rec(i + 1, acc + 1e30) }
            }
            rec(0, 0)
            return bestAssign.map { $0 >= 0 ? estimates[$0] : nil }
        }
        var used = Set<Int>()
        return truth.map { t in
            let j = estimates.indices.filter { !used.contains($0) }.min { d2(t, estimates[$0]) < d2(t, estimates[$1]) }
            if let j { used.insert(j); return estimates[j] }
            return nil
        }
    }

    /// Normalized squared position error Σ_p ‖x̂_p − x_p‖² / Σ_p ‖x_p‖² (Cartesian; an unmatched
    /// truth counts as ‖x_p‖², i.e. an estimate at the origin).
    public static func nmse(truth: [PolarTarget], estimates: [PolarTarget]) -> Double {
        let m = match(truth: truth, estimates: estimates)
        var num = 0.0, den = 0.0
        for (t, e) in zip(truth, m) {
            let (x, z) = t.cartesian
            den += x * x + z * z
            if let e {
                let (xe, ze) = e.cartesian
                num += (xe - x) * (xe - x) + (ze - z) * (ze - z)
            } else { num += x * x + z * z }
        }
        return num / den
    }
}
