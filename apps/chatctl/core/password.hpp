#pragma once
// Passwords reach chatctl only through a no-echo prompt on the terminal or through standard
// input (--password-stdin), never through argv or the environment, so they do not show in
// `ps` output or /proc/<pid>/cmdline. They are held in memory only as long as the request
// needs them and are not logged.
#include <istream>
#include <string>

namespace chatctl {

// The first line of `in` without its line ending. Empty input fails with a usage error.
std::string read_password_line(std::istream& in);

// Prompts on /dev/tty with echo off and reads one line; with `confirm`, asks twice and fails
// when the two differ. Without a terminal: usage error suggesting --password-stdin.
// Ctrl-C during the prompt restores the terminal before the process ends.
std::string prompt_password(const std::string& prompt, bool confirm);

}  // namespace chatctl
