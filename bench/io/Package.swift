// swift-tools-version:6.0
// I/O benchmark runner: `swift run -c release --package-path bench/io io-bench [MiB]`
// (a separate package so the root package's build graph stays untouched).
import Foundation
import PackageDescription

// The root package's identity is its folder name, which depends on where it was cloned.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../..").standardizedFileURL
let package = Package(
    name: "IOBench",
    platforms: [.macOS(.v13)],
    dependencies: [.package(path: root.path)],
    targets: [
        .executableTarget(name: "io-bench", dependencies: [
            .product(name: "ISACKit", package: root.lastPathComponent),
        ]),
    ]
)
