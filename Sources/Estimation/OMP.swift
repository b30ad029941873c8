import Foundation
import Linalg
import Numerics

// Orthogonal matching pursuit over a separable (Kronecker) dictionary: atoms a_i ρ_jᵀ, i.e. a 2-D
// angle × delay (or any two-axis) grid, with the observation a [K × S] matrix. Paper-agnostic; the
// multi-target ISAC target builds its dictionaries (`OMPDictionary.grid`) and thresholds on top.

/// Separable dictionary of OMP: angle atoms Φ_a [K × N_θ] and delay atoms Φ_d [S × N_τ] with their grids;
/// the 2-D atom (i, j) is the rank-one [K × S] matrix a_i ρ_jᵀ.
public struct OMPDictionary: Sendable {
    /// Φ_a = [a(θ_1) … a(θ_{N_θ})], shape [K × N_θ].
    public let angleAtoms: Matrix<CDouble>
    /// Φ_d = [ρ(τ_1) … ρ(τ_{N_τ})], shape [S × N_τ].
    public let delayAtoms: Matrix<CDouble>
    /// Φ_d* (element-wise conjugate), kept so the map is two plain GEMMs.
    public let conjugateDelayAtoms: Matrix<CDouble>
    /// θ_i, radians, length N_θ.
    public let anglesRad: [Double]
    /// τ_j, seconds, length N_τ.
    public let delaysSeconds: [Double]

    /// - Throws: shape mismatches between atoms and grids, or fewer than 1 atom.
    public init(angleAtoms: Matrix<CDouble>, anglesRad: [Double], delayAtoms: Matrix<CDouble>, delaysSeconds: [Double]) throws {
        guard angleAtoms.cols == anglesRad.count, angleAtoms.cols >= 1 else {
            throw ISACError.shapeMismatch("OMPDictionary: \(angleAtoms.cols) angle atoms vs \(anglesRad.count) angles")
        }
        guard delayAtoms.cols == delaysSeconds.count, delayAtoms.cols >= 1 else {
            throw ISACError.shapeMismatch("OMPDictionary: \(delayAtoms.cols) delay atoms vs \(delaysSeconds.count) delays")
        }
        self.angleAtoms = angleAtoms; self.anglesRad = anglesRad
        self.delayAtoms = delayAtoms; self.delaysSeconds = delaysSeconds
        var c = delayAtoms
        for i in c.data.indices { c.data[i] = c.data[i].conjugate }
        conjugateDelayAtoms = c
    }
}


/// Incremental state of separable OMP on one observation, exposed so that variants (the differentiable
/// OMP, with interpolated off-grid atoms) reuse the same residual-map bookkeeping.
///
/// The angle–delay map of the residual is 𝓛 = |Φ_aᴴ R Φ_d*|² (element-wise). Because the map
/// is linear in R and R = Ỹ − Σ_t α_t a_t ρ_tᵀ, its complex form is
///   C(R) = C(Ỹ) − Σ_t α_t (Φ_aᴴ a_t)(Φ_dᴴ ρ_t)ᵀ,
/// so only the first map costs two GEMMs (Ỹ Φ_d* then Φ_aᴴ·). The residual map is never materialised on the
/// hot path: `peak()` evaluates C(Ỹ)_{ij} − Σ_t (u_t α_t)_i (v_t)_j and its squared modulus in one fused pass over
/// C(Ỹ) (I complex multiply-adds per cell, no [N_θ × N_τ] copy or write), and `add` only refits the I gains
/// (`residualMap` builds the full map on request, for tests and windows). The LS refit (13)
/// uses the normal equations with Gram G_{tu} = (a_tᴴ a_u)(ρ_tᴴ ρ_u) and right-hand side
/// b_t = a_tᴴ Ỹ ρ_t* = C(Ỹ) evaluated at the atoms, all available from the same vectors.
public struct OMPState {
    /// The separable angle × delay dictionary the state was built on.
    public let dictionary: OMPDictionary
    /// C(Ỹ) = Φ_aᴴ Ỹ Φ_d*, shape [N_θ × N_τ].
    public private(set) var initialMap: Matrix<CDouble>
    /// C(Ỹ^{(I)}) = C(Ỹ) − U diag(α) Vᵀ of the current residual, shape [N_θ × N_τ]; built on each access
    /// (O(N_θ N_τ I)); `residualMapEntry` reads one cell.
    public var residualMap: Matrix<CDouble> {
        var m = initialMap
        let r = m.rows, n = gains.count
        guard n > 0 else { return m }
        for j in 0..<m.cols {
            for i in 0..<r { m.data[i + j * r] = residualMapEntry(i, j) }
        }
        return m
    }
    /// Selected angle atoms Ψ_a, shape [K × I].
    public private(set) var angleAtoms: [[CDouble]] = []
    /// Selected delay atoms Ψ_d, shape [S × I].
    public private(set) var delayAtoms: [[CDouble]] = []
    /// Current LS gains α̂ = G⁻¹ b (joint least squares over the selected atoms), length I.
    public private(set) var gains: [CDouble] = []
    /// Φ_aᴴ a_t per selected atom (columns), [N_θ × I]; Φ_dᴴ ρ_t per atom, [N_τ × I].
    private var u: [[CDouble]] = []
    private var v: [[CDouble]] = []
    /// a_tᴴ Ỹ ρ_t* per atom.
    private var rhs: [CDouble] = []
    private let observation: Matrix<CDouble>
    /// Split real/imaginary planes of the fused update: (u_t α_t)_i at `uaRe/uaIm[t * N_θ + i]`,
    /// (v_t)_j at `vRe/vIm[t * N_τ + j]`.
    private var uaRe: [Double] = [], uaIm: [Double] = []
    private var vRe: [Double] = [], vIm: [Double] = []
    /// The same (u_t α_t) interleaved for `peak()`: plane 2t holds (Re, Im) per angle cell, plane 2t+1 (−Im, Re);
    /// each plane 2 N_θ doubles.
    private var pq: [Double] = []

