import Foundation
import Linalg
import Numerics

/// Angle-distance sampling grids for the WB-NF sparse dictionary (paper Sec. III, Table I).
public enum GridKind: String, Sendable, CaseIterable, Codable {
    /// The paper's hybrid grid exactly as Algorithm 1 / eq. 28 state it: outside-in from r_max,
    /// ideal Fresnel ring r̃_l = G_Δ(1−α²)/l (l from ⌈G_Δ(1−α²)/r_max⌉, +1 per ring), and the
    /// ring placed at r'_l = r'_{l−1} − k_l Δr with k_l = ⌈(r'_{l−1} − r̃_l)/Δr⌉ (at least 1), stop
    /// when r'_l < r_min. r_max itself is not an atom. Yields no atom at the paper's Δ = 0.1.
    case hybrid
    /// The earlier reading of eq. 28 (kept under its own name): outside-in from r_max (an atom), the
    /// next ring is the closer of one Δr step and the Fresnel ring 1/r̃ = 1/r_prev + 1/(G_Δ(1−α²)).
    case hybridMin = "hybrid-min"
    /// Traditional uniform distance grid with a fixed fine step ε on every angular ray.
    case uniform
    /// Pure Fresnel ("polar-domain", ref. [27]) rings r = G_Δ(1−α²)/l on every angular ray.
    case polar
}

/// One dictionary atom location.
public struct GridPoint: Sendable, Equatable {
    /// Direction cosine α = cos θ.
    public var alpha: Double
    /// Range r, m.
    public var rangeMeters: Double
    /// Index of α in `AngleDistanceGrid.alphas`.
    public var angleIndex: Int
    public var angleRad: Double { Double.acos(alpha) }
    /// The grid point as a `PolarTarget` (range m, angle rad).
    public var target: PolarTarget { PolarTarget(rangeMeters: rangeMeters, angleRad: angleRad) }
}

/// Parameters of a grid. Defaults are the paper's choices where it states them (Δ = 0.1) and
/// documented choices otherwise (docs/wideband.md).
public struct GridOptions: Sendable, Equatable {
    /// Fresnel coherence threshold Δ ∈ (0, 1) (`--delta`).
    public var delta: Double = 0.1
    /// Inner (near-field) range limit r_min, m. nil → 0.5 m.
    public var minRangeMeters: Double? = nil
    /// Outer (far-field) range limit r_max, m. nil → the Rayleigh distance 2D²/λ_c.
    public var maxRangeMeters: Double? = nil
    /// Step ε of the uniform grid, m.
    public var uniformStepMeters: Double = 0.5
    /// Memberwise initializer; defaults: δ = 0.1, r_min/r_max nil, ε = 0.5 m.
    public init(delta: Double = 0.1, minRangeMeters: Double? = nil, maxRangeMeters: Double? = nil,
                uniformStepMeters: Double = 0.5) {
        self.delta = delta; self.minRangeMeters = minRangeMeters; self.maxRangeMeters = maxRangeMeters
        self.uniformStepMeters = uniformStepMeters
    }
}

/// A sampled angle-distance grid; atom q of the dictionary sits at `points[q]`.
public struct AngleDistanceGrid: Sendable {
    /// Which grid construction produced these points.
    public var kind: GridKind
    /// Angular grid α_n = −1/2 + (2n+1)/N, n = 0..<⌊N/2⌋ (eq. 20): spacing 2/N, the null spacing
    /// of the half-wavelength array factor, over the field of view α ∈ [−1/2, 1/2].
    public var alphas: [Double]
    public var points: [GridPoint]
    /// ζ_Δ and G_Δ used for the Fresnel rings (m).
    public var zeta: Double, ringScaleMeters: Double
    public var minRangeMeters: Double, maxRangeMeters: Double

