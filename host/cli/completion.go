// This file defines the shell completion scripts. Each asks pirun itself
// for the candidates (pirun __complete WORDS... CURRENT), so commands,
// subcommands and flags are those of the binary installed, and files are
// left to the shell.

package cli

import "fmt"

// Completion returns the completion script for shell, one of [Shells].
func Completion(shell string) (string, error) {
	switch shell {
	case "bash":
		return `# bash completion for pirun; load it with:
#   source <(pirun completion bash)
# or install it: pirun completion bash | sudo tee /usr/share/bash-completion/completions/pirun
_pirun() {
    local cur=${COMP_WORDS[COMP_CWORD]}
    local IFS=$'\n'
    COMPREPLY=($(compgen -W "$(pirun __complete "${COMP_WORDS[@]:1:COMP_CWORD-1}" "$cur" 2>/dev/null)" -- "$cur"))
}
complete -o default -F _pirun pirun
`, nil
	case "zsh":
		return `#compdef pirun
# zsh completion for pirun; load it with:
#   source <(pirun completion zsh)
# or put it on $fpath as _pirun: pirun completion zsh > "${fpath[1]}/_pirun"
_pirun() {
    local -a cands
    cands=("${(@f)$(pirun __complete --describe "${(@)words[2,CURRENT-1]}" "${words[CURRENT]}" 2>/dev/null)}")
    cands=(${cands:#})
    if (( ${#cands} )); then
        cands=("${(@)cands/$'\t'/:}")
        _describe -t pirun pirun cands
    else
        _files
    fi
}
if [[ "${funcstack[1]}" == "_pirun" ]]; then
    _pirun "$@"
else
    compdef _pirun pirun
fi
`, nil
	case "fish":
		return `# fish completion for pirun; load it with:
#   pirun completion fish | source
# or install it: pirun completion fish > ~/.config/fish/completions/pirun.fish
complete -c pirun -a '(pirun __complete --describe (commandline -opc)[2..-1] (commandline -ct) 2>/dev/null)'
`, nil
	}
	return "", fmt.Errorf("unknown shell %q: expected bash, zsh or fish", shell)
}

// CompletionCommand is `pirun completion ARGS`: the script for the one
// shell named, the command's help for -h or --help, or an error that
// says what to type.
func CompletionCommand(args []string) (string, error) {
	switch {
	case len(args) == 1 && (args[0] == "-h" || args[0] == "--help"):
		return HelpOf("pirun completion").Usage, nil
	case len(args) != 1:
		return "", fmt.Errorf("expected one shell: bash, zsh or fish\n\n%s", HelpOf("pirun completion").Usage)
	}
	return Completion(args[0])
}
