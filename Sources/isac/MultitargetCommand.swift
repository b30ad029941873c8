import ArgumentParser

// Placeholder group; the owning issue replaces this file with the real subcommands.
struct MultitargetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "multitarget", abstract: "Model-based multi-target ISAC under impairments (paper 2).")
}
