import ArgumentParser

// Placeholder group; the owning issue replaces this file with the real subcommands.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "demo", abstract: "Small end-to-end demo.")
}