    /// - Parameter observation: Ỹ, shape [K × S] (in OFDM sensing: after reciprocal filtering).
    public init(observation y: Matrix<CDouble>, dictionary d: OMPDictionary) throws {
        guard y.rows == d.angleAtoms.rows, y.cols == d.delayAtoms.rows else {
            throw ISACError.shapeMismatch("OMP: observation is \(y.rows)x\(y.cols), dictionaries expect \(d.angleAtoms.rows)x\(d.delayAtoms.rows)")
        }
        dictionary = d
        observation = y
        var z = zeroMatrix(rows: y.rows, cols: d.delayAtoms.cols)
        Matrix.gemm(.none, y, .none, d.conjugateDelayAtoms, into: &z)                  // [K × N_τ]
        var c = zeroMatrix(rows: d.angleAtoms.cols, cols: d.delayAtoms.cols)
        Matrix.gemm(.conjugateTranspose, d.angleAtoms, .none, z, into: &c)             // [N_θ × N_τ]
        initialMap = c
    }

    /// Number of atoms selected so far (I).
    public var iterations: Int { gains.count }

    /// C(Ỹ^{(I)})_{ij}, one cell of the residual map (same arithmetic as `peak()`).
    public func residualMapEntry(_ i: Int, _ j: Int) -> CDouble {
        let r = initialMap.rows, c = initialMap.cols
        var re = initialMap[i, j].real, im = initialMap[i, j].imaginary
        for t in 0..<gains.count {
            let ar = uaRe[t * r + i], ai = uaIm[t * r + i], br = vRe[t * c + j], bi = vIm[t * c + j]
            re -= ar * br - ai * bi
            im -= ar * bi + ai * br
        }
        return CDouble(re, im)
    }