    /// Ring radii (m, outermost first) of one angular ray for `kind`.
    ///
    /// - Parameters: scale = G_Δ(1 − α²) (m); rMin < rMax (m); dr = Δr = c/B (m); uniformStep ε (m).
    /// - `.hybrid`: Algorithm 1 lines 4–13 verbatim, except that k_l is floored at 1 (eq. 28 states
    ///   k_l ∈ ℤ≥1; with k_l = 0 the recursion would repeat r'_{l−1}).
    /// - `.hybridMin`: r_max, then r ← max(r − Δr, 1/(1/r + 1/scale)) while r ≥ r_min.
    /// - `.uniform`: r_max, r_max − ε, … ≥ r_min. `.polar`: r_max (l = 0) and scale/l ∈ [r_min, r_max).
    public static func ringRadii(_ kind: GridKind, scale: Double, rMin: Double, rMax: Double, dr: Double,
                                 uniformStep: Double) -> [Double] {
        var rings: [Double] = []
        switch kind {
        case .hybrid:
            var rPrev = rMax
            var l = Swift.max(1, Int((scale / rMax).rounded(.up)))
            while true {
                let ideal = scale / Double(l)
                let k = Swift.max(1, Int(((rPrev - ideal) / dr).rounded(.up)))
                let r = rPrev - Double(k) * dr
                if r < rMin { break }
                rings.append(r)
                rPrev = r; l += 1
            }
        case .hybridMin:
            var r = rMax
            while r >= rMin {
                rings.append(r)
                let fresnelNext = 1 / (1 / r + 1 / scale)
                r = Swift.max(r - dr, fresnelNext)
            }
        case .uniform:
            var r = rMax
            while r >= rMin { rings.append(r); r -= uniformStep }
        case .polar:
            rings.append(rMax)                    // l = 0: the far-field ring, placed at r_max
            var l = Swift.max(1, Int((scale / rMax).rounded(.up)))
            while scale / Double(l) >= rMin {
                let r = scale / Double(l)
                if r < rMax { rings.append(r) }
                l += 1
            }
        }
        return rings
    }

    /// Upper bound on the rings per ray of `kind` (for the up-front memory check).
    static func ringBound(_ kind: GridKind, scale: Double, rMin: Double, rMax: Double, dr: Double, uniformStep: Double) -> Double {
        switch kind {
        case .hybrid: return (rMax - rMin) / dr + 2                       // every step ≥ Δr
        case .hybridMin: return (rMax - rMin) / dr + scale / rMin + 2     // Δr steps + Fresnel rings
        case .uniform: return (rMax - rMin) / uniformStep + 2
        case .polar: return scale / rMin + 2
        }
    }

    /// Builds the grid of `kind` for `system` (see `ringRadii` for the ring rules; docs/wideband.md).
    /// The number of atoms is bounded before anything is allocated: a grid that would not fit in
    /// the available memory (`MemoryBudget`) is rejected naming the flag that sizes it.
    public static func make(_ kind: GridKind, system s: WidebandSystem, options o: GridOptions = GridOptions()) throws -> AngleDistanceGrid {
        let zeta = try FresnelCoherence.threshold(delta: o.delta)
        let g = FresnelCoherence.ringScale(system: s, zeta: zeta)
        let rMax = o.maxRangeMeters ?? s.rayleighDistanceMeters
        let rMin = o.minRangeMeters ?? 0.5
        try Check.positive(rMin, "--r-min")
        try Check.positive(rMax, "--r-max")
        guard rMin < rMax else {
            throw ISACError.invalidParameter(name: "--r-min", value: "\(rMin)", valid: "must be below r_max = \(rMax) m")
        }
        try Check.positive(o.uniformStepMeters, "--step-m")
        let nAng = s.antennas / 2
        let alphas = (0..<nAng).map { -0.5 + Double(2 * $0 + 1) / Double(s.antennas) }
        let dr = s.rangeResolutionMeters
        // Atoms ≤ Q_θ · (rings per ray at the widest ray, α ≈ 0); each atom later costs a
        // GridPoint (32 B) here and a dictionary column (16·N·M B) if the dictionary is built.
        let bound = Double(nAng) * ringBound(kind, scale: g, rMin: rMin, rMax: rMax, dr: dr, uniformStep: o.uniformStepMeters)
        let flag: String, value: String
        switch kind {
        case .uniform where o.uniformStepMeters < 0.5: flag = "--step-m"; value = "\(o.uniformStepMeters)"
        case .polar: flag = "--r-min"; value = "\(rMin)"
        default: flag = "--r-max"; value = "\(rMax)"
        }
        try MemoryBudget.check(bytes: bound * Double(MemoryLayout<GridPoint>.stride * 2), what: "the \(kind.rawValue) grid (≤ \(String(format: "%.3g", bound)) atoms)",
                               flag: flag, value: value)
        var pts: [GridPoint] = []
        for (ai, a) in alphas.enumerated() {
            let rings = ringRadii(kind, scale: g * (1 - a * a), rMin: rMin, rMax: rMax, dr: dr, uniformStep: o.uniformStepMeters)
            for r in rings { pts.append(GridPoint(alpha: a, rangeMeters: r, angleIndex: ai)) }
        }
        return AngleDistanceGrid(kind: kind, alphas: alphas, points: pts, zeta: zeta, ringScaleMeters: g,
                                 minRangeMeters: rMin, maxRangeMeters: rMax)
    }

