// A small service on node:http whose one route needs an Authenticon access token.
//
//   AUTHENTICON_URL=http://127.0.0.1:8000 node examples/service.mjs
//
// Environment: AUTHENTICON_URL (required), POLL_INTERVAL_MS (default 2000),
// FAIL_CLOSED_AFTER_MS (optional, default 5 minutes). Listens on a free port of
// 127.0.0.1 and prints `listening on http://127.0.0.1:PORT`.
// GET /hello -> 200 {"user_id", "username"}; 401 without a valid token; anything else 404.
import http from 'node:http';
import { createVerifier } from 'authenticon-verify';

function milliseconds(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    console.error(`error: ${name} must be a positive number of milliseconds`);
    process.exit(2);
  }
  return value;
}

const url = process.env.AUTHENTICON_URL;
if (!url) {
  console.error('error: set AUTHENTICON_URL to the Authenticon base URL');
  process.exit(2);
}

const verifier = createVerifier({
  url,
  pollIntervalMs: milliseconds('POLL_INTERVAL_MS', 2000),
  failClosedAfterMs: milliseconds('FAIL_CLOSED_AFTER_MS', 300000),
});
const authenticate = verifier.middleware();

function json(res, status, value) {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

const server = http.createServer((req, res) => {
  const { pathname } = new URL(req.url, 'http://localhost');
  if (req.method !== 'GET' || pathname !== '/hello') {
    json(res, 404, { detail: 'Not found.' });
    return;
  }
  authenticate(req, res, (err) => {
    if (err) {
      json(res, 500, { detail: 'A server error occurred.' });
      return;
    }
    json(res, 200, { user_id: req.auth.user_id, username: req.auth.username });
  });
});

server.listen(0, '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`);
});

// The poller's timer never holds the process: closing the server is enough to exit.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    verifier.close();
    server.close();
  });
}
