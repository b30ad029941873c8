import ArgumentParser
import Foundation
import ISACIO
import Linalg
import Numerics
import WidebandSensing
import Arrays

/// `isac wideband`: wideband near-field sensing (paper 1): Fresnel coherence, region boundaries,
/// dictionaries, localization (CS / NB-NF MUSIC / WB-FF MUSIC), figures and benchmarks.
struct WidebandCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wideband", abstract: "Wideband near-field sensing (paper 1).",
        subcommands: [WBCoherenceThreshold.self, WBBoundary.self, WBDictionary.self, WBLocalize.self,
                      WBCRB.self, WBFigure.self, WBBench.self])
}

/// System options shared by the subcommands (defaults: the paper's scenario).
struct WBSystemOptions: ParsableArguments {
    @Option(help: "Number of antennas N (default 127; exclusive with --aperture-m).") var antennas: Int?
    @Option(name: .customLong("aperture-m"), help: "Aperture D = N·d in metres; N = round(D/d), d = λc/2.") var apertureM: Double?
    @Option(name: .customLong("bandwidth-mhz"), help: "Bandwidth B, MHz.") var bandwidthMHz: Double = 122.88
    @Option(help: "Subcarriers M.") var subcarriers: Int = 256
    @Option(name: .customLong("carrier-ghz"), help: "Carrier f_c, GHz.") var carrierGHz: Double = 28

    func validate() throws {
        if antennas != nil && apertureM != nil {
            throw ISACError.invalidParameter(name: "--aperture-m", value: "\(apertureM!)", valid: "give either --antennas or --aperture-m, not both")
        }
        if let a = antennas { try Check.inRange(a, 2, 100_000, "--antennas") }
        // Upper bounds: a ULA of ≤ 100,000 half-wavelength elements (also keeps N = round(D/d) an Int),
        // carriers up to 10 THz (sub-THz sensing and beyond; the model itself is frequency-agnostic).
        try Check.inRange(carrierGHz, 1e-6, 10_000, "--carrier-ghz")
        if let d = apertureM {
            try Check.positive(d, "--aperture-m")
            let maxD = 100_000 * speedOfLight / (carrierGHz * 1e9) / 2
            try Check.inRange(d, 0, maxD, "--aperture-m")
        }
        try Check.positive(bandwidthMHz, "--bandwidth-mhz")
        try Check.inRange(subcarriers, 1, 1_000_000, "--subcarriers")
    }

    func system() throws -> WidebandSystem {
        try validate()
        let fc = carrierGHz * 1e9
        var n = antennas ?? 127
        if let d = apertureM {
            n = Int((d / (speedOfLight / fc / 2)).rounded())
            guard n >= 2 else { throw ISACError.invalidParameter(name: "--aperture-m", value: "\(d)", valid: "must span at least 2 half-wavelength elements (≥ \(speedOfLight / fc) m)") }
        }
        return try WidebandSystem(antennas: n, carrierHz: fc, bandwidthHz: bandwidthMHz * 1e6, subcarriers: subcarriers)
    }
}

struct WBCoherenceThreshold: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coherence-threshold", abstract: "ζ_Δ: first ζ with |F(ζ)| = Δ (paper eq. 25).")
    @Option(help: "Coherence threshold Δ ∈ [1e-5, 1).") var delta: Double = 0.1
    @Flag(help: "Print one JSON object.") var json = false
    func validate() throws {
        try Check.inOpenRange(delta, 0, 1, "--delta")
        try Check.inRange(delta, FresnelCoherence.minimumDelta, 1, "--delta")
    }
    func run() throws {
        let z = try FresnelCoherence.threshold(delta: delta)
        let g = FresnelCoherence.ringScale(system: .paper, zeta: z)
        if json {
            print(try ResultJSON.string(CoherenceThresholdResult(zeta: z, delta: delta, ringScaleMetersPaperSystem: g)))
        } else {
            print(String(format: "Δ = %.4g   ζ_Δ = %.5f   |F(ζ_Δ)| = %.5f   G_Δ = %.4f m (N=127, 28 GHz)", delta, z, FresnelCoherence.magnitude(z), g))
        }
    }
}

enum WBRegime: String, ExpressibleByArgument, CaseIterable {
    case nbnf = "nb-nf", wbff = "wb-ff"
}

