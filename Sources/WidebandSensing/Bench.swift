import Foundation
import Linalg
import ISACIO
import Estimation
import Numerics
#if canImport(Glibc)
import Glibc
#endif

/// Paper-size benchmark of the four heavy steps (`isac wideband bench`), with the inputs exported
/// for the NumPy counterpart (bench/wideband/numpy_wideband.py), which runs the same steps on them.
///
/// Inputs (deterministic): the paper system (N = 127, M = 256, NM = 32,512), P = 3 targets at
/// (3 m, 75°), (8 m, 100°), (20 m, 110°), K = 8 pilots, SNR 0 dB, seed 7; the hybrid Δ = 0.1 grid;
/// a MUSIC scan grid of 0.5–40 m × 60–120° in 0.1 m × 0.1° steps (396 × 601 = 237,996 points).
public enum WidebandBench {
    /// Step names. `dictionary-f32` / `somp-f32` are the single-precision dictionary (complex64) and
    /// `SinglePrecisionSOMP` on it (picks verified in double, coefficients from the exact double atoms).
    public static let steps = ["dictionary", "somp", "nbnf-music", "wbff-music", "dictionary-f32", "somp-f32"]

    /// The three benchmark targets (3 m @ 75°, 8 m @ 100°, 20 m @ 110°); angles stored in radians.
    public static let targets = [PolarTarget(rangeMeters: 3, angleRad: 75 * Double.pi / 180),
                                 PolarTarget(rangeMeters: 8, angleRad: 100 * Double.pi / 180),
                                 PolarTarget(rangeMeters: 20, angleRad: 110 * Double.pi / 180)]

    /// The benchmark's MUSIC scan grid.
    public static func scanGrid() throws -> ScanGrid {
        try ScanGrid.uniform(rMin: 0.5, rMax: 40, rangeCount: 396, angleCount: 601)
    }

    /// Peak resident set size of this process so far, bytes (getrusage ru_maxrss; Linux reports KiB).
    public static func peakRSSBytes() -> Int {
        var ru = rusage()
        #if os(Linux)
        getrusage(RUSAGE_SELF.rawValue, &ru)
        return Int(ru.ru_maxrss) * 1024
        #else
        getrusage(RUSAGE_SELF, &ru)
        return Int(ru.ru_maxrss)                        // macOS reports bytes
        #endif
    }

