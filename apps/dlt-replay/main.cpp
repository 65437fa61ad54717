// dlt-replay: inspect, export, edit and re-publish dead-lettered Kafka records (docs/dlt-replay.md,
// docs/dlt-replay.md). This file parses and dispatches; the commands live in commands/.
#include "commands/cli.hpp"
#include "commands/context.hpp"
#include "kafka/topic_scan.hpp"

#include <CLI/CLI.hpp>

#include <iostream>

int main(int argc, char** argv) {
  dlt_replay::context ctx;
  CLI::App app{"dlt-replay: inspect, export, edit and re-publish dead-lettered Kafka records", "dlt-replay"};
  app.set_version_flag("--version", DLT_REPLAY_VERSION);
  app.footer("Exit codes: 0 ok, 1 error, 2 usage, 3 partial (replay). Details: docs/dlt-replay.md");
  dlt_replay::build_cli(app, ctx);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? dlt_replay::exit_ok : dlt_replay::exit_usage;
  }
  try {
    return ctx.run(ctx);
  } catch (const dlt_replay::command_error& e) {
    std::cerr << "dlt-replay: " << e.what() << '\n';
    return e.code();
  } catch (const dlt_replay::kafka_failure& e) {
    std::cerr << "dlt-replay: " << e.what() << '\n';
    return dlt_replay::exit_error;
  } catch (const std::exception& e) {
    std::cerr << "dlt-replay: " << e.what() << '\n';
    return dlt_replay::exit_error;
  }
}
