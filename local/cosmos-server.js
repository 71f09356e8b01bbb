// Starts the Cosmos DB wire-compatible server over HTTPS with the project's own
// development certificate. Usage: node local/cosmos-server.js <port> <key.pem> <cert.pem>
//
// COSMOS_SERVER_KEEP_ALIVE=false makes it answer `Connection: close` as the package does by
// default (for measuring what keep-alive saves); anything else keeps connections open.
"use strict";
const fs = require("fs");

// A point read of a missing document crashes the server's handler (it reads a field of
// `undefined`) and answers 500; Cosmos DB answers 404. Wrap the handler before the router
// captures it, so the app sees what Azure would send.
const readDocument = require("@vercel/cosmosdb-server/lib/handler/read-document");
const originalRead = readDocument.default;
readDocument.default = (account, req, res, params) => {
  try {
    return originalRead(account, req, res, params);
  } catch (err) {
    if (err instanceof TypeError) {
      res.statusCode = 404;
      return { code: "NotFound", message: "Entity with the specified id does not exist in the system." };
    }
    throw err;
  }
};

const { createHttpsServer } = require("@vercel/cosmosdb-server");

// The package answers every request with `Connection: close` unless created with keepAlive, so
// each request of the SDK paid for a new TCP connection and TLS handshake. Cosmos DB keeps
// connections open. Node closes a connection idle for keepAliveTimeout (5 s by default);
// urllib3's pool never expires an idle connection and only notices a close when it next takes
// the connection, so a close racing a request would lose the request. Idle connections are kept
// far longer than any pause in a test or benchmark run.
const KEEP_ALIVE = process.env.COSMOS_SERVER_KEEP_ALIVE !== "false";
const KEEP_ALIVE_TIMEOUT_MS = 10 * 60 * 1000;

// What the server has seen, answered at GET /_emulator/stats (not a Cosmos DB route): TLS
// connections that carried Cosmos DB requests, those requests, and answers by status and
// collection for the statuses that mean a lost race (409, 412) or throttling (429).
const stats = { connections: 0, requests: 0, answers: {} };
const COUNTED = new Set([409, 412, 429]);

function collection(url) {
  const match = /\/colls\/([^/?]+)/.exec(url || "");
  return match ? decodeURIComponent(match[1]) : "";
}

const [port, keyPath, certPath] = process.argv.slice(2);
const server = createHttpsServer({
  key: fs.readFileSync(keyPath),
  cert: fs.readFileSync(certPath),
  keepAlive: KEEP_ALIVE,
});
server.keepAliveTimeout = KEEP_ALIVE ? KEEP_ALIVE_TIMEOUT_MS : 0;
// Node closes a connection whose next request's headers take longer than headersTimeout; it must
// exceed keepAliveTimeout or an idle kept connection is cut by that timer instead.
server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1000;
const carried = new WeakSet();
const [cosmosHandler] = server.listeners("request");
server.removeAllListeners("request");
server.on("request", (req, res) => {
  if (req.method === "GET" && req.url === "/_emulator/stats") {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify(stats));
    return;
  }
  if (!carried.has(req.socket)) {
    carried.add(req.socket);
    stats.connections += 1;
  }
  stats.requests += 1;
  if (KEEP_ALIVE && /\bclose\b/i.test(req.headers.connection || "")) {
    // The package sets `Connection: keep-alive` on every answer, and Node then keeps the
    // connection open even when the request asked for it to be closed; a client reading the
    // answer to its end would wait for ever. Answer as HTTP says: close it.
    const setHeader = res.setHeader.bind(res);
    res.setHeader = (name, value) =>
      setHeader(name, String(name).toLowerCase() === "connection" ? "close" : value);
  }
  res.on("finish", () => {
    if (COUNTED.has(res.statusCode)) {
      const key = `${res.statusCode} ${req.method} ${collection(req.url)}`;
      stats.answers[key] = (stats.answers[key] || 0) + 1;
    }
  });
  cosmosHandler(req, res);
});
server.on("error", (err) => {
  console.error(`cosmosdb-server: ${err.code || ""} ${err.message}`);
  process.exit(err.code === "EADDRINUSE" ? 98 : 1);
});
server.listen(Number(port), "127.0.0.1", () => {
  console.log(
    `cosmosdb-server listening on https://127.0.0.1:${port} (keep-alive ${KEEP_ALIVE ? "on" : "off"})`
  );
});
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => process.exit(0));
}
