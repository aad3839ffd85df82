import CheckpointKit
import SystemSupport

/// What the manual pages add to the command definitions: examples and exit statuses (nothing `--help` shows).
enum ManualExamples {
  typealias Example = ManualPage.Example

  /// Examples by command path (`""` is checkpointctl itself, `"plugin list"` a nested command).
  static let examples: [String: [Example]] = [
    "": [
      Example("Show the containers of a checkpoint archive:", "checkpointctl show /tmp/checkpoint.tar.zst"),
      Example(
        "Show the process tree of every checkpoint in a directory:",
        "checkpointctl inspect --ps-tree /var/lib/kubelet/checkpoints/*.tar"),
      Example("List the plugins on PATH:", "checkpointctl plugin list"),
    ],
    "show": [
      Example("Show a container checkpoint archive:", "checkpointctl show /tmp/checkpoint.tar"),
      Example(
        "Show the kubelet checkpoint store, with pod UIDs, as JSON:", "checkpointctl show --show-pod-uid --format json"),
    ],
    "extract": [
      Example(
        "Pack this node's kubelet checkpoints into one zstd archive:",
        "checkpointctl extract --output /tmp/pods.tar.zst"),
      Example("Stream them to another node:", "checkpointctl extract -o - | ssh node2 'cat > /tmp/pods.tar.zst'"),
    ],
    "insert": [
      Example(
        "Insert an archive written by extract into this node's kubelet store:",
        "checkpointctl insert --input /tmp/pods.tar.zst")
    ],
    "list": [
      Example("List the checkpoints in the kubelet's directory:", "checkpointctl list"),
      Example("List the checkpoints in other directories:", "checkpointctl list /srv/checkpoints /tmp"),
    ],
    "inspect": [
      Example("Show the process tree with command lines:", "checkpointctl inspect --ps-tree-cmd /tmp/checkpoint.tar"),
      Example("Show everything as JSON:", "checkpointctl inspect --all --format json /tmp/checkpoint.tar"),
    ],
    "memparse": [
      Example("Show the memory sizes of every process:", "checkpointctl memparse /tmp/checkpoint.tar"),
      Example(
        "Hexdump the memory of process 1 into a file:",
        "checkpointctl memparse --pid 1 --output /tmp/pid1.txt /tmp/checkpoint.tar"),
      Example(
        "Search every process's memory for a string, with 16 bytes of context:",
        "checkpointctl memparse --search PASSWORD --context 16 /tmp/checkpoint.tar"),
    ],
    "decode": [
      Example(
        "Decode one image of an archive as JSON:", "checkpointctl decode /tmp/checkpoint.tar:checkpoint/pstree.img"),
      Example("List the images of a checkpoint directory:", "checkpointctl decode /tmp/checkpoint"),
    ],
    "encode": [
      Example(
        "Decode an image, edit the JSON, and write the image back:", "checkpointctl encode -i core-1.json -o core-1.img"
      )
    ],
    "completion": [
      Example("Load bash completion in the current shell:", "source <(checkpointctl completion bash)"),
      Example("Install zsh completion for the current user:", "checkpointctl completion zsh > ~/.zfunc/_checkpointctl"),
    ],
    "coredump": [
      Example(
        "Write a core file for every process of a checkpoint into /tmp:",
        "checkpointctl coredump --output /tmp /tmp/checkpoint.tar")
    ],
    "verify": [
      Example(
        "Check that a checkpoint is intact before restoring it:", "checkpointctl verify /tmp/checkpoint.tar.zst"),
      Example(
        "Check this node's kubelet store, as JSON:", "checkpointctl verify --format json /var/lib/kubelet/checkpoints"),
    ],
    "scan": [
      Example("Look for the built-in indicators of an intrusion:", "checkpointctl scan /tmp/checkpoint.tar.zst"),
      Example(
        "Scan every process's memory and the changed files with a directory of YARA rules, as JSON:",
        "checkpointctl scan --rules /etc/yara/rules --format json /tmp/checkpoint.tar.zst"),
    ],
    "plugin": [
      Example("List the plugins on PATH:", "checkpointctl plugin list"),
      Example("Run the plugin checkpointctl-hello with two arguments:", "checkpointctl hello --name world"),
    ],
    "plugin list": [
      Example(
        "List the plugins, with a directory of one's own first on PATH:",
        "PATH=$HOME/.local/bin:$PATH checkpointctl plugin list")
    ],
  ]

  /// For a command without examples of its own: its help.
  static func fallback(for path: [String]) -> [Example] {
    [Example("Show the options:", (["checkpointctl"] + path + ["--help"]).joined(separator: " "))]
  }

  /// Exit statuses: every command's, and for checkpointctl(1) what a plugin's run returns.
  static func exitStatus(isRoot: Bool, path: [String] = []) -> [(status: String, meaning: String)] {
    if path == ["scan"] {
      return [
        ("0", "Nothing found: no rule matched and no finding is suspicious."),
        ("1", "A failure (bad rules or arguments, an unreadable checkpoint): one line, Error: and what went wrong."),
        ("2", "A rule matched or a suspicious finding was made (and no failure)."),
      ]
    }
    var statuses = [
      ("0", "Success (help and version included)."),
      (
        "1",
        "Any failure, bad arguments included: one line, Error: followed by what went wrong and with which file, "
          + "on standard error."
      ),
    ]
    if isRoot {
      statuses.append(
        (
          "other",
          "When the sub-command is a plugin, checkpointctl is replaced by it: the exit status, or the signal, is the plugin's."
        ))
    }
    return statuses
  }
}
