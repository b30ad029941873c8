import ArgumentParser

// Placeholder group; the owning issue replaces this file with the real subcommands.
struct DatasetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "dataset", abstract: "Extended-target dataset generation (paper 3).")
}
