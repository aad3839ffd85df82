// swift-tools-version:6.0
import PackageDescription

let package = Package(
  name: "checkpointctl",
  platforms: [.macOS(.v13)],
  products: [
    .executable(name: "checkpointctl", targets: ["checkpointctl"]),
    .library(name: "CheckpointKit", targets: ["CheckpointKit"]),
    .library(name: "OCI", targets: ["OCI"]),
    .library(name: "Archive", targets: ["Archive"]),
    .library(name: "SystemSupport", targets: ["SystemSupport"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
  ],
  targets: [
    .systemLibrary(
      name: "CLibArchive",
      pkgConfig: "libarchive",
      providers: [.apt(["libarchive-dev"])]
    ),
    .target(name: "CSystemShims"),
    .target(name: "SystemSupport", dependencies: ["CSystemShims"]),
    .target(
      name: "Archive",
      dependencies: ["SystemSupport", "CLibArchive", .product(name: "Crypto", package: "swift-crypto")]
    ),
    .target(
      name: "CRIU",
      dependencies: ["SystemSupport", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
      exclude: ["Protos"]
    ),
    .target(name: "OCI", dependencies: ["SystemSupport", .product(name: "Crypto", package: "swift-crypto")]),
    .target(
      name: "CheckpointKit",
      dependencies: [
        "CSystemShims", "SystemSupport", "Archive", "CRIU", "OCI",
      ]
    ),
    .executableTarget(
      name: "checkpointctl",
      dependencies: [
        "CheckpointKit", "OCI",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    .target(
      name: "TestSupport",
      dependencies: ["CheckpointKit"],
      path: "Tests/TestSupport"
    ),
    .testTarget(
      name: "CheckpointKitTests",
      dependencies: ["CheckpointKit", "OCI", "TestSupport"]
    ),
    .testTarget(
      name: "CRIUTests",
      dependencies: ["CRIU", "CheckpointKit", "TestSupport"]
    ),
    .testTarget(name: "OCITests", dependencies: ["OCI", "SystemSupport"]),
    .testTarget(name: "SystemSupportTests", dependencies: ["SystemSupport", "TestSupport"]),
    .testTarget(name: "ArchiveTests", dependencies: ["Archive", "SystemSupport", "TestSupport"]),
    .testTarget(name: "CheckpointCtlTests", dependencies: ["checkpointctl", "CheckpointKit", "TestSupport"]),
    .testTarget(
      name: "CLITests",
      dependencies: ["checkpointctl", "CheckpointKit", "TestSupport"]
    ),
  ]
)
