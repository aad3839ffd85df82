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
    .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
    .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
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
      dependencies: [
        "Archive", "SystemSupport",
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOHTTP1", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "NIOSSL", package: "swift-nio-ssl"),
      ]
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