struct WBBoundary: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "boundary", abstract: "r_NB-NF (eq. 35) or r_WB-FF (eq. 49) for a correlation threshold ρ.")
    @Option(help: "nb-nf | wb-ff.") var regime: WBRegime
    @Option(help: "Correlation threshold ρ ∈ (0, 1).") var rho: Double = 0.9
    @Option(name: .customLong("angle-deg"), help: "Target angle from the array axis, degrees, in [60, 120].") var angleDeg: Double = 60
    @OptionGroup var sys: WBSystemOptions
    @Flag(help: "Print one JSON object.") var json = false
    func validate() throws {
        try Check.inOpenRange(rho, 0, 1, "--rho")
        try FieldOfView.check(angleRad: angleDeg * Double.pi / 180)
    }
    func run() throws {
        let s = try sys.system()
        let th = angleDeg * Double.pi / 180
        let r = regime == .nbnf
            ? try RegionBoundary.narrowbandNearField(system: s, rho: rho, angleRad: th)
            : try RegionBoundary.widebandFarField(system: s, rho: rho, angleRad: th)
        if json {
            print(try ResultJSON.string(BoundaryResult(distanceMeters: r, regime: regime.rawValue, rho: rho, angleDeg: angleDeg,
                                                       antennas: s.antennas, apertureMeters: s.apertureMeters,
                                                       bandwidthMHz: s.bandwidthHz / 1e6, subcarriers: s.subcarriers,
                                                       carrierGHz: s.carrierHz / 1e9, rayleighMeters: s.rayleighDistanceMeters)))
        } else {
            print(String(format: "r_%@ = %.4f m   (ρ=%.3g, θ=%.1f°, N=%d, D=%.3f m, B=%.4g MHz, M=%d, fc=%.4g GHz; Rayleigh %.2f m)",
                         regime == .nbnf ? "NB-NF" : "WB-FF", r, rho, angleDeg, s.antennas, s.apertureMeters, s.bandwidthHz / 1e6,
                         s.subcarriers, s.carrierHz / 1e9, s.rayleighDistanceMeters))
        }
    }
}

extension GridKind: ExpressibleByArgument {}
extension LocalizationMethod: ExpressibleByArgument {}
extension SpectrumScale: ExpressibleByArgument {}

struct WBDictionary: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dictionary", abstract: "Atom count and exact maximum mutual coherence of a WB-NF dictionary grid.")
    @Option(help: "Fresnel coherence threshold Δ ∈ (0, 1).") var delta: Double = 0.1
    @Option(help: "hybrid (Algorithm 1 as written) | hybrid-min (closer of one Δr step and the Fresnel ring) | uniform | polar.") var grid: GridKind = .hybrid
    @Option(name: .customLong("r-min"), help: "Inner range limit, m.") var rMin: Double = 0.5
    @Option(name: .customLong("r-max"), help: "Outer range limit, m (default: Rayleigh distance).") var rMax: Double?
    @Option(name: .customLong("step-m"), help: "Distance step ε of the uniform grid, m.") var stepM: Double = 0.5
    @Flag(help: "Also build the dictionary matrix and report its build time and size.") var build = false
    @OptionGroup var sys: WBSystemOptions
    @Flag(help: "Print one JSON object.") var json = false
    func validate() throws {
        try Check.inOpenRange(delta, 0, 1, "--delta")
        try Check.positive(rMin, "--r-min")
        // 100 km covers any near-field question (the paper's Rayleigh distance is 86 m) and keeps the ring count finite.
        if let r = rMax { try Check.positive(r, "--r-max"); try Check.inRange(r, 0, 100_000, "--r-max") }
        try Check.inRange(rMin, 0, 100_000, "--r-min")
        try Check.positive(stepM, "--step-m"); try Check.inRange(stepM, 0, 100_000, "--step-m")
    }
    func run() throws {
        let s = try sys.system()
        let g = try AngleDistanceGrid.make(grid, system: s, options: GridOptions(delta: delta, minRangeMeters: rMin, maxRangeMeters: rMax, uniformStepMeters: stepM))
        let t0 = Date()
        let mc = DictionaryCoherence.maximum(grid: g, system: s)
        let tc = Date().timeIntervalSince(t0)
        var out = DictionaryResult(atoms: g.count, maxCoherence: mc.value, grid: grid.rawValue, delta: delta,
                                   angles: g.alphas.count, zeta: g.zeta, ringScaleMeters: g.ringScaleMeters,
                                   rMinMeters: g.minRangeMeters, rMaxMeters: g.maxRangeMeters, rows: s.snapshotLength,
                                   coherencePairsEvaluated: mc.evaluated, coherenceSeconds: tc)
        if g.count >= 2 {
            out.maxPair = [mc.pair.0, mc.pair.1].map {
                RangeAngleSummary(rangeMeters: g.points[$0].rangeMeters, angleDeg: g.points[$0].target.angleDeg)
            }
        }
        if build {
            try g.checkDictionary(system: s, flag: grid == .uniform ? "--step-m" : "--r-max")
            let t1 = Date()
            let b = g.dictionary(system: s)
            out.buildSeconds = Date().timeIntervalSince(t1)
            out.dictionaryBytes = b.data.count * MemoryLayout<CDouble>.stride
        }
        if json { print(try ResultJSON.string(out)) } else {
            print(String(format: "%@ grid, Δ=%.3g: %d atoms (%d angles × ~%.1f rings), rows N·M = %d", grid.rawValue, delta, g.count,
                         g.alphas.count, Double(g.count) / Double(max(1, g.alphas.count)), s.snapshotLength))
            print(String(format: "max mutual coherence μ(B) = %.4f  (%d pairs, %.2f s)", mc.value, mc.evaluated, tc))
            if let bs = out.buildSeconds, let bytes = out.dictionaryBytes {
                print(String(format: "dictionary build %.2f s, %.1f MiB", bs, Double(bytes) / 1048576))
            }
        }
    }
}