    /// Bytes of the dense dictionary of this grid for `system` (16·N·M·Q).
    public func dictionaryBytes(system s: WidebandSystem) -> Double {
        Double(s.snapshotLength) * Double(points.count) * Double(MemoryLayout<CDouble>.stride)
    }

    /// Throws unless the grid has at least one atom and its dense dictionary fits in memory.
    /// - Parameter flag: the CLI flag named in the error (the one that sizes the grid).
    public func checkDictionary(system s: WidebandSystem, flag: String = "--grid") throws {
        guard !points.isEmpty else {
            throw ISACError.invalidParameter(name: flag, value: kind.rawValue,
                valid: String(format: "this grid has no atom in [%.4g, %.4g] m (ζ_Δ = %.4g, G_Δ = %.4g m); use --grid hybrid-min, a larger --delta or a smaller --r-min", minRangeMeters, maxRangeMeters, zeta, ringScaleMeters))
        }
        try MemoryBudget.check(bytes: dictionaryBytes(system: s), what: "the \(points.count)-atom dictionary (16·N·M·Q bytes)",
                               flag: flag, value: kind.rawValue)
    }

    /// Number of atoms Q_θ·Q_r.
    public var count: Int { points.count }

    /// Atoms within `cells` grid steps of atom `q`: angle index within ±cells and range within
    /// ±cells × the larger ring gap next to q on its ray (+1 % slack), q included.
    public func neighbours(of q: Int, cells: Int) -> [Int] {
        let p = points[q]
        let rs = rings(angleIndex: p.angleIndex)
        let i = rs.firstIndex(of: p.rangeMeters) ?? 0
        var gap = 0.0
        if i > 0 { gap = Swift.max(gap, rs[i - 1] - rs[i]) }
        if i + 1 < rs.count { gap = Swift.max(gap, rs[i] - rs[i + 1]) }
        let dr = Double(cells) * gap * 1.01
        return points.indices.filter {
            abs(points[$0].angleIndex - p.angleIndex) <= cells && abs(points[$0].rangeMeters - p.rangeMeters) <= dr
        }
    }

    /// Ring ranges (m) on angular ray `angleIndex`, outermost first.
    public func rings(angleIndex ai: Int) -> [Double] {
        points.filter { $0.angleIndex == ai }.map(\.rangeMeters)
    }

    /// Index of the grid angle nearest to θ (nearest in α = cos θ).
    public func nearestAngleIndex(angleRad th: Double) -> Int {
        let a = Double.cos(th)
        return alphas.indices.min { abs(alphas[$0] - a) < abs(alphas[$1] - a) } ?? 0
    }

    /// How many grid cells separate an estimate from the truth: |Δ angle index| and |Δ ring index|,
    /// both measured on the truth's ray (the estimate's ring is snapped to the nearest ring of that
    /// ray, so rays with different Fresnel rings compare consistently). (0, 0) = the nearest atom;
    /// "within one grid cell" = both ≤ 1.
    public func cellOffset(truth: PolarTarget, estimate: PolarTarget) -> (angle: Int, ring: Int) {
        let at = nearestAngleIndex(angleRad: truth.angleRad), ae = nearestAngleIndex(angleRad: estimate.angleRad)
        let rt = rings(angleIndex: at)
        func nearest(_ r: Double) -> Int { rt.indices.min { abs(rt[$0] - r) < abs(rt[$1] - r) } ?? 0 }
        return (abs(at - ae), abs(nearest(truth.rangeMeters) - nearest(estimate.rangeMeters)))
    }

    /// The unit-norm dictionary B ([N·M × Q], Algorithm 1 step 3): column q is the exact WB-NF
    /// steering vector (eq. 1 distances) of `points[q]` divided by √(NM).
    /// Built column by column in parallel (DispatchQueue.concurrentPerform); memory 16·N·M·Q bytes.
    public func dictionary(system s: WidebandSystem) -> Matrix<CDouble> {
        let l = s.snapshotLength, q = points.count
        var b = Matrix<CDouble>(rows: l, cols: q)
        let scale = 1 / Double(l).squareRoot()
        let pts = points
        b.data.withUnsafeMutableBufferPointer { pb in
            let base = SendableMutablePointer(pb.baseAddress!)
            Self.concurrentAtomChunks(q) { atoms in
                for j in atoms {
                    let p = pts[j]
                    s.fillSpaceFrequency(base.pointer + j * l,
                                         distances: s.elementDistances(rangeMeters: p.rangeMeters, angleRad: p.angleRad),
                                         scale: scale)
                }
            }
        }
        return b
    }

