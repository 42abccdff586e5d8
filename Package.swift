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
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/apple/swift-numerics", from: "1.1.1"),
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
    .target(name: "RecEval", dependencies: ["RecData"]),
    .target(name: "RecModels", dependencies: ["NN", "RecData"]),
    .target(name: "RecTrain", dependencies: ["RecModels", "RecEval", "RecData"]),

    // MARK: Command-line tool (thin)
    .executableTarget(
      name: "seqrec",
      dependencies: [
        "RecTrain", "RecModels", "RecEval", "RecData", "TensorCore",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),

    // MARK: Tests
    .testTarget(name: "TensorCoreTests", dependencies: ["TensorCore"]),
    .testTarget(name: "NNTests", dependencies: ["NN", "TensorCore"]),
    .testTarget(name: "RecDataTests", dependencies: ["RecData"]),
    .testTarget(name: "RecEvalTests", dependencies: ["RecEval", "RecData"]),
    .testTarget(name: "RecModelsTests", dependencies: ["RecModels", "NN", "TensorCore", "RecData"]),
    .testTarget(name: "RecTrainTests", dependencies: ["RecTrain", "RecModels", "RecEval", "RecData"]),
  ]
)