    /// CPU time (user + system, all threads) of this process so far, seconds.
    public static func cpuSeconds() -> Double {
        var ru = rusage()
        #if os(Linux)
        getrusage(RUSAGE_SELF.rawValue, &ru)
        #else
        getrusage(RUSAGE_SELF, &ru)
        #endif
        func s(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) * 1e-6 }
        return s(ru.ru_utime) + s(ru.ru_stime)
    }

    /// One timed step.
    public struct Step {
        /// Step name (one of `steps`).
        public var name: String
        /// Wall-clock seconds of each repeat.
        public var seconds: [Double]
        /// CPU seconds (user + system, all threads) of each repeat: robust to a shared, loaded machine.
        public var cpuSeconds: [Double] = []
        /// Working set of the step's own arrays (inputs + outputs + temporaries), bytes (analytic).
        public var workingSetBytes: Int
        /// Process peak RSS after the step, bytes.
        public var peakRSSBytes: Int
        /// A check value to compare with NumPy (support, or the peak positions).
        public var result: WidebandBenchCheck
        public var best: Double { seconds.min() ?? .nan }
        /// Median repeat (upper median for even counts), seconds (NaN when there are none).
        public var median: Double { let s = seconds.sorted(); return s.isEmpty ? .nan : s[s.count / 2] }
    }

    /// Runs `only` (nil = all four steps in order), each `repeats` times.
    /// SOMP needs the dictionary, so selecting `somp` also builds it (untimed).
    /// - Parameters: exportDir: when set, writes Y.npy, grid_range_m.npy, grid_alpha.npy,
    ///   scan_range_m.npy, scan_angle_rad.npy and system.json there for the NumPy script.
    public static func run(only: String? = nil, repeats: Int = 3, exportDir: String? = nil,
                           progress: Bool = true) throws -> (steps: [Step], info: WidebandBenchInputs) {
        if let only, !steps.contains(only) {
            throw ISACError.invalidParameter(name: "--step", value: only, valid: "one of \(steps.joined(separator: ", "))")
        }
        try Check.inRange(repeats, 1, 100, "--repeats")
        let s = WidebandSystem.paper
        let p = targets.count, k = 8
        var rng = RandomSource(seed: 7, stream: 0)
        let y = try s.simulate(targets: targets, snapshots: k, snrDb: 0, rng: &rng).data
        let grid = try AngleDistanceGrid.make(.hybridMin, system: s)
        let scan = try scanGrid()
        let l = s.snapshotLength, q = grid.count, c16 = MemoryLayout<CDouble>.stride
        let nScan = scan.rangesMeters.count * scan.anglesRad.count
        if let dir = exportDir {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            func path(_ f: String) -> String { (dir as NSString).appendingPathComponent(f) }
            try NPY.write(try NPYArray(matrix: y), to: path("Y.npy"))
            try NPY.write(NPYArray(float64: grid.points.map(\.rangeMeters), shape: [q]), to: path("grid_range_m.npy"))
            try NPY.write(NPYArray(float64: grid.points.map(\.alpha), shape: [q]), to: path("grid_alpha.npy"))
            try NPY.write(NPYArray(float64: scan.rangesMeters, shape: [scan.rangesMeters.count]), to: path("scan_range_m.npy"))
            try NPY.write(NPYArray(float64: scan.anglesRad, shape: [scan.anglesRad.count]), to: path("scan_angle_rad.npy"))
            let sys = WidebandBenchSystem(antennas: s.antennas, carrierHz: s.carrierHz, bandwidthHz: s.bandwidthHz,
                                          subcarriers: s.subcarriers, spacingMeters: s.spacingMeters, targets: p, snapshots: k)
            try AtomicFile.write(try ResultJSON.string(sys), to: path("system.json"))
        }
        let selected = only.map { [$0] } ?? steps
        var out: [Step] = []
        var dict: Matrix<CDouble>? = nil
        var dictF: Matrix<CFloat>? = nil
        let prog = ProgressLine("wideband bench steps×repeats", total: selected.count * repeats, enabled: progress)
        var lastCPU: [Double] = []
        func timed(_ body: () throws -> WidebandBenchCheck) rethrows -> ([Double], WidebandBenchCheck) {
            var secs: [Double] = [], res = WidebandBenchCheck()
            lastCPU = []
            for _ in 0..<repeats {
                let c0 = cpuSeconds()
                let t0 = DispatchTime.now().uptimeNanoseconds
                res = try body()
                secs.append(Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9)
                lastCPU.append(cpuSeconds() - c0)
                prog.advance()
            }
            return (secs, res)
        }
        for name in selected {
            defer { out[out.count - 1].cpuSeconds = lastCPU }
            switch name {
            case "dictionary":
                let (secs, res) = timed { () -> WidebandBenchCheck in
                    dict = nil                               // release the previous repeat's 1.2 GB first
                    let b = grid.dictionary(system: s)
                    dict = b
                    return WidebandBenchCheck(atoms: b.cols, rows: b.rows)
                }
                out.append(Step(name: name, seconds: secs, workingSetBytes: l * q * c16, peakRSSBytes: peakRSSBytes(), result: res))
            case "somp":
                let b = dict ?? grid.dictionary(system: s)
                dict = b
                // Plain SOMP (no band exclusion), Gram columns from the closed-form subcarrier sum.
                let (secs, res) = try timed { () -> WidebandBenchCheck in
                    let r = try Localizer.compressedSensing(observation: y, grid: grid, dictionary: b, targets: p,
                                                            exclusionCells: 0, system: s)
                    return WidebandBenchCheck(support: r.support, estimates: r.estimates.map(RangeAngleSummary.init))
                }
                // B (input) + BᴴY and its updated copy [Q × K] + Bᴴ B_S [Q × P] + one atom copy per pick.
                out.append(Step(name: name, seconds: secs, workingSetBytes: (l * q + 2 * q * k + q * p + l * (p + 1)) * c16,
                                peakRSSBytes: peakRSSBytes(), result: res))
            case "dictionary-f32":
                let (secs, res) = timed { () -> WidebandBenchCheck in
                    dictF = nil
                    let b = grid.dictionarySingle(system: s)
                    dictF = b
                    return WidebandBenchCheck(atoms: b.cols, rows: b.rows, precision: "complex64")
                }
                out.append(Step(name: name, seconds: secs, workingSetBytes: l * q * c16 / 2, peakRSSBytes: peakRSSBytes(), result: res))
            case "somp-f32":
                let b = dictF ?? grid.dictionarySingle(system: s)
                dictF = b
                let (secs, res) = try timed { () -> WidebandBenchCheck in
                    let (r, verified) = try Localizer.compressedSensing(observation: y, grid: grid, singlePrecisionDictionary: b,
                                                                        targets: p, exclusionCells: 0, system: s)
                    return WidebandBenchCheck(support: r.support, verifiedCandidates: verified, estimates: r.estimates.map(RangeAngleSummary.init))
                }
                // B (complex64) + its float copy of Y + C in float and double + G [Q × P] + exact atoms.
                out.append(Step(name: name, seconds: secs, workingSetBytes: l * q * c16 / 2 + l * k * c16 / 2 + 3 * q * k * c16 / 2 + q * p * c16 + 2 * l * p * c16,
                                peakRSSBytes: peakRSSBytes(), result: res))
            case "nbnf-music":
                let (secs, res) = try timed { () -> WidebandBenchCheck in
                    let sp = try Localizer.narrowbandNearFieldSpectrum(system: s, observation: y, targets: p, grid: scan)
                    return WidebandBenchCheck(peaks: sp.peaks(p).map(RangeAngleSummary.init))
                }
                // Y reshape copy + N×N covariance + per-angle steering/projection blocks + the spectrum.
                let n = s.antennas
                out.append(Step(name: name, seconds: secs,
                                workingSetBytes: l * k * c16 + n * n * c16 * 2 + 2 * (n + p) * scan.rangesMeters.count * c16 + nScan * 8,
                                peakRSSBytes: peakRSSBytes(), result: res))
            default:
                let (secs, res) = try timed { () -> WidebandBenchCheck in
                    let sp = try Localizer.widebandFarFieldSpectrum(system: s, observation: y, targets: p, grid: scan)
                    return WidebandBenchCheck(peaks: sp.peaks(p).map(RangeAngleSummary.init))
                }
                // SVD copy of Y + U [NM × K] + U_s + W [(P·Q_θ) × M] + F [M × Q_r] + projections + spectrum.
                let nt = scan.anglesRad.count, nr = scan.rangesMeters.count, m = s.subcarriers
                out.append(Step(name: name, seconds: secs,
                                workingSetBytes: (2 * l * k + l * p + p * nt * m + m * nr + p * nt * nr) * c16 + nScan * 8,
                                peakRSSBytes: peakRSSBytes(), result: res))
            }
        }
        prog.finish()
        let info = WidebandBenchInputs(antennas: s.antennas, subcarriers: s.subcarriers, rowsNM: l, atoms: q, targets: p, snapshots: k,
                                       scanPoints: nScan, scan: "0.5-40 m x 60-120 deg, 396 x 601", repeats: repeats)
        return (out, info)
    }
}

