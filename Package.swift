// swift-tools-version:6.0
import PackageDescription

/// Members of a module are visible only where it is imported (SE-0444): nothing reaches Foundation through a
/// dependency that imports it, so the binary links FoundationEssentials alone.
let strictImports: [SwiftSetting] = [.enableUpcomingFeature("MemberImportVisibility")]

let package = Package(
  name: "checkpointctl",
  platforms: [.macOS(.v13)],
  products: [
    .executable(name: "checkpointctl", targets: ["checkpointctl"]),
    .library(name: "CheckpointKit", targets: ["CheckpointKit"]),
    .library(name: "CoreDump", targets: ["CoreDump"]),
    .library(name: "Verify", targets: ["Verify"]),
    .library(name: "Scan", targets: ["Scan"]),
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
    // libyara's headers only (no pkg-config: its flags would link the library); CYaraLoader loads it on demand.
    .systemLibrary(name: "CYara", providers: [.apt(["libyara-dev"])]),
    .target(name: "CYaraLoader", dependencies: ["CYara"], linkerSettings: [.linkedLibrary("dl")]),
    .target(name: "CSystemShims"),
    .target(name: "SystemSupport", dependencies: ["CSystemShims"], swiftSettings: strictImports),
    .target(
      name: "Archive",
      dependencies: ["SystemSupport", "CLibArchive", .product(name: "Crypto", package: "swift-crypto")],
      swiftSettings: strictImports
    ),
    .target(
      name: "CRIU",
      dependencies: ["SystemSupport", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
      exclude: ["Protos"],
      swiftSettings: strictImports
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
      ],
      swiftSettings: strictImports
    ),
    .target(
      name: "CheckpointKit",
      dependencies: [
        "SystemSupport", "Archive", "CRIU", "OCI",
      ],
      swiftSettings: strictImports
    ),
    .target(
      name: "CoreDump",
      dependencies: ["CheckpointKit", "CRIU", "OCI", "Archive", "SystemSupport"],
      swiftSettings: strictImports
    ),
    .target(
      name: "Verify",
      dependencies: ["CheckpointKit", "CRIU", "OCI", "Archive", "SystemSupport"],
      swiftSettings: strictImports
    ),
    .target(
      name: "Scan",
      dependencies: ["CheckpointKit", "CRIU", "OCI", "Archive", "SystemSupport", "CYara", "CYaraLoader"],
      swiftSettings: strictImports
    ),
    .target(
      name: "Rendering", dependencies: ["CheckpointKit", "CoreDump", "Verify", "Scan", "OCI"],
      swiftSettings: strictImports),
    .executableTarget(
      name: "checkpointctl",
      dependencies: [
        "CheckpointKit", "CoreDump", "Verify", "Scan", "Rendering", "OCI",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      swiftSettings: strictImports,
      // The static Swift runtime asks the linker to export every symbol (4.5 MB of symbol tables in the
      // stripped binary, and more for the loader to hash at start); nothing looks our symbols up at run time.
      linkerSettings: [.unsafeFlags(["-Xlinker", "--no-export-dynamic"])]
    ),
    .target(
      name: "TestSupport",
      dependencies: ["Archive", "CRIU", "SystemSupport"],
      path: "Tests/TestSupport"
    ),
    .testTarget(
      name: "CheckpointKitTests",
      dependencies: ["CheckpointKit", "CoreDump", "Scan", "Rendering", "OCI", "TestSupport"]
    ),
    .testTarget(
      name: "CRIUTests",
      dependencies: ["CRIU", "CheckpointKit", "TestSupport"]
    ),
    .testTarget(name: "CoreDumpTests", dependencies: ["CoreDump", "CheckpointKit", "CRIU", "TestSupport"]),
    .testTarget(
      name: "ScanTests",
      dependencies: [
        "Scan", "Rendering", "CheckpointKit", "TestSupport", .product(name: "SwiftProtobuf", package: "swift-protobuf"),
      ]),
    .testTarget(name: "VerifyTests", dependencies: ["Verify", "Rendering", "CheckpointKit", "TestSupport"]),
    .testTarget(name: "OCITests", dependencies: ["OCI", "Archive", "SystemSupport", "TestSupport"]),
    .testTarget(name: "SystemSupportTests", dependencies: ["SystemSupport", "TestSupport"]),
    .testTarget(name: "ArchiveTests", dependencies: ["Archive", "SystemSupport", "TestSupport"]),
    .testTarget(name: "CheckpointCtlTests", dependencies: ["checkpointctl", "CheckpointKit", "TestSupport"]),
    .testTarget(name: "RenderingTests", dependencies: ["Rendering", "CheckpointKit", "TestSupport"]),
    .testTarget(
      name: "CLITests",
      dependencies: ["checkpointctl", "CheckpointKit", "OCI", "Rendering", "Verify", "TestSupport"]
    ),
  ]
)
