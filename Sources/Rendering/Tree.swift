import CheckpointKit

/// A tree of text lines drawn as Go's treeprint draws it (`├── `, `│   `, `└── `, `    `).
public struct Tree: Equatable, Sendable {
  /// The node's line.
  public var text: String
  /// The nodes below it, in order.
  public var children: [Tree]

  /// A node with `text` and `children`.
  public init(_ text: String, _ children: [Tree] = []) {
    self.text = text
    self.children = children
  }

  /// Appends a child node.
  public mutating func add(_ child: Tree) { children.append(child) }

  /// Appends a leaf.
  public mutating func add(_ text: String) { children.append(Tree(text)) }

  /// The drawing: the root line, then every descendant with its branch prefix; each line ends with `\n`.
  public var rendered: String {
    var output = text + "\n"
    Self.draw(children, prefix: "", into: &output)
    return output
  }

  private static func draw(_ nodes: [Tree], prefix: String, into output: inout String) {
    for (index, node) in nodes.enumerated() {
      let last = index == nodes.count - 1
      output += prefix + (last ? "└── " : "├── ") + node.text + "\n"
      draw(node.children, prefix: prefix + (last ? "    " : "│   "), into: &output)
    }
  }
}
