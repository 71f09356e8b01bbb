// Starts the Cosmos DB wire-compatible server over HTTPS with the project's own
// development certificate. Usage: node local/cosmos-server.js <port> <key.pem> <cert.pem>
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

const [port, keyPath, certPath] = process.argv.slice(2);
const server = createHttpsServer({
  key: fs.readFileSync(keyPath),
  cert: fs.readFileSync(certPath),
});
server.on("error", (err) => {
  console.error(`cosmosdb-server: ${err.code || ""} ${err.message}`);
  process.exit(err.code === "EADDRINUSE" ? 98 : 1);
});
server.listen(Number(port), "127.0.0.1", () => {
  console.log(`cosmosdb-server listening on https://127.0.0.1:${port}`);
});
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => process.exit(0));
}