struct WBLocalize: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "localize", abstract: "Localize P random near-field targets with cs | nbnf-music | wbff-music.")
    @Option(help: "cs | nbnf-music | wbff-music.") var method: LocalizationMethod = .cs
    @Option(help: "Number of targets P.") var targets: Int = 3
    @Option(name: .customLong("snr-db"), help: "Per-antenna, per-subcarrier SNR, dB.") var snrDb: Double = 0
    @Option(help: "Random seed.") var seed: UInt64 = 1
    @Option(help: "OFDM pilot symbols K.") var snapshots: Int = 8
    @Option(name: .customLong("target-r-min"), help: "Targets: minimum range, m.") var tMin: Double = 1
    @Option(name: .customLong("target-r-max"), help: "Targets: maximum range, m.") var tMax: Double = 40
    @Option(help: "Fresnel threshold Δ of the CS dictionary.") var delta: Double = 0.1
    @Option(name: .customLong("exclusion-cells"), help: "CS: SOMP band-exclusion radius in grid cells (0 = plain SOMP, the paper's).") var exclusionCells: Int = 0
    @Option(help: "CS dictionary grid: hybrid-min (default) | hybrid (Algorithm 1 as written; empty at Δ = 0.1) | uniform | polar.") var grid: GridKind = .hybridMin
    @Flag(help: "CS: polish each SOMP atom by a local continuous search in (r, θ) (off-grid refinement).") var refine = false
    @Option(name: .customLong("scan-range-step"), help: "MUSIC scan range step, m.") var rStep: Double = 0.1
    @Option(name: .customLong("scan-angle-step"), help: "MUSIC scan angle step, degrees.") var aStep: Double = 0.1
    @OptionGroup var sys: WBSystemOptions
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        try Check.positive(targets, "--targets")
        try Check.inRange(snrDb, -100, 100, "--snr-db")
        try Check.inRange(snapshots, 1, 10_000, "--snapshots")
        try Check.positive(tMin, "--target-r-min")
        // The MUSIC scan and the CS grid are bounded to 0.5 m … max(45 m, Rayleigh): targets up to 1 km.
        guard tMax.isFinite, tMax > tMin, tMax <= 1000 else {
            throw ISACError.invalidParameter(name: "--target-r-max", value: "\(tMax)", valid: "must exceed --target-r-min and be ≤ 1000 m")
        }
        try Check.inOpenRange(delta, 0, 1, "--delta")
        try Check.positive(rStep, "--scan-range-step"); try Check.positive(aStep, "--scan-angle-step")
        try Check.inRange(rStep, 0, 10, "--scan-range-step"); try Check.inRange(aStep, 0, 10, "--scan-angle-step")
        try Check.inRange(exclusionCells, 0, 1000, "--exclusion-cells")
    }

    func run() throws {
        let s = try sys.system()
        guard targets < s.antennas else {
            throw ISACError.invalidParameter(name: "--targets", value: "\(targets)", valid: "must be fewer than the number of antennas (\(s.antennas))")
        }
        // Y and the simulation's noise matrix: 2 · 16·N·M·K bytes.
        try MemoryBudget.check(bytes: 2 * 16 * Double(s.snapshotLength) * Double(snapshots),
                               what: "the \(s.snapshotLength) × \(snapshots) observation", flag: "--snapshots", value: "\(snapshots)")
        var rng = RandomSource(seed: seed, stream: 0)
        let truth = WidebandExperiments.randomTargets(count: targets, rMin: tMin, rMax: tMax, rng: &rng)
        let obs = try s.simulate(targets: truth, snapshots: snapshots, snrDb: snrDb, rng: &rng)
        let t0 = Date()
        let est: [PolarTarget]
        var extra = LocalizeResult.Extra()
        switch method {
        case .cs:
            let g = try AngleDistanceGrid.make(grid, system: s, options: GridOptions(delta: delta))
            try g.checkDictionary(system: s)
            let b = g.dictionary(system: s)
            let r = try Localizer.compressedSensing(observation: obs.data, grid: g, dictionary: b, targets: targets, exclusionCells: exclusionCells, system: s)
            est = refine ? try Localizer.refineOffGrid(system: s, observation: obs.data, estimates: r.estimates, grid: g) : r.estimates
            extra.atoms = g.count; extra.grid = grid.rawValue; extra.refined = refine
            extra.exclusionCells = exclusionCells
        case .nbnfMusic, .wbffMusic:
            let grid = try ScanGrid.uniform(rMin: 0.5, rMax: tMax * 1.1, rangeCount: Int(((tMax * 1.1 - 0.5) / rStep).rounded()) + 1,
                                            angleCount: Int((60 / aStep).rounded()) + 1)
            let spec = method == .nbnfMusic
                ? try Localizer.narrowbandNearFieldSpectrum(system: s, observation: obs.data, targets: targets, grid: grid)
                : try Localizer.widebandFarFieldSpectrum(system: s, observation: obs.data, targets: targets, grid: grid)
            est = spec.peaks(targets)
            extra.scanPoints = grid.rangesMeters.count * grid.anglesRad.count
        }
        let sec = Date().timeIntervalSince(t0)
        let matched = LocalizationError.match(truth: truth, estimates: est)
        let nmse = LocalizationError.nmse(truth: truth, estimates: est)
        if json {
            let out = LocalizeResult(method: method.rawValue, targets: targets, snrDb: snrDb, seed: Int(seed), snapshots: snapshots,
                                     truth: truth.map(RangeAngleSummary.init), estimated: matched.map { $0.map(RangeAngleSummary.init) },
                                     nmse: nmse, nmseDb: 10 * Foundation.log10(nmse), seconds: sec, extra: extra)
            print(try ResultJSON.string(out))
        } else {
            print("target   true r (m)  true θ (°)   est r (m)   est θ (°)")
            for (i, (t, e)) in zip(truth, matched).enumerated() {
                print(String(format: "%6d   %10.3f  %10.3f  %10.3f  %10.3f", i, t.rangeMeters, t.angleDeg, e?.rangeMeters ?? .nan, e?.angleDeg ?? .nan))
            }
            print(String(format: "%@: NMSE %.2f dB, %.2f s", method.rawValue, 10 * Foundation.log10(nmse), sec))
        }
    }
}

