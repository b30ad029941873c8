import ArgumentParser

// Placeholder group; the owning issue replaces this file with the real subcommands.
struct ExtendedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "extended", abstract: "Extended-target recognition networks (paper 3).")
}
