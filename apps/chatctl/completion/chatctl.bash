# bash completion for chatctl                                  -*- shell-script -*-
# Installed as share/bash-completion/completions/chatctl; or: source chatctl.bash
# Completes commands, subcommands, flags and values of -o; ROOM arguments complete from
# `chatctl room list` (ids and group names) when a server is reachable (quickly, quietly).

_chatctl_rooms() {
    # Table output is tab-separated when piped: ID, TYPE, NAME, ...
    chatctl --quiet --timeout 2s room list 2>/dev/null |
        while IFS=$'\t' read -r id type name _; do
            printf '%s\n' "$id"
            [ "$type" = GROUP ] && printf '%s\n' "$name"
        done
}

_chatctl_words() {
    printf '%s\n' "$@"
}

_chatctl() {
    local cur prev words cword
    if declare -F _init_completion >/dev/null; then
        _init_completion || return
    else
        COMPREPLY=()
        cur="${COMP_WORDS[COMP_CWORD]}"
        prev="${COMP_WORDS[COMP_CWORD-1]}"
        words=("${COMP_WORDS[@]}")
        cword=$COMP_CWORD
    fi

    local global_flags="--server --token --profile --stomp-url -o --output -q --quiet --timeout --help --version"
    local commands="auth room send history read unread reads presence tail download"
    commands="$commands edit delete react reply thread pin unpin pins forward bookmark profile users friends"
    commands="$commands block unblock blocks admin schedule"

    case "$prev" in
        --repeat)
            COMPREPLY=($(compgen -W "daily weekly monthly" -- "$cur")); return ;;
        --file|--secret-file)
            COMPREPLY=($(compgen -f -- "$cur")); return ;;
        -o|--output)
            COMPREPLY=($(compgen -W "table json jsonl" -- "$cur")); return ;;
        --server|--stomp-url|--token|--profile|--timeout|--email|--nickname|--name|--user|--member|--limit|--before|--up-to|--count|--key|--page-size|-O|--out|--status|--avatar|--at)
            return ;;
    esac

    # The command and subcommand typed so far (skipping flags and their values).
    local cmd="" sub="" i w positional=0
    for ((i = 1; i < cword; i++)); do
        w="${words[i]}"
        case "$w" in
            --file|--secret-file|--ttl)
                ((i++)); continue ;;
            --server|--token|--profile|--stomp-url|-o|--output|--timeout|--email|--nickname|--name|--user|--member|--limit|--before|--up-to|--count|--key|--page-size|-O|--out|--status|--avatar|--at|--repeat)
                ((i++)); continue ;;
            -*) continue ;;
        esac
        if [ -z "$cmd" ]; then
            cmd="$w"
        elif [ -z "$sub" ] && { [ "$cmd" = auth ] || [ "$cmd" = room ] || [ "$cmd" = bookmark ] ||
                                [ "$cmd" = profile ] || [ "$cmd" = users ] || [ "$cmd" = friends ] ||
                                [ "$cmd" = admin ] || [ "$cmd" = schedule ]; }; then
            sub="$w"
        else
            ((positional++))
        fi
    done

    local flags="" words_list=""
    case "$cmd" in
        "")
            words_list="$(_chatctl_words $commands)"; flags="$global_flags" ;;
        admin)
            case "$sub" in
                "") words_list="$(_chatctl_words gentoken)" ;;
                gentoken) flags="--user --ttl --secret-file --email" ;;
            esac ;;
        auth)
            case "$sub" in
                "") words_list="$(_chatctl_words signup login logout passwd whoami token)" ;;
                signup) flags="--email --nickname --password-stdin" ;;
                login) flags="--email --password-stdin" ;;
                logout) flags="--all" ;;
                passwd) flags="--password-stdin" ;;
            esac ;;
        room|rooms)
            case "$sub" in
                "") words_list="$(_chatctl_words direct group list show members invite leave watch rename notice role kick delete)" ;;
                watch) flags="--count" ;;
                direct) flags="--user" ;;
                group) flags="--name --member" ;;
                invite) flags="--member"; [ $positional -eq 0 ] && words_list="$(_chatctl_rooms)" ;;
                show|members|leave|rename|kick) [ $positional -eq 0 ] && words_list="$(_chatctl_rooms)" ;;
                notice) flags="--clear"; [ $positional -eq 0 ] && words_list="$(_chatctl_rooms)" ;;
                role)
                    if [ $positional -eq 0 ]; then words_list="$(_chatctl_rooms)"
                    elif [ $positional -eq 2 ]; then words_list="$(_chatctl_words owner admin member)"; fi ;;
                delete) flags="--yes"; [ $positional -eq 0 ] && words_list="$(_chatctl_rooms)" ;;
            esac ;;
        send)
            flags="--no-wait --key --file"; [ $positional -eq 0 ] && words_list="$(_chatctl_rooms)" ;;
        history)
            flags="--limit --before --all --page-size"; [ $positional -eq 0 ] && words_list="$(_chatctl_rooms)" ;;
        read)
            flags="--up-to --no-wait"; [ $positional -eq 0 ] && words_list="$(_chatctl_rooms)" ;;
        unread|reads)
            [ $positional -eq 0 ] && words_list="$(_chatctl_rooms)" ;;
        presence)
            flags="--all"; [ $positional -eq 0 ] && words_list="$(_chatctl_rooms)" ;;
        tail)
            flags="--count --since-id --no-resume"; [ $positional -eq 0 ] && words_list="$(_chatctl_rooms)" ;;
        edit|pin|unpin)
            flags="--no-wait"; [ $positional -eq 0 ] && words_list="$(_chatctl_rooms)" ;;
        delete)
            flags="--for-me --no-wait"; [ $positional -eq 0 ] && words_list="$(_chatctl_rooms)" ;;
        react)
            flags="--remove --no-wait"; [ $positional -eq 0 ] && words_list="$(_chatctl_rooms)" ;;
        reply)
            flags="--key --no-wait"; [ $positional -eq 0 ] && words_list="$(_chatctl_rooms)" ;;
        thread)
            flags="--limit --all"; [ $positional -eq 0 ] && words_list="$(_chatctl_rooms)" ;;
        pins)
            [ $positional -eq 0 ] && words_list="$(_chatctl_rooms)" ;;
        forward)
            flags="--key --no-wait"
            { [ $positional -eq 0 ] || [ $positional -eq 2 ]; } && words_list="$(_chatctl_rooms)" ;;
        bookmark)
            case "$sub" in
                "") words_list="$(_chatctl_words add rm list)" ;;
                list) flags="--limit --all" ;;
            esac ;;
        download)
            flags="-O --out --force" ;;
        profile)
            case "$sub" in
                "") words_list="$(_chatctl_words show set)" ;;
                set) flags="--nickname --status --avatar" ;;
            esac ;;
        users)
            case "$sub" in
                "") words_list="$(_chatctl_words search)" ;;
                search) flags="--limit" ;;
            esac ;;
        friends)
            case "$sub" in
                "") words_list="$(_chatctl_words list add accept reject cancel rm requests)" ;;
                requests) flags="--incoming --outgoing" ;;
            esac ;;
        schedule)
            case "$sub" in
                "") words_list="$(_chatctl_words add list rm)" ;;
                add) flags="--at --repeat"; [ $positional -eq 0 ] && words_list="$(_chatctl_rooms)" ;;
                list|rm) [ $positional -eq 0 ] && words_list="$(_chatctl_rooms)" ;;
            esac ;;
    esac

    if [[ "$cur" == -* ]]; then
        COMPREPLY=($(compgen -W "$flags $global_flags --help" -- "$cur"))
    else
        # Newline-separated so that room names with spaces stay one word.
        local IFS=$'\n'
        COMPREPLY=($(compgen -W "$words_list" -- "$cur"))
    fi
}

complete -F _chatctl chatctl
