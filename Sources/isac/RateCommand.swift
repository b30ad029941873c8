import ArgumentParser

// Placeholder group; the owning issue replaces this file with the real subcommands.
struct RateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rate", abstract: "Normalized ergodic rate R_erg(K_s).")
}
