// Starts the Cosmos DB wire-compatible server over HTTPS with the project's own
// development certificate. Usage: node local/cosmos-server.js <port> <key.pem> <cert.pem>
"use strict";
const fs = require("fs");
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
  process.on(signal, () => server.close(() => process.exit(0)));
}