    /// Splits the atom indices 0..<count into ≤ 64 contiguous, disjoint ranges and runs `body` on them
    /// concurrently (DispatchQueue.concurrentPerform): the one column-parallel schedule of the dictionary
    /// builders (`dictionary`, `dictionarySingle`). `body` must write only the columns of its range.
    static func concurrentAtomChunks(_ count: Int, _ body: @Sendable (Range<Int>) -> Void) {
        let chunks = Swift.max(1, Swift.min(count, 64))
        ThreadCount.concurrentPerform(iterations: chunks) { c in body((c * count / chunks)..<((c + 1) * count / chunks)) }
    }
}

// Pointers shared by the concurrentPerform loops below: `Linalg.SendableMutablePointer` (disjoint writes).

// MARK: - Mutual coherence

/// Mutual coherence of WB-NF atoms (eq. 12) without forming the dictionary.
///
/// For unit-norm atoms the inner product factorizes over subcarriers:
/// a_iᴴ a_j = (1/NM) Σ_n e^{j k_0 Δ_n} Σ_m e^{j mΔk Δ_n}, Δ_n = r_{i,n} − r_{j,n}, and the inner sum is
/// a closed-form geometric series — O(N) per pair instead of O(NM).
public enum DictionaryCoherence {
    /// |a_iᴴ a_j| for two grid points.
    public static func pair(system s: WidebandSystem, _ p: PolarTarget, _ q: PolarTarget) -> Double {
        let a = s.elementDistances(rangeMeters: p.rangeMeters, angleRad: p.angleRad)
        let b = s.elementDistances(rangeMeters: q.rangeMeters, angleRad: q.angleRad)
        return pair(system: s, a, b)
    }

    @inlinable
    static func pair(system s: WidebandSystem, _ a: [Double], _ b: [Double]) -> Double {
        let k0 = s.carrierWavenumber, dk = s.wavenumberStep, m = Double(s.subcarriers)
        var re = 0.0, im = 0.0
        for n in 0..<a.count {
            let d = a[n] - b[n]
            let half = dk * d / 2
            let den = Double.sin(half)
            let mag: Double = abs(den) < 1e-12 ? m : Double.sin(m * half) / den
            let ph = k0 * d + (m - 1) * half
            re += mag * Double.cos(ph); im += mag * Double.sin(ph)
        }
        return (re * re + im * im).squareRoot() / (Double(a.count) * m)
    }

    /// Complex Gram column of unit-norm WB-NF atoms: entry j = b_jᴴ b_q
    /// = (1/NM) Σ_n e^{j k_0 Δ_n} e^{j(M−1)Δk Δ_n/2} sin(MΔkΔ_n/2)/sin(ΔkΔ_n/2), Δ_n = r_{j,n} − r_{q,n}.
    /// - Parameters: distances [Q][N] element distances of every atom (eq. 1); column q.
    /// - Returns: [Q].
    public static func gramColumn(system s: WidebandSystem, distances: [[Double]], column q: Int) -> [CDouble] {
        let n = distances.first?.count ?? 0
        return gramColumn(system: s, flatDistances: distances.flatMap { $0 }, antennas: n, column: q)
    }

