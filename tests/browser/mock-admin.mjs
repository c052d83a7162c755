// A development stand-in for Fulcrum's admin listener: serves the dashboard's files straight from
// src/admin/dashboard/ (edit, reload, no rebuild) and the admin API's contract with made-up,
// moving figures and a fake event stream. Not used by the tests (they run the real binary).
//
//   node tests/browser/mock-admin.mjs [--port 9901] [--token secret]
//   then open http://127.0.0.1:9901/ (or /?token=secret)
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const assets = path.resolve(here, '../../src/admin/dashboard');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const port = Number(arg('--port', 9901));
const token = arg('--token', '');
const types = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml' };

const started = Date.now() - 3 * 3600e3 - 17 * 60e3;
const mk = (address, weight = 1, base = 50) => ({
  address, weight, effective_weight: weight, state: 'healthy', active: 0, max_connections: 0, requests_total: 0,
  responses: { '1xx': 0, '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 }, connect_errors: 0, ejections: 0,
  bytes_in: 0, bytes_out: 0, rps: 0, latency_ms: { p50: null, p99: null }, base,
});
const pools = [
  { name: 'api', strategy: 'least_latency', panic: false,
    backends: [mk('10.0.1.11:9001', 1, 420), mk('10.0.1.12:9001', 1, 380), mk('10.0.1.13:9001', 1, 300)] },
  { name: 'web', strategy: 'weighted', panic: false,
    backends: [mk('10.0.2.21:8080', 3, 160), mk('10.0.2.22:8080', 2, 110), mk('10.0.2.23:8080', 1, 40)] },
  { name: 'chat', strategy: 'source_hash', panic: false, backends: [mk('10.0.3.31:7001', 2, 12), mk('10.0.3.32:7001', 1, 8)] },
];
pools[1].backends[2].effective_weight = 0;
// Queues (configuration.md, concurrency limits): every pool has one; `api` limits its backends to
// 20 requests at once, so it queues when busy; `chat` is paused now and then (below).
const mkQueue = () => ({ depth: 0, size: 1000, timeout: '5s', queued_total: 0, timeouts_total: 0, full_total: 0,
  wait_ms: { p50: 0, p99: 0 } });
for (const p of pools) { p.paused = false; p.queue = mkQueue(); }
for (const b of pools[0].backends) b.max_connections = 20;
const listeners = [
  { name: 'web', address: '0.0.0.0:443', mode: 'http', active_connections: 0, accepted_total: 981234 },
  { name: 'api', address: '0.0.0.0:8443', mode: 'http', active_connections: 0, accepted_total: 45120 },
  { name: 'chat', address: '0.0.0.0:7000', mode: 'tcp', active_connections: 0, accepted_total: 3301 },
];

const clients = new Set();
function emit(event, details) {
  const data = JSON.stringify({ event, time: new Date().toISOString(), ...details });
  for (const c of clients) if (!c.kinds || c.kinds.has(event)) c.res.write(`event: ${event}\ndata: ${data}\n\n`);
}

let tick = 0;
setInterval(() => {
  tick++;
  for (const p of pools) {
    for (const b of p.backends) {
      const up = b.state === 'healthy';
      const wave = 1 + 0.35 * Math.sin((tick + b.base) / 7) + 0.15 * (Math.random() - 0.5);
      b.rps = up ? +(b.base * wave).toFixed(1) : 0;
      const n = Math.round(b.rps);
      b.requests_total += n;
      b.responses['2xx'] += Math.round(n * 0.93);
      b.responses['3xx'] += Math.round(n * 0.03);
      b.responses['4xx'] += Math.round(n * 0.035);
      b.responses['5xx'] += Math.round(n * 0.005);
      b.bytes_in += n * 620;
      b.bytes_out += n * 5400;
      b.active = up ? Math.round(b.rps / 20 + Math.random() * 3) : 0;
      if (b.max_connections > 0) b.active = Math.min(b.max_connections, up ? Math.round(b.rps / 20) : 0);
      b.latency_ms = up ? { p50: +(2 + b.base / 200 + Math.random()).toFixed(2), p99: +(18 + Math.random() * 30).toFixed(1) }
        : { p50: null, p99: null };
      if (b.effective_weight < b.weight && tick % 3 === 0) b.effective_weight++;
    }
  }
  for (const l of listeners) {
    l.accepted_total += Math.round(Math.random() * 40);
    l.active_connections = Math.round(100 + 60 * Math.sin(tick / 9) + Math.random() * 20);
  }
  const victim = pools[0].backends[2];
  if (tick % 20 === 6) {
    victim.state = 'unhealthy';
    victim.connect_errors += 3;
    emit('unhealthy', { pool: 'api', backend: victim.address, error: 'connect: connection refused', checks_failed: 3 });
  }
  if (tick % 20 === 16) {
    victim.state = 'healthy';
    emit('recovery', { pool: 'api', backend: victim.address, checks_passed: 2 });
  }
  if (tick % 2 === 0) {
    for (const p of pools) emit('monitoring', { pool: p.name, healthy: p.backends.filter((b) => b.state === 'healthy').length, total: p.backends.length });
  }
  for (let i = 0; i < 3; i++) {
    const p = pools[i % 2], b = p.backends[Math.floor(Math.random() * p.backends.length)];
    emit('selecting_server', { listener: 'web', pool: p.name, backend: b.address, strategy: p.strategy });
    emit('request', { listener: 'web', method: 'GET', path: '/api/v1/items/' + Math.floor(Math.random() * 1000), client: '203.0.113.' + (i + 7) });
    emit('response', { listener: 'web', pool: p.name, backend: b.address, status: 200, duration_ms: +(Math.random() * 9).toFixed(2) });
  }
  // api: its backends at their limit now and then, so requests wait; chat: paused for 8 s of 30.
  const api = pools[0];
  const full = api.backends.filter((b) => b.max_connections > 0 && b.active >= b.max_connections).length;
  api.queue.depth = full ? Math.round(full * 4 + Math.random() * 6) : 0;
  api.queue.queued_total += api.queue.depth;
  if (api.queue.queued_total) api.queue.wait_ms = { p50: +(3 + Math.random()).toFixed(2), p99: +(40 + Math.random() * 20).toFixed(1) };
  const chat = pools[2];
  if (tick % 30 === 10 || tick % 30 === 18) {
    chat.paused = tick % 30 === 10;
    emit('pool_paused', { pool: 'chat', paused: chat.paused, waiting: chat.queue.depth });
  }
  if (chat.paused) chat.queue.depth += Math.round(Math.random() * 3);
  else { chat.queue.queued_total += chat.queue.depth; chat.queue.depth = 0; }
  const outlier = pools[1].backends[2];
  if (tick % 45 === 30) {
    outlier.state = 'ejected';
    outlier.ejections++;
    emit('ejected', { pool: 'web', backend: outlier.address, failures: 5, ejections: 1, duration_ms: 10000 });
  }
  if (tick % 45 === 40) outlier.state = 'healthy';  // the ejection is over (no event for that)
}, 1000);

const send = (res, code, type, body) => {
  res.writeHead(code, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
};
const json = (res, v) => send(res, 200, 'application/json', JSON.stringify(v, (k, val) => (k === 'base' ? undefined : val)));

http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  const auth = req.headers.authorization === `Bearer ${token}` || url.searchParams.get('token') === token;
  if (url.pathname.startsWith('/api/')) {
    if (token && !auth) return send(res, 401, 'application/json', '{"error":"unauthorized"}');
    if (url.pathname === '/api/status') {
      return json(res, { version: '0.1.0', uptime_seconds: Math.floor((Date.now() - started) / 1000), workers: 4, listeners, pools });
    }
    if (url.pathname === '/api/pools') return json(res, pools);
    if (url.pathname === '/api/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
      res.write(': hello\n\n');
      const kinds = url.searchParams.get('kinds');
      const c = { res, kinds: kinds ? new Set(kinds.split(',')) : null };
      clients.add(c);
      req.on('close', () => clients.delete(c));
      return undefined;
    }
    return send(res, 404, 'application/json', '{"error":"not found"}');
  }
  const file = url.pathname === '/' ? 'index.html' : url.pathname.slice(1);
  if (!/^[\w.-]+$/.test(file)) return send(res, 404, 'text/plain', 'not found');
  fs.readFile(path.join(assets, file), (err, body) => {
    if (err) return send(res, 404, 'text/plain', 'not found');
    return send(res, 200, types[path.extname(file)] || 'application/octet-stream', body);
  });
  return undefined;
}).listen(port, '127.0.0.1', () => {
  // Some history so the tail is not empty at first sight.
  emit('start', { listeners: listeners.length, pools: pools.length });
  console.log(`mock admin on http://127.0.0.1:${port}/${token ? '?token=' + token : ''}`);
});