struct WBCRB: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crb",
        abstract: "Cramér–Rao bound of (r, θ) for one target, exact WB-NF model with an unknown complex gain.",
        discussion: "SNR per antenna, subcarrier and snapshot (|x_k| = 1, σ² = 10^(−SNR/10)); also prints the far-field closed form.")
    @Option(name: .customLong("range-m"), help: "Target range, m.") var rangeM: Double = 10
    @Option(name: .customLong("angle-deg"), help: "Target angle from the array axis, degrees, in [60, 120].") var angleDeg: Double = 90
    @Option(name: .customLong("snr-db"), help: "Per-entry SNR, dB.") var snrDb: Double = 0
    @Option(help: "Snapshots K.") var snapshots: Int = 8
    @OptionGroup var sys: WBSystemOptions
    @Flag(help: "Print one JSON object.") var json = false
    func validate() throws {
        try Check.positive(rangeM, "--range-m"); try Check.inRange(rangeM, 0, 100_000, "--range-m")
        try FieldOfView.check(angleRad: angleDeg * Double.pi / 180)
        try Check.inRange(snrDb, -100, 100, "--snr-db")
        try Check.inRange(snapshots, 1, 1_000_000, "--snapshots")
    }
    func run() throws {
        let s = try sys.system()
        let t = PolarTarget(rangeMeters: rangeM, angleRad: angleDeg * Double.pi / 180)
        let b = try WidebandCRB.singleTarget(system: s, target: t, snapshots: snapshots, snrDb: snrDb)
        let ff = WidebandCRB.farFieldBound(system: s, angleRad: t.angleRad, snapshotEnergy: Double(snapshots),
                                           noiseVariance: Foundation.pow(10, -snrDb / 10))
        let nmse = b.positionVariance / (rangeM * rangeM)
        if json {
            print(try ResultJSON.string(CRBResult(rangeMeters: rangeM, angleDeg: angleDeg, snrDb: snrDb, snapshots: snapshots,
                                                  crbRangeM2: b.rangeVariance, crbAngleRad2: b.angleVariance,
                                                  crbRangeAngle: b.covariance, crbPositionM2: b.positionVariance,
                                                  crbNMSEdB: 10 * Foundation.log10(nmse),
                                                  farFieldCRBRangeM2: ff.rangeVariance, farFieldCRBAngleRad2: ff.angleVariance)))
        } else {
            print(String(format: "CRB at r = %.4g m, θ = %.2f°, SNR %.3g dB, K = %d: std(r) ≥ %.4g m, std(θ) ≥ %.4g°, NMSE ≥ %.2f dB",
                         rangeM, angleDeg, snrDb, snapshots, b.rangeVariance.squareRoot(), b.angleVariance.squareRoot() * 180 / Double.pi,
                         10 * Foundation.log10(nmse)))
            print(String(format: "far-field closed form: std(r) ≥ %.4g m, std(θ) ≥ %.4g°", ff.rangeVariance.squareRoot(),
                         ff.angleVariance.squareRoot() * 180 / Double.pi))
        }
    }
}

