// swift-tools-version:6.0
// libFuzzer targets for checkpointctl's decoders, kept out of the main package so that its build and `make test`
// do not pay for them. Built by `make fuzz` (Fuzz/run) with `-sanitize=fuzzer,address -parse-as-library`.
import PackageDescription

let package = Package(
  name: "checkpointctl-fuzz",
  products: [
    .executable(name: "fuzz-criu-image", targets: ["FuzzCRIUImage"]),
    .executable(name: "fuzz-memory", targets: ["FuzzMemory"]),
    .executable(name: "fuzz-coredump", targets: ["FuzzCoreDump"]),
    .executable(name: "fuzz-archive", targets: ["FuzzArchive"]),
    .executable(name: "fuzz-kubelet", targets: ["FuzzKubelet"]),
    .executable(name: "fuzz-container-metadata", targets: ["FuzzContainerMetadata"]),
    .executable(name: "fuzz-encode", targets: ["FuzzEncode"]),
    .executable(name: "fuzz-oci", targets: ["FuzzOCI"]),
    .executable(name: "fuzz-pod", targets: ["FuzzPod"]),
    .executable(name: "fuzz-scan", targets: ["FuzzScan"]),
  ],
  dependencies: [.package(name: "checkpointctl", path: "..")],
  targets: [
    .target(name: "CFuzzMain"),
    .target(
      name: "FuzzHarness",
      dependencies: [
        .product(name: "CheckpointKit", package: "checkpointctl"),
        .product(name: "CoreDump", package: "checkpointctl"),
        .product(name: "Verify", package: "checkpointctl"), .product(name: "Scan", package: "checkpointctl"),
        .product(name: "Rendering", package: "checkpointctl"),
        .product(name: "OCI", package: "checkpointctl"), .product(name: "CRIU", package: "checkpointctl"),
        .product(name: "Archive", package: "checkpointctl"), .product(name: "SystemSupport", package: "checkpointctl"),
      ]
    ),
    .executableTarget(name: "FuzzCRIUImage", dependencies: ["FuzzHarness", "CFuzzMain"]),
    .executableTarget(name: "FuzzMemory", dependencies: ["FuzzHarness", "CFuzzMain"]),
    .executableTarget(name: "FuzzCoreDump", dependencies: ["FuzzHarness", "CFuzzMain"]),
    .executableTarget(name: "FuzzArchive", dependencies: ["FuzzHarness", "CFuzzMain"]),
    .executableTarget(name: "FuzzKubelet", dependencies: ["FuzzHarness", "CFuzzMain"]),
    .executableTarget(name: "FuzzContainerMetadata", dependencies: ["FuzzHarness", "CFuzzMain"]),
    .executableTarget(name: "FuzzEncode", dependencies: ["FuzzHarness", "CFuzzMain"]),
    .executableTarget(name: "FuzzOCI", dependencies: ["FuzzHarness", "CFuzzMain"]),
    .executableTarget(name: "FuzzPod", dependencies: ["FuzzHarness", "CFuzzMain"]),
    .executableTarget(name: "FuzzScan", dependencies: ["FuzzHarness", "CFuzzMain"]),
  ]
)
