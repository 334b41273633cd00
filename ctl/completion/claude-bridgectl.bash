# bash completion for claude-bridgectl                                   -*- shell-script -*-
# Installed to share/bash-completion/completions/claude-bridgectl.
#
# Conversation ids and approval ids are asked of the running daemon (`claude-bridgectl list`,
# `claude-bridgectl approvals`, which the daemon records in its audit trail like any other
# call); nothing is completed when it is not running.

_claude_bridgectl_conversations()
{
    local socket_args=()
    [[ -n $1 ]] && socket_args=(--socket-dir "$1")
    claude-bridgectl "${socket_args[@]}" list 2>/dev/null | awk '$1 ~ /^conv_/ { print $1 }'
}

_claude_bridgectl_approvals()
{
    local socket_args=()
    [[ -n $1 ]] && socket_args=(--socket-dir "$1")
    claude-bridgectl "${socket_args[@]}" approvals 2>/dev/null | awk '$1 ~ /^apr_/ { print $1 }'
}

# File names through bash-completion's _filedir when it is loaded, plain compgen otherwise.
_claude_bridgectl_files()
{
    if declare -F _filedir >/dev/null; then
        _filedir "$@"
    elif [[ $1 == -d ]]; then
        COMPREPLY=($(compgen -d -- "$cur"))
    else
        COMPREPLY=($(compgen -f -- "$cur"))
    fi
}

_claude_bridgectl()
{
    local cur prev words cword
    if declare -F _init_completion >/dev/null; then
        _init_completion || return
    else
        words=("${COMP_WORDS[@]}")
        cword=$COMP_CWORD
        cur=${COMP_WORDS[COMP_CWORD]}
        prev=${COMP_WORDS[COMP_CWORD - 1]}
    fi

    local commands="agents list show tokens audit cleanup post end watch export import backup restore stats doctor mcp-config setup redact approvals approve deny ui hook"
    local globals="--socket-dir --json --version --help"

    # The subcommand, and a --socket-dir given anywhere on the line.
    local i cmd="" socket_dir=""
    for ((i = 1; i < cword; i++)); do
        case ${words[i]} in
            --socket-dir) socket_dir=${words[i + 1]} ;;
            --socket-dir=*) socket_dir=${words[i]#--socket-dir=} ;;
        esac
        if [[ -z $cmd && " $commands " == *" ${words[i]} "* && ${words[i - 1]} != --socket-dir ]]; then
            cmd=${words[i]}
        fi
    done

    case $prev in
        --socket-dir)
            _claude_bridgectl_files -d
            return ;;
        -o | --output)
            _claude_bridgectl_files
            return ;;
        --project)
            _claude_bridgectl_files -d
            return ;;
        --format)
            COMPREPLY=($(compgen -W "json markdown" -- "$cur"))
            return ;;
        --name | --port)
            return ;;
    esac

    if [[ -z $cmd ]]; then
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W "$globals" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "$commands" -- "$cur"))
        fi
        return
    fi

    local opts="--help --json --socket-dir"
    case $cmd in
        show) opts+=" --full" ;;
        audit) opts+=" --verify" ;;
        export) opts+=" --format -o --output --force" ;;
        backup) opts+=" --force" ;;
        restore) opts+=" --check -y --yes" ;;
        mcp-config) opts+=" --name" ;;
        setup) opts+=" --user --project --name --dry-run --remove --no-hooks" ;;
        redact) opts+=" --explain" ;;
        ui) opts+=" --port --no-open" ;;
        hook) opts+=" --client --timeout" ;;
        post) opts+=" --type" ;;
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
        return
    fi

    case $cmd in
        show | tokens | export | watch | audit | post | end)
            COMPREPLY=($(compgen -W "$(_claude_bridgectl_conversations "$socket_dir")" -- "$cur"))
            ;;
        import | restore | backup)
            _claude_bridgectl_files
            ;;
        approve | deny)
            COMPREPLY=($(compgen -W "$(_claude_bridgectl_approvals "$socket_dir")" -- "$cur"))
            ;;
        setup)
            COMPREPLY=($(compgen -W "claude-code codex gemini" -- "$cur"))
            ;;
    esac
} &&
    complete -F _claude_bridgectl claude-bridgectl

# ex: filetype=sh