struct WBFigure: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "figure",
        abstract: "Reproduce a paper figure (fig2…fig8, or all) as CSV + SVG (+ PNG if rsvg-convert is installed).",
        discussion: """
        fig2 |F(ζ)| · fig3 SOMP sparse recovery + localization (+ success rate over --trials, default 20) ·
        fig4 r_NB-NF vs bandwidth · fig5 NB-NF MUSIC spectrum and cuts · fig6 r_WB-FF vs aperture ·
        fig7 WB-FF MUSIC spectrum and cuts · fig8 NMSE vs distance with 95 % confidence bands and the CRB
        (--trials per distance and placement, default 100; --distances, --placement).
        Paper scenario: N = 127, f_c = 28 GHz, B = 122.88 MHz, M = 256, SNR 0 dB.
        """)
    @Argument(help: "fig2 | fig3 | fig4 | fig5 | fig6 | fig7 | fig8 | all.") var name: String
    @Option(help: "Output folder (created if missing).") var out: String
    @Flag(help: "Write into a non-empty --out (files of the same name are replaced, others kept).") var force = false
    @Option(help: "Monte-Carlo trials: fig3 success-rate trials (default 20), fig8 trials per distance and placement (default 100).") var trials: Int?
    @Option(help: "Random seed.") var seed: UInt64 = 1
    @Option(help: "OFDM pilot symbols K per observation.") var snapshots: Int = 8
    @Option(name: .customLong("snr-db"), help: "Per-antenna, per-subcarrier SNR, dB.") var snrDb: Double = 0
    @Option(name: .customLong("exclusion-cells"), help: "CS: SOMP band-exclusion radius in grid cells (0 = plain SOMP, the paper's).") var exclusionCells: Int = 0
    @Option(help: "CS dictionary grid (fig3, fig8): hybrid-min (default) | hybrid | uniform | polar.") var grid: GridKind = .hybridMin
    @Option(help: "fig8: comma-separated target distances, m, in [0.6, 45] (default 1,2,3,5,8,12,20,35).") var distances: String?
    @Option(help: "fig8: off-grid | on-grid | both.") var placement: String = "both"
    @Option(name: .customLong("spectrum-db"), help: "fig5/fig7 dB scale: amplitude (20·log10, the paper's \"Amplitude (dB)\") | power (10·log10).") var spectrumDb: SpectrumScale = .amplitude
    @Flag(help: "No progress lines on stderr.") var quiet = false
    @Flag(help: "Print one JSON object (summary of every figure written).") var json = false
    @OptionGroup var sharding: ShardOptions

    /// Record name of the shards of `wideband figure NAME` (`isac merge` dispatches on it).
    static let shardCommandPrefix = "wideband figure "

    func validate() throws {
        if sharding.isActive, !WidebandTrialPlan.shardable.contains(name) {
            throw ISACError.invalidParameter(name: "--shard", value: sharding.shard!, valid: "applies to the Monte-Carlo figures \(WidebandTrialPlan.shardable.joined(separator: ", ")) only")
        }
        guard name == "all" || WidebandFigures.names.contains(name) else {
            throw ISACError.invalidParameter(name: "name", value: name, valid: "one of \(WidebandFigures.names.joined(separator: ", ")), all")
        }
        if let t = trials { try Check.inRange(t, 1, 100_000, "--trials") }
        try Check.inRange(exclusionCells, 0, 1000, "--exclusion-cells")
        try Check.inRange(snapshots, 1, 10_000, "--snapshots")
        try Check.inRange(snrDb, -100, 100, "--snr-db")
        try CLIOutput.checkStaged(out, force: force)
    }

    /// The library options of this command line.
    func figureOptions() throws -> WidebandFigureOptions {
        var o = WidebandFigureOptions()
        o.trials = trials; o.seed = seed; o.snapshots = snapshots; o.snrDb = snrDb; o.progress = !quiet
        o.exclusionCells = exclusionCells
        o.grid = grid
        o.spectrumScale = spectrumDb
        if let d = distances {
            let parts = d.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard !parts.isEmpty, parts.allSatisfy({ $0 != nil }) else {
                throw ISACError.invalidParameter(name: "--distances", value: d, valid: "comma-separated numbers (metres)")
            }
            o.distances = parts.map { $0! }
        }
        switch placement {
        case "both": o.placements = nil
        case "off-grid": o.placements = [.offGrid]
        case "on-grid": o.placements = [.onGrid]
        default: throw ISACError.invalidParameter(name: "--placement", value: placement, valid: "off-grid, on-grid or both")
        }
        return o
    }

    /// `--shard i/n`: this shard's block of the figure's trials (`WidebandTrialPlan`), raw values into `--shard-dir`;
    /// `isac merge DIR` writes the figure into `--out`, bit-identical to one unsharded run.
    func runShard() throws {
        let shard = try sharding.spec()
        let dir = sharding.shardDir!
        let config = shardConfig(of: self)
        let command = Self.shardCommandPrefix + name
        var seconds: Double
        var resumed = false
        if let done = try ShardStore.finished(shard, in: dir, configHash: ShardManifest.hash(config), resume: sharding.resume, dirFlag: "--shard-dir") {
            seconds = done.manifest.runTimeSeconds; resumed = true
        } else {
            let plan = try WidebandTrialPlan(name: name, options: try figureOptions())
            let range = try shard.range(of: plan.count, what: "trials (points × --trials)")
            try OutputFolderCheck.ensureWritable(dir, flag: "--shard-dir")
            let t0 = Date()
            let values = try plan.run(range, label: "\(command) shard \(shard)")
            seconds = Date().timeIntervalSince(t0)
            try ShardStore.write(payload: WidebandTrialPlan.encode(values), command: command, shard: shard, config: config,
                                 arguments: ShardOptions.argumentsWithoutShardOptions(dropping: 2), runTimeSeconds: seconds, to: dir)
        }
        try printShardReport(shard, dir: dir, resumed: resumed, seconds: seconds, json: json)
    }

    /// The merge of a complete set of `wideband figure fig8|fig8snr --shard` records: writes the figure into the
    /// shards' `--out` (as one run would) and returns the `--json` object of one run (`seconds` = summed shard time).
    static func mergeShards(_ shards: [(manifest: ShardManifest, payload: Data)]) throws -> [String: Any] {
        let cmd = try WBFigure.parse(shards[0].manifest.arguments)
        let plan = try WidebandTrialPlan(name: cmd.name, options: try cmd.figureOptions())
        var values: [Double] = []
        var seconds = 0.0
        for sh in shards {
            let spec = try ShardSpec(index: sh.manifest.shardIndex, count: sh.manifest.shardCount)
            let part = try WidebandTrialPlan.decode(sh.payload, path: sh.manifest.payload)
            let expected = try spec.range(of: plan.count, what: "trials").count * WidebandTrialPlan.valuesPerTrial
            guard part.count == expected else {
                throw ISACError.malformedFile(path: sh.manifest.payload, reason: "holds \(part.count / WidebandTrialPlan.valuesPerTrial) trials, shard \(spec) of this run has \(expected / WidebandTrialPlan.valuesPerTrial)")
            }
            values += part
            seconds += sh.manifest.runTimeSeconds
        }
        try CLIOutput.checkStaged(cmd.out, force: cmd.force)
        let staged = try CLIOutput.stage(cmd.out, force: cmd.force)
        var r = try plan.write(base: (staged.path as NSString).appendingPathComponent(cmd.name), values: values)
            .relocated(from: staged.path, to: cmd.out)
        r.seconds = seconds
        r.shards = shards.count
        try staged.commit(merge: true)
        return try ResultJSON.object(WidebandFiguresResult(out: cmd.out, figures: [cmd.name: r]))
    }

    func run() throws {
        if sharding.isActive { return try runShard() }
        let o = try figureOptions()
        let staged = try CLIOutput.stage(out, force: force)
        let names = name == "all" ? WidebandFigures.names : [name]
        var summary: [String: WidebandFigureSummary] = [:]
        for n in names {
            let t0 = Date()
            var r = try WidebandFigures.make(n, outDir: staged.path, options: o).relocated(from: staged.path, to: out)
            let sec = Date().timeIntervalSince(t0)
            r.seconds = sec
            summary[n] = r
            if !json {
                let files = r.files.map { ($0 as NSString).lastPathComponent }.joined(separator: ", ")
                print(String(format: "%@  %6.1f s  %@", n, sec, files))
                if let sr = r.successRate, let k = r.successes, let tr = r.trials {
                    print(String(format: "      SOMP (exclusion %d) within one grid cell: %d/%d trials (%.1f %%), %d atoms", exclusionCells, k, tr, 100 * sr, r.atoms ?? 0))
                    if let kp = r.successesComparison, let e = r.comparisonExclusionCells {
                        print(String(format: "      SOMP (exclusion %d) on the same trials: %d/%d (%.1f %%)", e, kp, tr, 100 * Double(kp) / Double(tr)))
                    }
                }
            }
        }
        try staged.commit(merge: true)
        if json { print(try ResultJSON.string(WidebandFiguresResult(out: out, figures: summary))) }
    }
}