    /// arg max_{i,j} 𝓛_{i,j} of the current residual and the peak value max 𝓛 (first maximum in column-major
    /// order on ties). One fused pass: 𝓛_{ij} = |C(Ỹ)_{ij} − Σ_t (u_t α_t)_i (v_t)_j|², nothing written.
    ///
    /// Four cells at a time straight on the interleaved (re, im) storage of C(Ỹ): the update of a cell is
    /// c − (p_t b_re + q_t b_im) with p_t = (Re, Im)(u_t α_t)_i, q_t = (−Im, Re)(u_t α_t)_i and b = (v_t)_j, which is
    /// the scalar arithmetic of `residualMapEntry` bit for bit (the same products and sums, one sign folded
    /// into q and one commuted addition). Each column keeps only a running maximum per lane (`v > m ? v : m`, so
    /// NaN cells are skipped as by a scalar `>` scan); a column whose maximum beats the best so far (strict `>`, so
    /// earlier columns win ties) is evaluated again to find its first cell holding that value.
    public func peak() -> (angleIndex: Int, delayIndex: Int, value: Double) {
        let r = initialMap.rows, c = initialMap.cols, n = gains.count
        let blocks = r / 4
        var best = -1.0, bi = 0
        initialMap.data.withUnsafeBufferPointer { pc in
        pq.withUnsafeBufferPointer { ppq in
        vRe.withUnsafeBufferPointer { vr in vIm.withUnsafeBufferPointer { vi in
            let cm = UnsafeRawPointer(pc.baseAddress!)
            let pqp = UnsafeRawPointer(ppq.baseAddress ?? UnsafePointer(bitPattern: 16)!)
            let plane = 2 &* r &* MemoryLayout<Double>.stride            // bytes of one p_t (or q_t) plane
            // 𝓛 of the four cells i..<i+4 of column j.
            @inline(__always) func cells(_ i: Int, _ j: Int, _ col: Int) -> SIMD4<Double> {
                var x = cm.loadUnaligned(fromByteOffset: (col &+ i) &* 16, as: SIMD8<Double>.self)
                var t = 0
                while t < n {
                    let br = vr[t &* c &+ j], bim = vi[t &* c &+ j]
                    let p = pqp.loadUnaligned(fromByteOffset: 2 &* t &* plane &+ i &* 16, as: SIMD8<Double>.self)
                    let q = pqp.loadUnaligned(fromByteOffset: (2 &* t &+ 1) &* plane &+ i &* 16, as: SIMD8<Double>.self)
                    x = x - (p * br + q * bim)
                    t &+= 1
                }
                let sq = x * x
                return sq.evenHalf + sq.oddHalf
            }
            for j in 0..<c {
                let col = j &* r
                var m4 = SIMD4<Double>(repeating: -1)
                var blk = 0
                while blk < blocks {
                    let v = cells(blk &* 4, j, col)
                    m4.replace(with: v, where: v .> m4)
                    blk &+= 1
                }
                var m = -1.0
                for l in 0..<4 where m4[l] > m { m = m4[l] }
                for i in (blocks * 4)..<r {
                    let v = residualMapModulusSquared(i, j)
                    if v > m { m = v }
                }
                guard m > best else { continue }
                // First cell of column j holding m (the same values, recomputed).
                var found = -1
                blk = 0
                while blk < blocks && found < 0 {
                    let v = cells(blk &* 4, j, col)
                    for l in 0..<4 where v[l] == m { found = blk &* 4 &+ l; break }
                    blk &+= 1
                }
                if found < 0 {
                    for i in (blocks * 4)..<r where residualMapModulusSquared(i, j) == m { found = i; break }
                }
                best = m; bi = col &+ found
            }
        } }
        } }
        return (bi % r, bi / r, best)
    }

    /// |C(Ỹ^{(I)})_{ij}|² with the arithmetic of `peak()`.
    private func residualMapModulusSquared(_ i: Int, _ j: Int) -> Double {
        let e = residualMapEntry(i, j)
        return e.real * e.real + e.imaginary * e.imaginary
    }

    /// Adds an atom pair (a, ρ): appends to Ψ_a, Ψ_d, refits all gains jointly by LS
    /// and updates the residual map. Atoms need not be dictionary columns.
    public mutating func add(angleAtom a: [CDouble], delayAtom rho: [CDouble]) throws {
        let d = dictionary
        guard a.count == d.angleAtoms.rows, rho.count == d.delayAtoms.rows else {
            throw ISACError.shapeMismatch("OMP.add: atom lengths \(a.count), \(rho.count)")
        }
        angleAtoms.append(a); delayAtoms.append(rho)
        u.append(d.angleAtoms.apply(a, .conjugateTranspose))
        v.append(d.delayAtoms.apply(rho, .conjugateTranspose))
        // b = aᴴ Ỹ ρ*: one gemv with Ỹ then an inner product.
        let yr = observation.apply(rho.map { $0.conjugate })
        rhs.append(dotc(a, yr))
        let n = gains.count + 1
        var g = Matrix<CDouble>(rows: n, cols: n)
        for t in 0..<n {
            for s in 0..<n {
                g[t, s] = dotc(angleAtoms[t], angleAtoms[s]) * dotc(delayAtoms[t], delayAtoms[s])
            }
        }
        gains = try g.solve(Matrix(rows: n, cols: 1, data: rhs)).data
        // C(R) = C(Ỹ) − U diag(α) Vᵀ, kept as its factors (applied by `peak()` / `residualMapEntry`).
        let r = d.angleAtoms.cols
        uaRe = [Double](repeating: 0, count: r * n); uaIm = uaRe
        for t in 0..<n {
            for i in 0..<r {
                let x = u[t][i] * gains[t]
                uaRe[t * r + i] = x.real; uaIm[t * r + i] = x.imaginary
            }
        }
        pq = [Double](repeating: 0, count: 4 * r * n)
        for t in 0..<n {
            for i in 0..<r {
                let re = uaRe[t * r + i], im = uaIm[t * r + i]
                pq[2 * t * 2 * r + 2 * i] = re; pq[2 * t * 2 * r + 2 * i + 1] = im
                pq[(2 * t + 1) * 2 * r + 2 * i] = -im; pq[(2 * t + 1) * 2 * r + 2 * i + 1] = re
            }
        }
        for x in v[n - 1] { vRe.append(x.real); vIm.append(x.imaginary) }
    }

