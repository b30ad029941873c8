import ArgumentParser

// Placeholder group; the owning issue replaces this file with the real subcommands.
struct WidebandCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "wideband", abstract: "Wideband near-field sensing (paper 1).")
}