struct WBBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time dictionary build, SOMP, NB-NF MUSIC and WB-FF MUSIC at paper size (N·M = 32,512).",
        discussion: """
        Inputs: paper system, P = 3 targets, K = 8, SNR 0 dB, hybrid Δ = 0.1 dictionary, MUSIC scan 0.5–40 m × 60–120°
        (0.1 m × 0.1°). Reports best/median wall time over --repeats, an analytic working-set size per step and the
        process peak RSS (getrusage) after each step; run one --step per process for a per-step peak.
        --export DIR writes the inputs for bench/wideband/numpy_wideband.py.
        """)
    @Option(help: "Only this step: dictionary | somp | nbnf-music | wbff-music | dictionary-f32 | somp-f32 (default: all).") var step: String?
    @Option(help: "Repeats per step (best and median reported).") var repeats: Int = 3
    @Option(help: "Write the benchmark inputs (.npy + system.json) to this folder for the NumPy script.") var export: String?
    @Flag(help: "No progress line on stderr.") var quiet = false
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        if let st = step, !WidebandBench.steps.contains(st) {
            throw ISACError.invalidParameter(name: "--step", value: st, valid: "one of \(WidebandBench.steps.joined(separator: ", "))")
        }
        try Check.inRange(repeats, 1, 100, "--repeats")
        if let e = export { try OutputPaths.preflightFolder(e, flag: "--export") }
    }

    func run() throws {
        let (steps, info) = try WidebandBench.run(only: step, repeats: repeats, exportDir: export, progress: !quiet)
        if json {
            let arr = steps.map {
                WBBenchStepResult(step: $0.name, bestSeconds: $0.best, medianSeconds: $0.median, seconds: $0.seconds,
                                  cpuSeconds: $0.cpuSeconds, bestCPUSeconds: $0.cpuSeconds.min() ?? Double.nan,
                                  workingSetBytes: $0.workingSetBytes, peakRSSBytes: $0.peakRSSBytes, result: $0.result)
            }
            print(try ResultJSON.string(WBBenchResult(implementation: "swift", steps: arr, inputs: info)))
        } else {
            print(String(format: "paper size: N·M = %d rows, %d atoms, scan %d points, %d repeats",
                         info.rowsNM, info.atoms, info.scanPoints, repeats))
            print("step          best wall (s)  median wall (s)  best CPU (s)  working set (MiB)  peak RSS (MiB)")
            for st in steps {
                let name = st.name.padding(toLength: 12, withPad: " ", startingAt: 0)
                print(name + String(format: "  %13.3f  %15.3f  %12.3f  %17.1f  %14.1f", st.best, st.median, st.cpuSeconds.min() ?? .nan,
                                    Double(st.workingSetBytes) / 1048576, Double(st.peakRSSBytes) / 1048576))
            }
        }
    }
}

