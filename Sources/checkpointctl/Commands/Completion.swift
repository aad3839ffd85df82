import ArgumentParser
import FoundationEssentials
import Rendering

extension CheckpointCtl {
  struct Completion: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "completion",
      abstract: "Generate the autocompletion script for the specified shell")

    enum Shell: String, ExpressibleByArgument, CaseIterable {
      case bash, zsh, fish
    }

    @Argument(help: "bash, zsh or fish")
    var shell: Shell

    func run() throws {
      emit(CheckpointCtl.completionScriptWithPlugins(for: shell))
    }
  }

  /// swift-argument-parser's script for `shell` (file names, directories and values as the arguments and options
  /// declare them), plus what it cannot know: plugin names (the executables `checkpointctl-<name>` on `PATH` when
  /// completing, not when the script was made) as sub-commands, and file names for a plugin's arguments.
  static func completionScriptWithPlugins(for shell: Completion.Shell) -> String {
    let builtins = builtinCommandNames.sorted()
    switch shell {
    case .bash:
      return completionScript(for: .bash) + """

        # Plugins (checkpointctl-<name> on PATH) complete as sub-commands, their arguments as file names (-o default,
        # which also offers file names wherever nothing else is offered).
        _checkpointctl_with_plugins() {
            local -i index
            for ((index = 1; index < COMP_CWORD; index++)); do
                case "${COMP_WORDS[index]}" in
                -*) ;;
                \(builtins.joined(separator: "|")))
                    _checkpointctl "$@"
                    return
                    ;;
                *)
                    COMPREPLY=()
                    return
                    ;;
                esac
            done
            _checkpointctl "$@"
            if [[ "${2}" != -* ]]; then
                local plugin
                while IFS= read -r plugin; do
                    case "${plugin#checkpointctl-}" in
                    \(builtins.joined(separator: "|"))) ;;
                    *) COMPREPLY+=("${plugin#checkpointctl-}") ;;
                    esac
                done < <(compgen -c -- "checkpointctl-${2}" | sort -u)
            fi
        }

        complete -o filenames -o bashdefault -o default -F _checkpointctl_with_plugins checkpointctl

        """
    case .zsh:
      var script = completionScript(for: .zsh)
      // Plugins next to the sub-commands, with their path as description.
      script = script.replacingFirst(
        "        _describe -V subcommand subcommands && ret=0\n",
        with: """
                  local -a plugins=(${${(k)commands[(I)checkpointctl-*]}#checkpointctl-})
                  plugins=(${plugins:#(\(builtins.joined(separator: "|")))})
                  _describe -V subcommand subcommands -- plugins && ret=0

          """)
      // A plugin's arguments: file names.
      return script.replacingFirst(
        "            \"_checkpointctl_${words[1]}\" && ret=0\n            ;;\n        esac\n",
        with: """
                      "_checkpointctl_${words[1]}" && ret=0
                      ;;
                  *)
                      _files && ret=0
                      ;;
                  esac

          """)
    case .fish:
      let lines: [String] = [
        "",
        "# Plugins (checkpointctl-<name> on PATH) complete as sub-commands, their arguments as file names.",
        "function __checkpointctl_plugins",
        "    for file in $PATH/checkpointctl-*",
        "        test -f $file -a -x $file; or continue",
        "        set -l name (string replace -r '^.*/checkpointctl-' '' -- $file)",
        "        contains -- $name \(builtins.joined(separator: " ")); or echo $name",
        "    end",
        "end",
        "function __checkpointctl_in_plugin",
        "    set -l tokens (commandline -opc)",
        "    test (count $tokens) -ge 2; or return 1",
        "    string match -q -- '-*' $tokens[2]; and return 1",
        "    not contains -- $tokens[2] \(builtins.joined(separator: " "))",
        "end",
        "complete -c 'checkpointctl' -n '__checkpointctl_should_offer_completions_for_positional \"checkpointctl\" -eq 1' -fa '(__checkpointctl_plugins)' -d 'Plugin'",
        "complete -c 'checkpointctl' -n '__checkpointctl_in_plugin' -F",
      ]
      return completionScript(for: .fish) + lines.joined(separator: "\n") + "\n"
    }
  }
}

extension String {
  /// The text with the first `target` replaced, or unchanged when there is none.
  fileprivate func replacingFirst(_ target: String, with replacement: String) -> String {
    guard let range = firstRange(of: target) else { return self }
    var result = self
    result.replaceSubrange(range, with: replacement)
    return result
  }
}