    /// Same as `gramColumn(system:distances:column:)` with the distances stored flat, atom j at
    /// `flatDistances[j·N ..< (j+1)·N]` ([Q·N]); the Q atoms are split over threads
    /// (DispatchQueue.concurrentPerform) and nothing is allocated per atom.
    public static func gramColumn(system s: WidebandSystem, flatDistances d: [Double], antennas n: Int, column q: Int) -> [CDouble] {
        let k0 = s.carrierWavenumber, dk = s.wavenumberStep, m = Double(s.subcarriers)
        let count = n > 0 ? d.count / n : 0
        let norm = 1 / (Double(n) * m)
        var out = [CDouble](repeating: .zero, count: count)
        d.withUnsafeBufferPointer { pd in
            out.withUnsafeMutableBufferPointer { po in
                let so = SendableMutablePointer(po.baseAddress!)
                let sd = SendableMutablePointer(UnsafeMutablePointer(mutating: pd.baseAddress!))
                let chunks = Swift.max(1, Swift.min(count, 16))
                ThreadCount.concurrentPerform(iterations: chunks) { c in
                    let base = sd.pointer, bq = sd.pointer + q * n
                    LibmSinCos.withEvaluator { sc in
                        for j in (c * count / chunks)..<((c + 1) * count / chunks) {
                            let a = base + j * n
                            var re = 0.0, im = 0.0
                            for i in 0..<n {
                                let dd = a[i] - bq[i]
                                let half = dk * dd / 2
                                let den = Double.sin(half)
                                let mag: Double = abs(den) < 1e-12 ? m : Double.sin(m * half) / den
                                let e = sc(k0 * dd + (m - 1) * half)
                                re += mag * e.cos; im += mag * e.sin
                            }
                            so.pointer[j] = CDouble(re * norm, im * norm)
                        }
                    }
                }
            }
        }
        return out
    }

    /// Exact global maximum coherence μ(B) = max_{i≠j} |a_iᴴ a_j| of a grid.
    ///
    /// Pairs with |r_i − r_j| ≤ W are evaluated exactly. For the others every |Δ_n| ≥ |r_i − r_j| − D
    /// (triangle inequality, D ≥ 2 max|δ_n d|), so |a_iᴴ a_j| ≤ 1/(M |sin(Δk(|r_i − r_j| − D)/2)|)
    /// while Δk|Δ_n| < π. W starts at D + 3c/B and is doubled until that bound is below the
    /// measured maximum, which makes the result exact (not a neighbour-only estimate).
    /// - Returns: (maximum, the pair of atom indices attaining it, pairs evaluated).
    public static func maximum(grid: AngleDistanceGrid, system s: WidebandSystem) -> (value: Double, pair: (Int, Int), evaluated: Int) {
        let pts = grid.points
        let q = pts.count
        guard q >= 2 else { return (0, (0, 0), 0) }
        let order = pts.indices.sorted { pts[$0].rangeMeters < pts[$1].rangeMeters }
        let ranges = order.map { pts[$0].rangeMeters }
        let dist = order.map { s.elementDistances(rangeMeters: pts[$0].rangeMeters, angleRad: pts[$0].angleRad) }
        let d = s.apertureMeters, dk = s.wavenumberStep, m = Double(s.subcarriers)
        var window = d + 3 * s.rangeResolutionMeters
        var doneWindow = 0.0
        var best = 0.0, bestPair = (0, 1), evaluated = 0
        while true {
            let lo = doneWindow, hi = window
            let chunks = Swift.min(q, 256)
            var vals = [Double](repeating: 0, count: chunks)
            var pairs = [(Int, Int)](repeating: (0, 1), count: chunks)
            var counts = [Int](repeating: 0, count: chunks)
            vals.withUnsafeMutableBufferPointer { pv in
            pairs.withUnsafeMutableBufferPointer { pp in
            counts.withUnsafeMutableBufferPointer { pc in
                let sv = SendableMutablePointer(pv.baseAddress!), sp = SendableMutablePointer(pp.baseAddress!), sc = SendableMutablePointer(pc.baseAddress!)
                ThreadCount.concurrentPerform(iterations: chunks) { c in
                    var lb = 0.0, lp = (0, 1), cnt = 0
                    for i in (c * q / chunks)..<((c + 1) * q / chunks) {
                        var j = i + 1
                        while j < q, ranges[j] - ranges[i] <= hi {
                            let gap = ranges[j] - ranges[i]
                            if gap > lo || lo == 0 {
                                let v = pair(system: s, dist[i], dist[j])
                                cnt += 1
                                if v > lb { lb = v; lp = (order[i], order[j]) }
                            }
                            j += 1
                        }
                    }
                    sv.pointer[c] = lb; sp.pointer[c] = lp; sc.pointer[c] = cnt
                }
            } } }
            for c in 0..<chunks {
                evaluated += counts[c]
                if vals[c] > best { best = vals[c]; bestPair = pairs[c] }
            }
            doneWindow = window
            let x = dk * (window - d) / 2
            let span = (ranges.last! - ranges.first!) + d
            let bound = x > 0 && dk * span < Double.pi ? 1 / (m * Double.sin(x)) : Double.infinity
            if bound <= best || window > ranges.last! - ranges.first! { break }
            window *= 2
        }
        return (best, bestPair, evaluated)
    }
}