// `--json` result types (issue 12: Codable instead of `[String: Any]`; `ResultJSON` prints the same bytes the
// dictionaries printed: sorted keys, each field keeping the Swift type of the value it replaces).

/// `isac wideband figure --json` (and the merge of its shards): the output folder and one summary per figure.
struct WidebandFiguresResult: Encodable {
    let out: String
    let figures: [String: WidebandFigureSummary]
}

/// `isac wideband bench --json`: one entry per step and the inputs.
struct WBBenchResult: Encodable {
    let implementation: String
    let steps: [WBBenchStepResult]
    let inputs: WidebandBenchInputs
}

/// One step of `isac wideband bench --json` (seconds of each repeat, best and median; bytes).
struct WBBenchStepResult: Encodable {
    let step: String, bestSeconds: Double, medianSeconds: Double, seconds: [Double], cpuSeconds: [Double], bestCPUSeconds: Double
    let workingSetBytes: Int, peakRSSBytes: Int, result: WidebandBenchCheck
    enum CodingKeys: String, CodingKey {
        case step, bestSeconds = "best_s", medianSeconds = "median_s", seconds, cpuSeconds = "cpu_seconds", bestCPUSeconds = "best_cpu_s"
        case workingSetBytes = "working_set_bytes", peakRSSBytes = "peak_rss_bytes", result
    }
}

