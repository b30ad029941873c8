import Linalg

/// Near-band preconditioner of a `VIEOperator`: M = the operator I − Tχ with every coupling between voxels farther
/// apart than `radius` lattice steps (|Δ|∞ > r) dropped, factored exactly (LU with partial pivoting), so M⁻¹ is
/// applied by two triangular band solves per GMRES iteration:
///
///     M_ab = δ_ab (I − S_a χ_a) − [|Δ_ab|∞ ≤ r, a ≠ b] T(r_a − r_b) χ_b      (3 × 3 blocks; χ_b the voxel's tensor)
///
/// The voxels are ordered slab by slab along the grid's longest axis (then the middle, then the shortest), so M is a
/// band matrix with kl = ku = 3 · max |p(a) − p(b)| + 2 over coupled pairs (p: the position in that order), about
/// 3 r · (voxels per slab); `BandedLU` factors it (LAPACK `zgbtrf`). Memory 16 · 3N · (3 kl + 1) bytes, checked.
///
/// Why: for metal-like voxels (|χ| ≫ 1) the Jacobi-scaled operator tends to T/S, a first-kind operator on
/// divergence-free currents (its lattice symbol k²/(q² − k²) is small at high spatial frequency q and indefinite
/// around q = k), so restarted GMRES(100) with Jacobi needs ever more iterations as σ grows (131 → 908 from σ = 1 to
/// 48 S/m on the 0.1-scale car) and never converges at σ = 10³. The near band holds the strong short-range part of T
/// exactly; in the dense study (`bench/scattering/vie_highcontrast_study.py`) full GMRES with r = 2 needs 114 / 163
/// iterations (solid / shell box) against Jacobi's 515 / 737, and both saturate as χ → ∞. Unlike the non-overlapping
/// blocks and the Schwarz patches it cuts no strong coupling at an internal interface: only couplings beyond r.
///
/// Limits (measured, docs/BENCHMARKS.md): on the 0.15-scale car (≈ 11 λ, 5874 voxels) at σ = 10³ S/m GMRES(1000)
/// with it stalls at a residual of 4·10⁻² while Jacobi converges in 2333 iterations; what the band leaves out,
/// I − T_far χ M⁻¹, keeps a size-dependent indefinite spread. M itself stays well conditioned for its χ
/// (`reciprocalCondition()` ∝ 1/σ at both sizes).
public struct VIENearBandPreconditioner: Sendable {
    /// Coupling radius r (lattice steps, |Δ|∞).
    public let radius: Int
    /// Position of each occupied voxel (index into `VIEOperator.occupied`) in the band order.
    let order: [Int]
    /// Exact LU factors of M in the band order.
    let lu: BandedLU
    /// M in CSR form over voxels (original numbering): neighbour lists and their 3 × 3 blocks (row-major), for
    /// `multiply` (the warm-start map x₀ ↦ M x₀).
    let neighbours: [[Int]], blocks: [[CDouble]]

    /// Default coupling radius: r = 2, the best iteration count per unit of band memory measured (docs/BENCHMARKS.md).
    public static let defaultRadius = 2
    /// Largest coupling radius: the operator keeps its exact real-space kernel for offsets |Δ|∞ ≤ 3 only.
    public static let maximumRadius = VIEOperator.nearRadius

