// swift-tools-version:6.0
import PackageDescription

// Layering (no cycles): physics below, algorithms above, experiments and CLI on top.
//   CLinalg (system: OpenBLAS, LAPACKE, FFTW3), CKernels (internal plain-C SIMD kernels, no product)
//   Linalg  <- Arrays, Waveforms, ISACIO
//   Estimation, Metrics, Scattering, Learning  (algorithms)
//   ExtendedDatasets <- Scattering  (extended-target datasets: generator, locked chunk store)
//   WidebandSensing, MultiTargetISAC, ExtendedTarget  (one per reproduced paper: models + experiments)
//   isac (CLI)
let numerics = Target.Dependency.product(name: "Numerics", package: "swift-numerics")

let package = Package(
    name: "ISACKit",
    // Tested on Linux x86_64 (Debian 12, Swift 6.3). macOS 13+ is declared so the manifest resolves there, but it is
    // untested: it needs OpenBLAS, LAPACKE and FFTW from Homebrew (see the providers of CLinalg).
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "isac", targets: ["isac"]),
        // `import ISACKit` re-exports every library target (Sources/ISACKit/ISACKit.swift).
        .library(name: "ISACKit", targets: ["ISACKit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-numerics", from: "1.1.1"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .systemLibrary(name: "CLinalg", path: "Sources/CLinalg", providers: [
            .apt(["libopenblas-dev", "liblapacke-dev", "libfftw3-dev"]),
            .brew(["openblas", "lapack", "fftw"]),
        ]),
        .target(name: "Linalg", dependencies: ["CLinalg", numerics]),
        // Internal plain-C SIMD kernels (run-time AVX-512/AVX2 dispatch, portable fallback); not a product.
        .target(name: "CKernels"),
        .target(name: "ISACIO", dependencies: ["Linalg", numerics]),
        .target(name: "Arrays", dependencies: ["Linalg", numerics]),
        .target(name: "Waveforms", dependencies: ["Linalg", numerics]),
        .target(name: "Estimation", dependencies: ["Linalg", "Arrays", "CKernels", numerics]),
        .target(name: "Metrics", dependencies: ["Linalg", numerics]),
        .target(name: "Scattering", dependencies: ["Linalg", "Arrays", "ISACIO", numerics]),
        .target(name: "Learning", dependencies: ["Linalg", "ISACIO", "CKernels", numerics]),
        // Extended-target datasets (generator + locked, config-hashed chunk store) on top of the physics; below
        // ExtendedTarget so `isac dataset generate` needs no learning stack.
        .target(name: "ExtendedDatasets", dependencies: ["Linalg", "Arrays", "ISACIO", "Scattering", numerics]),
        .target(name: "WidebandSensing",
                dependencies: ["Linalg", "Arrays", "Estimation", "ISACIO", numerics]),
        .target(name: "MultiTargetISAC",
                dependencies: ["Linalg", "Arrays", "Waveforms", "Estimation", "Metrics", "ISACIO", "Learning", numerics]),
        .target(name: "ExtendedTarget",
                dependencies: ["Linalg", "Arrays", "Waveforms", "Scattering", "ExtendedDatasets", "Estimation", "Metrics",
                               "Learning", "ISACIO", numerics]),
        .target(name: "ISACKit", dependencies: [
            "Linalg", "Arrays", "Waveforms", "ISACIO", "Estimation", "Metrics", "Scattering", "ExtendedDatasets",
            "Learning", "WidebandSensing", "MultiTargetISAC", "ExtendedTarget",
        ]),
        .executableTarget(name: "isac", dependencies: [
            "Linalg", "Arrays", "Waveforms", "ISACIO", "Estimation", "Metrics", "Scattering", "ExtendedDatasets",
            "Learning", "WidebandSensing", "MultiTargetISAC", "ExtendedTarget",
            .product(name: "ArgumentParser", package: "swift-argument-parser"), numerics,
        ]),
        .testTarget(name: "LinalgTests", dependencies: ["Linalg", numerics]),
        .testTarget(name: "ArraysTests", dependencies: ["Arrays", "Linalg", numerics]),
        .testTarget(name: "WaveformsTests", dependencies: ["Waveforms", "Linalg", numerics]),
        .testTarget(name: "ISACIOTests", dependencies: ["ISACIO", "Linalg", numerics]),
        .testTarget(name: "EstimationTests", dependencies: ["Estimation", "CKernels", "Arrays", "Linalg", numerics]),
        .testTarget(name: "MetricsTests", dependencies: ["Metrics", "Linalg", numerics]),
        // ScatteringTests: the dataset-config based PO/VIE/validated-range tests build their scenes with ExtendedDatasets.
        .testTarget(name: "ScatteringTests", dependencies: ["Scattering", "ExtendedDatasets", "Arrays", "Linalg", "_TestSupport", numerics]),
        .testTarget(name: "ExtendedDatasetsTests", dependencies: ["ExtendedDatasets", "Scattering", "ISACIO", "Arrays", "Linalg", "_TestSupport", numerics]),
        .testTarget(name: "LearningTests", dependencies: ["Learning", "CKernels", "Linalg", numerics]),
        .testTarget(name: "WidebandSensingTests", dependencies: ["WidebandSensing", "Estimation", "Arrays", "Linalg", numerics]),
        .testTarget(name: "MultiTargetISACTests", dependencies: ["MultiTargetISAC", "Estimation", "Metrics", "Arrays", "Waveforms", "Linalg", "Learning", numerics]),
        .testTarget(name: "ExtendedTargetTests", dependencies: ["ExtendedTarget", "ExtendedDatasets", "Learning", "Scattering", "Linalg", numerics]),
        // Helpers shared by test targets (Tests/_TestSupport); only test targets depend on it (ExtendedDatasets for `tinyDatasetConfig`).
        .target(name: "_TestSupport", dependencies: ["ExtendedDatasets"], path: "Tests/_TestSupport"),
        .testTarget(name: "isacTests", dependencies: ["isac", "Waveforms", "Linalg", "ISACIO", "Learning", "_TestSupport"]),
    ]
)