    /// Adds dictionary atoms (i, j).
    public mutating func add(angleIndex i: Int, delayIndex j: Int) throws {
        try add(angleAtom: dictionary.angleAtoms.column(i), delayAtom: dictionary.delayAtoms.column(j))
    }

    /// The residual Ỹ − Σ α_t a_t ρ_tᵀ itself, shape [K × S] (not needed by OMP; for tests and learning).
    public func residual() -> Matrix<CDouble> {
        var r = observation
        for t in 0..<gains.count {
            for s in 0..<r.cols {
                let c = gains[t] * delayAtoms[t][s]
                for k in 0..<r.rows { r.data[k + s * r.rows] -= angleAtoms[t][k] * c }
            }
        }
        return r
    }
}

/// A zero [rows × cols] complex matrix, zeroed by one memset (the generic `Matrix(rows:cols:)` fills element by
/// element, which showed up at ≈ 3 % of the multi-target receiver for the [N_θ × N_τ] map); same values.
func zeroMatrix(rows: Int, cols: Int) -> Matrix<CDouble> {
    let n = rows * cols
    let data = [CDouble](unsafeUninitializedCapacity: n) { buf, count in
        UnsafeMutableRawBufferPointer(buf).initializeMemory(as: UInt8.self, repeating: 0)
        count = n
    }
    return Matrix(rows: rows, cols: cols, data: data)
}

/// Output of separable OMP (`OMP.run`).
public struct OMPResult: Sendable, Equatable {
    /// Selected (angle, delay) grid indices in selection order, length I.
    public var angleIndices: [Int]
    public var delayIndices: [Int]
    /// θ̂_t (rad) and τ̂_t (s), length I.
    public var anglesRad: [Double]
    public var delaysSeconds: [Double]
    /// Final LS gains α̂, length I.
    public var gains: [CDouble]
    /// max 𝓛 at the start of each iteration I = 0, 1, …: length I+1 when stopped by the threshold,
    /// I when stopped by the cap. `peaks[t]` is the statistic compared with δ before detecting target t.
    public var peaks: [Double]

    /// Number of detections a threshold δ′ would have produced on the same path: the first I with
    /// peaks[I] ≤ δ′ (the path does not depend on δ, only where it stops).
    public func detections(threshold: Double) -> Int {
        for (i, p) in peaks.enumerated() where !(p > threshold) { return min(i, angleIndices.count) }
        return angleIndices.count
    }
}

/// Greedy separable OMP (Algorithm 1 of the multi-target ISAC paper, stated generically): while fewer than
/// T_max atoms are selected and the peak of the residual map 𝓛 = |Φ_aᴴ R Φ_d*|² exceeds δ, select its
/// arg max (i, j), refit all gains by least squares and update the residual.
public enum OMP {
    /// Runs the pursuit on Ỹ.
    ///
    /// - Parameters:
    ///   - observation: Ỹ, [K × S].
    ///   - dictionary: Φ_a [K × N_θ], Φ_d [S × N_τ].
    ///   - threshold: δ ≥ 0 on max 𝓛 (in the units of |aᴴỸρ*|²; noise alone gives E 𝓛 = K S N0
    ///     for unit-modulus atoms). δ = 0 runs to the cap, which records the whole path for calibration.
    ///   - maxIterations: T_max ≥ 0 (`--targets-max`).
    public static func run(observation y: Matrix<CDouble>, dictionary d: OMPDictionary, threshold: Double,
                           maxIterations: Int) throws -> OMPResult {
        try Check.nonNegative(maxIterations, "--targets-max")
        guard threshold.isFinite, threshold >= 0 else {
            throw ISACError.invalidParameter(name: "threshold", value: "\(threshold)", valid: "must be finite and >= 0")
        }
        var st = try OMPState(observation: y, dictionary: d)
        var res = OMPResult(angleIndices: [], delayIndices: [], anglesRad: [], delaysSeconds: [], gains: [], peaks: [])
        while res.angleIndices.count < maxIterations {
            let pk = st.peak()
            res.peaks.append(pk.value)
            guard pk.value > threshold else { break }
            res.angleIndices.append(pk.angleIndex); res.delayIndices.append(pk.delayIndex)
            res.anglesRad.append(d.anglesRad[pk.angleIndex]); res.delaysSeconds.append(d.delaysSeconds[pk.delayIndex])
            try st.add(angleIndex: pk.angleIndex, delayIndex: pk.delayIndex)
        }
        res.gains = st.gains
        return res
    }
}