    /// Builds and factors the near band of `op` for coupling radius `radius` (1…`maximumRadius`).
    public init(operator op: VIEOperator, radius: Int = VIENearBandPreconditioner.defaultRadius) throws {
        try Check.inRange(radius, 1, VIENearBandPreconditioner.maximumRadius, "vie-near-radius")
        self.radius = radius
        let (nx, ny, nz) = op.target.dims
        let ijl = op.occupied.map { idx in [idx % nx, (idx / nx) % ny, idx / (nx * ny)] }
        // Axes from longest (slowest in the order) to shortest.
        let axes = [0, 1, 2].sorted { [nx, ny, nz][$0] > [nx, ny, nz][$1] }
        let sorted = ijl.indices.sorted { a, b in
            for ax in axes where ijl[a][ax] != ijl[b][ax] { return ijl[a][ax] < ijl[b][ax] }
            return a < b
        }
        var ord = [Int](repeating: 0, count: ijl.count)
        for (p, n) in sorted.enumerated() { ord[n] = p }
        order = ord
        var pos: [Int: Int] = [:]
        for (n, idx) in op.occupied.enumerated() { pos[idx] = n }
        let rn = VIEOperator.nearRadius, side = 2 * rn + 1
        let comp = [[0, 3, 4], [3, 1, 5], [4, 5, 2]]
        var nbs: [[Int]] = [], blks: [[CDouble]] = []
        nbs.reserveCapacity(ijl.count); blks.reserveCapacity(ijl.count)
        var spread = 0
        for (a, p) in ijl.enumerated() {
            var list: [Int] = [], vals: [CDouble] = []
            for dl in -radius...radius { for dj in -radius...radius { for di in -radius...radius {
                let (i, j, l) = (p[0] + di, p[1] + dj, p[2] + dl)
                guard i >= 0, j >= 0, l >= 0, i < nx, j < ny, l < nz, let b = pos[i + nx * (j + ny * l)] else { continue }
                let x = op.chiTensor(b)
                var m = [CDouble](repeating: .zero, count: 9)
                if a == b {
                    for r in 0..<3 { for c in 0..<3 { m[3 * r + c] = (r == c ? CDouble(1, 0) : .zero) - op.selfTerms[a] * x[3 * r + c] } }
                } else {
                    let t = op.nearKernel[(di + rn) + side * ((dj + rn) + side * (dl + rn))]
                    for r in 0..<3 { for c in 0..<3 {
                        var v = CDouble.zero
                        for q in 0..<3 { v -= t[comp[r][q]] * x[3 * q + c] }
                        m[3 * r + c] = v
                    } }
                }
                list.append(b); vals.append(contentsOf: m)
                spread = max(spread, abs(ord[a] - ord[b]))
            } } }
            nbs.append(list); blks.append(vals)
        }
        neighbours = nbs; blocks = blks
        let n = 3 * ijl.count, band = min(3 * spread + 2, n - 1)
        let bytes = BandedLU.memoryBytes(dimension: n, lower: band, upper: band)
        let avail = Check.availableMemoryBytes()
        guard let need = bytes, Double(need) <= 0.5 * Double(avail) else {
            throw ISACError.invalidParameter(name: "--vie-preconditioner", value: "nearband (radius \(radius), \(ijl.count) voxels, bandwidth \(band))",
                valid: String(format: "band storage needs %.3g GB, more than half of the %.3g GB available; use a smaller --vie-near-radius or --vie-preconditioner jacobi",
                              Double(bytes ?? Int.max) / 1e9, Double(avail) / 1e9))
        }
        let nbSnap = nbs, blkSnap = blks, ordSnap = ord
        lu = try BandedLU(dimension: n, lower: band, upper: band) { fill in
            for (a, list) in nbSnap.enumerated() {
                for (s, b) in list.enumerated() {
                    for r in 0..<3 { for c in 0..<3 { fill(3 * ordSnap[a] + r, 3 * ordSnap[b] + c, blkSnap[a][9 * s + 3 * r + c]) } }
                }
            }
        }
    }

    /// Half-bandwidth kl = ku of the factored matrix.
    public var bandwidth: Int { lu.lower }

    /// LAPACK's estimate of 1/κ₁(M) (`BandedLU.reciprocalCondition`): how close the truncated near band is to singular.
    public func reciprocalCondition() -> Double { lu.reciprocalCondition() }

    /// x = M⁻¹ y (length 3 N_s).
    public func solve(_ y: [CDouble]) -> [CDouble] {
        var yp = [CDouble](repeating: .zero, count: y.count)
        for (n, p) in order.enumerated() { for c in 0..<3 { yp[3 * p + c] = y[3 * n + c] } }
        let xp = lu.solve(yp)
        var x = yp
        for (n, p) in order.enumerated() { for c in 0..<3 { x[3 * n + c] = xp[3 * p + c] } }
        return x
    }

    /// y = M x (length 3 N_s): maps a warm start x₀ onto the preconditioned unknown.
    public func multiply(_ x: [CDouble]) -> [CDouble] {
        var y = [CDouble](repeating: .zero, count: x.count)
        for (a, list) in neighbours.enumerated() {
            let m = blocks[a]
            for (s, b) in list.enumerated() {
                for r in 0..<3 {
                    var v = y[3 * a + r]
                    for c in 0..<3 { v += m[9 * s + 3 * r + c] * x[3 * b + c] }
                    y[3 * a + r] = v
                }
            }
        }
        return y
    }
}
