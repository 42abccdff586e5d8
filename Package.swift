// swift-tools-version:6.0
import PackageDescription

let package = Package(
  name: "seqrec",
  platforms: [.macOS(.v14)],
  products: [
    .executable(name: "seqrec", targets: ["seqrec"]),
    .library(name: "TensorCore", targets: ["TensorCore"]),
    .library(name: "NN", targets: ["NN"]),
    .library(name: "RecData", targets: ["RecData"]),
    .library(name: "RecEval", targets: ["RecEval"]),
    .library(name: "RecModels", targets: ["RecModels"]),
    .library(name: "RecTrain", targets: ["RecTrain"]),
    .library(name: "RecServe", targets: ["RecServe"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/apple/swift-numerics", from: "1.1.1"),
    .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
    .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
  ],
  targets: [
    // MARK: BLAS binding (the only place that names OpenBLAS; Accelerate can replace it on macOS)
    .systemLibrary(
      name: "CBLAS",
      pkgConfig: "openblas",
      providers: [.apt(["libopenblas-dev"])]
    ),

    // MARK: Libraries, split by concern
    .target(
      name: "TensorCore",
      dependencies: ["CBLAS", .product(name: "RealModule", package: "swift-numerics")]
    ),
    .target(name: "NN", dependencies: ["TensorCore"]),
    .target(name: "RecData"),
    .target(name: "RecEval", dependencies: ["TensorCore", "RecData"]),
    .target(name: "RecModels", dependencies: ["NN", "RecData"]),
    .target(name: "RecTrain", dependencies: ["RecModels", "RecEval", "RecData"]),
    .target(
      name: "RecServe",
      dependencies: [
        "RecTrain", "RecModels", "RecEval", "RecData", "TensorCore",
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "GRDB", package: "GRDB.swift"),
        .product(name: "Prometheus", package: "swift-prometheus"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        .product(name: "Logging", package: "swift-log"),
      ]
    ),

    // MARK: Command-line tool (thin)
    .executableTarget(
      name: "seqrec",
      dependencies: [
        "RecTrain", "RecModels", "RecEval", "RecData", "TensorCore", "RecServe",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),

    // MARK: Tests
    .testTarget(name: "SeqrecCommandTests", dependencies: ["seqrec"]),
    .testTarget(name: "TensorCoreTests", dependencies: ["TensorCore"]),
    .testTarget(name: "NNTests", dependencies: ["NN", "TensorCore"]),
    .testTarget(name: "RecDataTests", dependencies: ["RecData"]),
    .testTarget(name: "RecEvalTests", dependencies: ["RecEval", "RecData"]),
    .testTarget(name: "RecModelsTests", dependencies: ["RecModels", "NN", "TensorCore", "RecData"]),
    .testTarget(name: "RecTrainTests", dependencies: ["RecTrain", "RecModels", "RecEval", "RecData"]),
    .testTarget(
      name: "RecServeTests",
      dependencies: [
        "RecServe", "RecTrain", "RecModels", "RecEval", "RecData", "TensorCore",
        .product(name: "GRDB", package: "GRDB.swift"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
      ]
    ),
  ]
)
