#!/usr/bin/env node
// Starts Node-RED 5 embedded in a small HTTP server, for the end-to-end tests:
// Node-RED 5's own command line refuses Node.js older than 22.9, its runtime
// does not. Same settings file and user dir as the Node-RED 4 command line.
//   node scripts/e2e-embedded-red.js --userDir <dir> --settings <file> [--port 0]
// Prints "Server now running at http://127.0.0.1:<port>/" like the CLI does.
'use strict';
const http = require('http');
const path = require('path');

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
}

const userDir = arg('userDir');
const settingsFile = arg('settings', userDir && path.join(userDir, 'settings.js'));
if (!userDir) {
  console.error('usage: e2e-embedded-red.js --userDir <dir> [--settings <file>] [--port <n>]');
  process.exit(2);
}
const redPath = require.resolve('node-red', { paths: [path.resolve(__dirname, '..')] });
const RED = require(redPath);
const express = require(require.resolve('express', { paths: [path.dirname(redPath)] }));

const settings = { ...require(path.resolve(settingsFile)), userDir, httpAdminRoot: '/', httpNodeRoot: '/' };
const app = express();
const server = http.createServer(app);
RED.init(server, settings);
app.use(settings.httpAdminRoot, RED.httpAdmin);
app.use(settings.httpNodeRoot, RED.httpNode);

const host = settings.uiHost || '127.0.0.1';
server.listen(Number(arg('port', settings.uiPort || 0)), host, () => {
  const { port } = server.address();
  RED.start().then(
    () => console.log(`Server now running at http://${host}:${port}/`),
    (err) => {
      console.error(`Node-RED failed to start: ${err.stack || err}`);
      process.exit(1);
    },
  );
});

function stop() {
  RED.stop().then(
    () => server.close(() => process.exit(0)),
    () => process.exit(1),
  );
  setTimeout(() => process.exit(1), 5000).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
