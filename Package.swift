// swift-tools-version:6.0
import PackageDescription

let package = Package(
  name: "checkpointctl",
  platforms: [.macOS(.v13)],
  products: [
    .executable(name: "checkpointctl", targets: ["checkpointctl"]),
    .library(name: "CheckpointKit", targets: ["CheckpointKit"]),
    .library(name: "Rendering", targets: ["Rendering"]),
    .library(name: "OCI", targets: ["OCI"]),
    .library(name: "CRIU", targets: ["CRIU"]),
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
    .target(
      name: "OCI",
      dependencies: ["Archive", "SystemSupport"]
    ),
    .target(
      name: "CheckpointKit",
      dependencies: [
        "SystemSupport", "Archive", "CRIU", "OCI",
      ]
    ),
    .target(name: "Rendering", dependencies: ["CheckpointKit", "OCI"]),
    .executableTarget(
      name: "checkpointctl",
      dependencies: [
        "CheckpointKit", "Rendering", "OCI",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    .target(
      name: "TestSupport",
      dependencies: ["Archive", "SystemSupport"],
      path: "Tests/TestSupport"
    ),
    .testTarget(
      name: "CheckpointKitTests",
      dependencies: ["CheckpointKit", "Rendering", "OCI", "TestSupport"]
    ),
    .testTarget(
      name: "CRIUTests",
      dependencies: ["CRIU", "CheckpointKit", "TestSupport"]
    ),
    .testTarget(name: "OCITests", dependencies: ["OCI", "Archive", "SystemSupport", "TestSupport"]),
    .testTarget(name: "SystemSupportTests", dependencies: ["SystemSupport", "TestSupport"]),
    .testTarget(name: "ArchiveTests", dependencies: ["Archive", "SystemSupport", "TestSupport"]),
    .testTarget(name: "CheckpointCtlTests", dependencies: ["checkpointctl", "CheckpointKit", "TestSupport"]),
    .testTarget(name: "RenderingTests", dependencies: ["Rendering", "CheckpointKit", "TestSupport"]),
    .testTarget(
      name: "CLITests",
      dependencies: ["checkpointctl", "CheckpointKit", "Rendering", "TestSupport"]
    ),
  ]
)
