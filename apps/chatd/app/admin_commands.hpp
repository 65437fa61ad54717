#pragma once
// chatd's operator commands (docs/operations.md "Checking and generating a configuration"):
//   chatd checkconfig [settings...]  every setting checked as a start would check it, and what
//                                    they name: files readable, librdkafka accepts the Kafka
//                                    properties, the ports file's folder writable. Nothing starts
//                                    and nothing connects. Exit 0 (a summary on stdout) or 2
//                                    (each problem on stderr).
//   chatd genconfig [settings...]    a commented config file of every setting with its default
//                                    (or the value given), on stdout; `chatd --config` reads it.
// The settings are the same flags, CHATD_* variables and --config FILE as a start takes.

namespace chat::chatd {

inline constexpr const char* checkconfig_command = "checkconfig";
inline constexpr const char* genconfig_command = "genconfig";

// argv[0] is the program, argv[1] the command; the settings follow.
int run_checkconfig(int argc, const char* const* argv);
int run_genconfig(int argc, const char* const* argv);

}  // namespace chat::chatd
