import ArgumentParser

// Placeholder group; the owning issue replaces this file with the real subcommands.
struct ScatterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "scatter", abstract: "Near-field EM scattering (paper 3).")
}