/// The check value of one `WidebandBench` step, compared with NumPy's (bench/wideband/numpy_wideband.py): the
/// dictionary's size, SOMP's support and estimates, or the MUSIC peaks. Fields that a step does not set are left
/// out of the JSON.
public struct WidebandBenchCheck: Encodable, Sendable {
    /// Dictionary steps: atom (column) and row counts, and `complex64` for the single-precision dictionary.
    public var atoms: Int?, rows: Int?, precision: String?
    /// SOMP steps: the selected atom indices.
    public var support: [Int]?
    /// `somp-f32`: candidates re-checked against the exact double-precision atoms.
    public var verifiedCandidates: Int?
    /// SOMP steps: the estimated positions.
    public var estimates: [RangeAngleSummary]?
    /// MUSIC steps: the spectrum's P strongest peaks.
    public var peaks: [RangeAngleSummary]?
    enum CodingKeys: String, CodingKey {
        case atoms, rows, precision, support, verifiedCandidates = "verified_candidates", estimates, peaks
    }
    /// A check value with the given fields (nil = not set).
    public init(atoms: Int? = nil, rows: Int? = nil, precision: String? = nil, support: [Int]? = nil,
                verifiedCandidates: Int? = nil, estimates: [RangeAngleSummary]? = nil, peaks: [RangeAngleSummary]? = nil) {
        self.atoms = atoms; self.rows = rows; self.precision = precision; self.support = support
        self.verifiedCandidates = verifiedCandidates; self.estimates = estimates; self.peaks = peaks
    }
}

/// The inputs of a `WidebandBench` run (the `inputs` object of `isac wideband bench --json`).
public struct WidebandBenchInputs: Encodable, Sendable {
    /// N, M, the stacked rows N·M, the dictionary's atoms, P, K, the scan's points, its description and the repeats.
    public var antennas: Int, subcarriers: Int, rowsNM: Int, atoms: Int, targets: Int, snapshots: Int, scanPoints: Int
    /// The scan grid in words.
    public var scan: String
    /// Repeats per step.
    public var repeats: Int
    enum CodingKeys: String, CodingKey {
        case antennas, subcarriers, rowsNM = "rows_nm", atoms, targets, snapshots, scanPoints = "scan_points", scan, repeats
    }
}

/// `system.json` of `isac wideband bench --export` (read by bench/wideband/numpy_wideband.py).
struct WidebandBenchSystem: Encodable {
    let antennas: Int, carrierHz: Double, bandwidthHz: Double, subcarriers: Int, spacingMeters: Double, targets: Int, snapshots: Int
    enum CodingKeys: String, CodingKey {
        case antennas, carrierHz = "carrier_hz", bandwidthHz = "bandwidth_hz", subcarriers, spacingMeters = "spacing_m", targets, snapshots
    }
}