/// `isac wideband coherence-threshold --json`.
struct CoherenceThresholdResult: Encodable {
    let zeta: Double, delta: Double, ringScaleMetersPaperSystem: Double
    enum CodingKeys: String, CodingKey { case zeta, delta, ringScaleMetersPaperSystem = "ring_scale_m_paper_system" }
}

/// `isac wideband boundary --json`.
struct BoundaryResult: Encodable {
    let distanceMeters: Double, regime: String, rho: Double, angleDeg: Double, antennas: Int, apertureMeters: Double
    let bandwidthMHz: Double, subcarriers: Int, carrierGHz: Double, rayleighMeters: Double
    enum CodingKeys: String, CodingKey {
        case distanceMeters = "distance_m", regime, rho, angleDeg = "angle_deg", antennas, apertureMeters = "aperture_m"
        case bandwidthMHz = "bandwidth_mhz", subcarriers, carrierGHz = "carrier_ghz", rayleighMeters = "rayleigh_m"
    }
}

/// `isac wideband crb --json`.
struct CRBResult: Encodable {
    let rangeMeters: Double, angleDeg: Double, snrDb: Double, snapshots: Int
    let crbRangeM2: Double, crbAngleRad2: Double, crbRangeAngle: Double, crbPositionM2: Double, crbNMSEdB: Double
    let farFieldCRBRangeM2: Double, farFieldCRBAngleRad2: Double
    enum CodingKeys: String, CodingKey {
        case rangeMeters = "range_m", angleDeg = "angle_deg", snrDb = "snr_db", snapshots
        case crbRangeM2 = "crb_range_m2", crbAngleRad2 = "crb_angle_rad2", crbRangeAngle = "crb_range_angle"
        case crbPositionM2 = "crb_position_m2", crbNMSEdB = "crb_nmse_db"
        case farFieldCRBRangeM2 = "far_field_crb_range_m2", farFieldCRBAngleRad2 = "far_field_crb_angle_rad2"
    }
}

/// `isac wideband dictionary --json` (`max_pair` only with ≥ 2 atoms; `build_seconds`/`dictionary_bytes` only with
/// `--build`: a nil field is left out, as the key the dictionary never set).
struct DictionaryResult: Encodable {
    let atoms: Int, maxCoherence: Double, grid: String, delta: Double, angles: Int, zeta: Double, ringScaleMeters: Double
    let rMinMeters: Double, rMaxMeters: Double, rows: Int, coherencePairsEvaluated: Int, coherenceSeconds: Double
    var maxPair: [RangeAngleSummary]? = nil
    var buildSeconds: Double? = nil
    var dictionaryBytes: Int? = nil
    enum CodingKeys: String, CodingKey {
        case atoms, maxCoherence = "max_coherence", grid, delta, angles, zeta, ringScaleMeters = "ring_scale_m"
        case rMinMeters = "r_min_m", rMaxMeters = "r_max_m", rows, coherencePairsEvaluated = "coherence_pairs_evaluated"
        case coherenceSeconds = "coherence_seconds", maxPair = "max_pair", buildSeconds = "build_seconds"
        case dictionaryBytes = "dictionary_bytes"
    }
}

/// `isac wideband localize --json`: `estimated` holds `null` for a true target with no estimate matched to it;
/// the method's own fields (`atoms`, `grid`, `refined`, `exclusion_cells` for cs; `scan_points` for MUSIC) are
/// flattened into the same object, a nil one left out as the key the dictionary never set.
struct LocalizeResult: Encodable {
    struct Extra: Encodable {
        var atoms: Int? = nil, grid: String? = nil, refined: Bool? = nil, exclusionCells: Int? = nil, scanPoints: Int? = nil
        enum CodingKeys: String, CodingKey {
            case atoms, grid, refined, exclusionCells = "exclusion_cells", scanPoints = "scan_points"
        }
    }
    let method: String, targets: Int, snrDb: Double, seed: Int, snapshots: Int
    let truth: [RangeAngleSummary], estimated: [RangeAngleSummary?]
    let nmse: Double, nmseDb: Double, seconds: Double
    let extra: Extra
    enum CodingKeys: String, CodingKey {
        case method, targets, snrDb = "snr_db", seed, snapshots, truth, estimated, nmse, nmseDb = "nmse_db", seconds
    }
    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(method, forKey: .method); try c.encode(targets, forKey: .targets); try c.encode(snrDb, forKey: .snrDb)
        try c.encode(seed, forKey: .seed); try c.encode(snapshots, forKey: .snapshots); try c.encode(truth, forKey: .truth)
        try c.encode(estimated, forKey: .estimated); try c.encode(nmse, forKey: .nmse); try c.encode(nmseDb, forKey: .nmseDb)
        try c.encode(seconds, forKey: .seconds)
        try extra.encode(to: encoder)   // same keyed container: the method's fields sit beside the common ones
    }
}
