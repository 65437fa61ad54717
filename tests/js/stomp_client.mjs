// A third-party STOMP-over-WebSocket client for the integration tests: @stomp/stompjs 7
// (the library browsers use) on the `ws` package, driven line by line.
//
//   node tests/js/stomp_client.mjs --url ws://127.0.0.1:PORT/ws --token JWT [--via header|passcode]
//
// stdin: one JSON command per line
//   {"op":"subscribe","id":"s1","destination":"/topic/room.7","receipt":"r1"}
//   {"op":"send","destination":"/topic/room.7","body":"hi","headers":{…},"receipt":"m1"}
//   {"op":"disconnect"}
// stdout: one JSON event per line
//   {"event":"connected","headers":{…},"protocol":"v12.stomp"}
//   {"event":"message","headers":{…},"body":"…"}
//   {"event":"receipt","receiptId":"r1"}
//   {"event":"stomp-error","headers":{…},"body":"…"}
//   {"event":"closed","code":1000}
// Diagnostics go to stderr. The process exits once the WebSocket is closed.
import { Client } from "@stomp/stompjs";
import { createInterface } from "node:readline";
import WebSocket from "ws";

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  if (i >= 0 && i + 1 < process.argv.length) return process.argv[i + 1];
  if (fallback === undefined) {
    process.stderr.write(`missing --${name}\n`);
    process.exit(2);
  }
  return fallback;
}

const url = arg("url");
const token = arg("token");
const via = arg("via", "header");

function emit(event) {
  process.stdout.write(JSON.stringify(event) + "\n");
}

let socket = null;
const client = new Client({
  webSocketFactory: () => {
    socket = new WebSocket(url, ["v12.stomp", "v11.stomp", "v10.stomp"]);
    return socket;
  },
  connectHeaders: via === "passcode" ? { login: "any", passcode: token } : { Authorization: `Bearer ${token}` },
  reconnectDelay: 0, // a test sees every disconnect; nothing reconnects behind its back
  heartbeatIncoming: 10000,
  heartbeatOutgoing: 10000,
  debug: (line) => process.stderr.write(`stompjs: ${line}\n`),
  onConnect: (frame) => emit({ event: "connected", headers: frame.headers, protocol: socket?.protocol ?? null }),
  onStompError: (frame) => emit({ event: "stomp-error", headers: frame.headers, body: frame.body }),
  onWebSocketClose: (evt) => {
    emit({ event: "closed", code: evt?.code ?? null });
    process.exit(0);
  },
});

function watchReceipt(id) {
  if (id) client.watchForReceipt(id, (frame) => emit({ event: "receipt", receiptId: frame.headers["receipt-id"] }));
}

function run(command) {
  switch (command.op) {
    case "subscribe": {
      const headers = { id: command.id, ...(command.headers ?? {}) };
      if (command.receipt) headers.receipt = command.receipt;
      watchReceipt(command.receipt);
      client.subscribe(command.destination, (m) => emit({ event: "message", headers: m.headers, body: m.body }), headers);
      return;
    }
    case "send": {
      const headers = { ...(command.headers ?? {}) };
      if (command.receipt) headers.receipt = command.receipt;
      watchReceipt(command.receipt);
      client.publish({ destination: command.destination, body: command.body ?? "", headers });
      return;
    }
    case "disconnect":
      client.deactivate();
      return;
    default:
      process.stderr.write(`unknown op ${command.op}\n`);
  }
}

createInterface({ input: process.stdin }).on("line", (line) => {
  if (!line.trim()) return;
  try {
    run(JSON.parse(line));
  } catch (e) {
    process.stderr.write(`command failed: ${e?.stack ?? e}\n`);
    emit({ event: "command-failed", error: String(e) });
  }
}).on("close", () => {
  // The driver went away: leave politely, and for sure.
  client.deactivate();
  setTimeout(() => process.exit(0), 2000).unref();
});

client.activate();
