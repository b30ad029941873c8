import ArgumentParser
import Foundation
import Linalg
import ISACIO
import Metrics
import MultiTargetISAC
import Estimation
import Arrays

/// `isac multitarget figure …`: paper figures that are not sweeps of the evaluation protocol.
struct MTFigure: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "figure", abstract: "Paper figures (fig3: angle-delay map, ideal vs impaired array).",
                                                    subcommands: [MTFigure3.self])
}

/// `isac multitarget figure fig3 --out DIR`: the angle–delay map of one T-target scene through the ideal and the
/// impaired array (paper Fig. 3; `AngleDelayMapFigure`).
struct MTFigure3: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "fig3",
        abstract: "Angle-delay map of one scene, ideal vs impaired array (paper Fig. 3): DIR/fig3.svg, fig3_map.csv, fig3_targets.csv.")
    @OptionGroup var system: MTSystemOptions
    @Option(name: .customLong("targets"), help: "T, targets in the scene (paper: 4; <= --targets-max).") var targets = 4
    @Option(name: .customLong("figure-snr-r-db"), parsing: .unconditional, help: "Integrated sensing SNR of the figure, dB (paper Fig. 3: 20).") var snrDB = 20.0
    @Option(name: .customLong("eta"), help: "ISAC trade-off eta of the beam (1 = sensing only).") var eta = 1.0
    @Option(name: .customLong("floor-db"), parsing: .unconditional, help: "Colour scale floor, dB below the ideal map's maximum.") var floorDB = -30.0
    @Option(name: .customLong("seed"), help: "Scene seed.") var seed: UInt64 = 3
    @Option(name: .customLong("out"), help: "Output folder.") var out: String
    @Flag(name: .customLong("json"), help: "Print one JSON object on stdout.") var json = false

    func validate() throws {
        try system.validateCommon()
        try Check.inRange(eta, 0, 1, "--eta")
        try MultiTargetLimits.check(snrDB, in: MultiTargetLimits.snrDB, "--figure-snr-r-db", unit: "dB", why: "beyond any receiver's dynamic range")
        guard floorDB.isFinite, floorDB < 0 else { throw ISACError.invalidParameter(name: "--floor-db", value: "\(floorDB)", valid: "must be finite and < 0") }
        guard !out.isEmpty else { throw ISACError.invalidParameter(name: "--out", value: "\"\"", valid: "must be a folder path") }
        try CLIOutput.checkFolder(out)
    }

    func run() throws {
        let cfg = try system.config()
        let fig = try AngleDelayMapFigure.make(config: cfg, impairmentSeed: system.impairmentSeed, seed: seed, targets: targets,
                                               sensingSNRdB: snrDB, eta: eta)
        let dir = URL(fileURLWithPath: out)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try Figure.writePanels(fig.figures(floorDB: floorDB), columns: 1, to: dir.appendingPathComponent("fig3.svg").path)
        try fig.mapTable().write(to: dir.appendingPathComponent("fig3_map.csv").path)
        try fig.targetTable().write(to: dir.appendingPathComponent("fig3_targets.csv").path)
        let rep = Fig3Report(out: out, figure: fig, snrDB: snrDB)
        if json { print(try ResultJSON.string(rep)) } else {
            print(String(format: "fig3: T = %d, impaired peak / ideal peak = %.3f (%.2f dB); wrote %@/fig3.svg, fig3_map.csv, fig3_targets.csv",
                         targets, rep.impairedPeakOverIdealPeak, 10 * log10(rep.impairedPeakOverIdealPeak), out as NSString))
        }
    }
}
