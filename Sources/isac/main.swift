import ArgumentParser
import Foundation
import Linalg

/// `isac`: the ISACKit command line. Each paper's commands live in their own file.
struct ISAC: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "isac",
        abstract: "Integrated sensing and communication research toolkit.",
        version: isacKitVersion,
        subcommands: [DemoCommand.self, RateCommand.self, WidebandCommand.self, MultitargetCommand.self,
                      ScatterCommand.self, DatasetCommand.self, ExtendedCommand.self, BenchCommand.self,
                      ClusterCommand.self, MergeCommand.self]
    )
}

// Debian OpenBLAS falls back to generic SSE3 kernels on CPUs it does not recognise (10× slower GEMM on this VM);
// re-launch once with the kernels the CPU supports (Linalg/BLASKernels.swift). ISAC_BLAS_CORETYPE=keep disables it.
BLASKernels.relaunchWithPreferredKernelsIfNeeded()
// oneDNN's OpenMP runtime (libgomp, loaded later with the learning convolutions) reads its wait policy when it loads;
// its spinning default takes the second core from Learning's own workers between convolutions (docs/learning.md).
// Set here, while the process is single-threaded (setenv is not safe once other threads may read the environment);
// a user's OMP_WAIT_POLICY is kept.
setenv("OMP_WAIT_POLICY", "PASSIVE", 0)
CLIMain.run(ISAC.self)
