import ArgumentParser

// Placeholder group; the owning issue replaces this file with the real subcommands.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench", abstract: "Benchmarks (release build).")
}
