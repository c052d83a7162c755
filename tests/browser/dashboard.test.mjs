// End to end, in a real browser: the admin dashboard of the real fulcrum binary, in Debian's
// chromium driven by playwright-core.
//
// Two node HTTP backends (port 0) behind an http listener, health-checked every 500 ms with
// rise 1 / fall 1; the admin listener with a bearer token, the page opened as /?token=...
// Checks: the page loads with no console error, lists both backends as healthy; after one backend
// is stopped its badge turns unhealthy within two health intervals (+ a margin, below); a
// screenshot goes to $DASHBOARD_SCREENSHOT (ctest: <build>/dashboard.png). A second test ejects a
// backend answering 500 (outlier detection, count_5xx) and checks the page shows it `ejected`. A
// third opens the page only after a backend went down: the recent events replayed by the stream
// show the `unhealthy`, the backends table each one's last check and time in state, and the routes
// view which match goes to which pool. A fourth uses every write control: adds a backend through
// the pool's form, drains it, sets its weight, readies it, shows the API's 409 for an address
// already in the pool, removes it; and a page of a Fulcrum without admin.token shows no control.
// A fifth pauses a pool through the admin API: the page shows it paused, the requests waiting in
// its queue, and, once resumed, the backend's slots in use of its max_connections. A sixth runs
// managed pools (fulcrum's own demo backend, and a command that always exits): the page shows
// each instance's chip, a killed instance coming back with a new pid, and the other crash-looping.
//
//   FULCRUM_BINARY=build/fulcrum node --test tests/browser/dashboard.test.mjs
//
// Needs /usr/bin/chromium and tests/browser/node_modules (scripts/install-deps.sh installs both):
// without them the test fails, it does not skip.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const CHROMIUM = '/usr/bin/chromium';
const FULCRUM = process.env.FULCRUM_BINARY || path.resolve(here, '../../build/fulcrum');
const SCREENSHOT = process.env.DASHBOARD_SCREENSHOT || path.resolve(here, '../../build/dashboard.png');
const INTERVAL_MS = 500;
// The stopped backend is refused at once, so the next probe (≤ 1 interval) fails and, with fall 1,
// makes it unhealthy; the page hears it over the event stream at once (or from its 1 s poll).
// The issue allows two intervals; the margin covers the probe's own time, event delivery and
// rendering (measured in the page: typically 100-600 ms in all).
const UNHEALTHY_BUDGET_MS = 2 * INTERVAL_MS;
const MARGIN_MS = 500;

function fail(message) {
  throw new Error(message);
}

async function loadPlaywright() {
  if (!fs.existsSync(CHROMIUM)) fail(`${CHROMIUM} is missing: run scripts/install-deps.sh (apt-get install chromium)`);
  try {
    return await import('playwright-core');
  } catch (e) {
    fail(`playwright-core is not installed in tests/browser: run scripts/install-deps.sh (npm ci there) (${e.message})`);
  }
  return null;
}

/// A backend: `/` answers its name (with `status`, 200 by default; after `delayMs`), `/health` 200. stop() closes it
/// and every open connection; `cleanups` gets it too.
async function startBackend(cleanups, name, status = 200, delayMs = 0) {
  const server = http.createServer((req, res) => {
    const body = req.url === '/health' ? 'ok\n' : `hello from ${name}\n`;
    const answer = () => {
      res.writeHead(req.url === '/health' ? 200 : status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    if (delayMs > 0 && req.url !== '/health') setTimeout(answer, delayMs); else answer();
  });
  const backend = await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = `127.0.0.1:${server.address().port}`;
      resolve({
        name,
        address,
        stop: () => new Promise((done) => {
          server.close(() => done());
          server.closeAllConnections();
        }),
      });
    });
  });
  cleanups.push(backend.stop);
  return backend;
}

/// What every test here starts with: playwright loaded, the fulcrum binary present, and the list of
/// cleanups run (last first) when the test ends.
async function setUp(t) {
  const { chromium } = await loadPlaywright();
  assert.ok(fs.existsSync(FULCRUM), `fulcrum binary not found at ${FULCRUM} (set FULCRUM_BINARY)`);
  const cleanups = [];
  t.after(() => runCleanups(cleanups));
  return { chromium, cleanups };
}

/// The selector of `backend`'s state badge in the backends table, showing `state`.
const badge = (backend, state) => `tr[data-backend="${backend.address}"] .badge[data-state="${state}"]`;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/// Starts fulcrum; `listening` resolves to { web, admin } once the http listener `listener` and the
/// admin listener (mode admin) logged where they listen. Collects the log for failure messages.
function startFulcrum(configPath, listener) {
  const child = spawn(FULCRUM, ['--log-format', 'json', 'run', '-c', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  const log = [];
  let buffered = '';
  const waiters = [];
  const onLine = (line) => {
    log.push(line);
    let entry;
    try { entry = JSON.parse(line); } catch { return; }
    for (const w of waiters) w(entry);
  };
  const feed = (chunk) => {
    buffered += chunk;
    let nl;
    while ((nl = buffered.indexOf('\n')) >= 0) { onLine(buffered.slice(0, nl)); buffered = buffered.slice(nl + 1); }
  };
  child.stdout.setEncoding('utf8').on('data', feed);
  child.stderr.setEncoding('utf8').on('data', feed);
  const exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
  const listening = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`fulcrum did not log that '${listener}' and the admin listener listen within 10 s:\n${log.join('\n')}`)), 10000);
    const found = {};
    waiters.push((e) => {
      if (e.msg !== 'listening') return;
      if (e.mode === 'admin') found.admin = e.address;
      else if (e.listener === listener) found.web = e.address;
      if (found.admin && found.web) { clearTimeout(timer); resolve(found); }
    });
    exited.then(({ code, signal }) => { clearTimeout(timer); reject(new Error(`fulcrum exited (${code ?? signal}):\n${log.join('\n')}`)); });
  });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  };
  return { child, log, listening, exited, stop };
}

/// Polls GET url (with the token) until it answers 200, for up to `ms`.
async function waitForHttp(url, token, ms) {
  const deadline = Date.now() + ms;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const r = await fetch(url, { headers: { Authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(1000) });
      if (r.ok) return r;
      last = `HTTP ${r.status}`;
    } catch (e) {
      last = e.message;
    }
    await sleep(100);
  }
  throw new Error(`${url} did not answer 200 within ${ms} ms (${last})`);
}

/// Chromium with one page; `problems` collects console errors, page errors, failed requests and
/// HTTP errors the page meets. The browser is closed by `cleanups`.
async function openBrowserPage(chromium, cleanups) {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 30000,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run'],
  });
  cleanups.push(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  page.setDefaultTimeout(10000);
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console error: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => {
    // The event stream is cut when the page closes; anything else failing is a problem.
    if (!r.url().includes('/api/events')) problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
  });
  page.on('response', (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`); });
  return { page, problems };
}

/// Runs every cleanup, last first, ignoring failures (they are best effort).
async function runCleanups(cleanups) {
  for (const c of cleanups.reverse()) {
    try { await c(); } catch { /* best effort */ }
  }
}

/// Writes a config with one `mode: http` listener `web` over pool `web` (its keys: `poolKeys`, YAML
/// lines indented for the pool; `routing`: the listener's lines that say where requests go) and a
/// token-protected admin listener, starts fulcrum on it and waits for the admin API. Returns the
/// listener's and the admin's addresses, the token and the process.
async function startFulcrumWithAdmin(cleanups, workers, poolKeys, routing = '    pool: web', { withToken = true, extra = '' } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fulcrum-dashboard-'));
  cleanups.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
  // Without a token the admin API is read-only (every write answers 403).
  const token = withToken ? randomBytes(12).toString('hex') : '';
  const configPath = path.join(dir, 'fulcrum.yaml');
  fs.writeFileSync(configPath, `workers: ${workers}
listeners:
  - name: web
    listen: 127.0.0.1:0
    mode: http
${routing}
pools:
  web:
    strategy: round_robin
${poolKeys}
admin:
  listen: 127.0.0.1:0
${token ? `  token: ${token}\n` : ''}${extra}`);
  const fulcrum = startFulcrum(configPath, 'web');
  cleanups.push(fulcrum.stop);
  const { web: webAddress, admin: adminAddress } = await fulcrum.listening;
  const admin = `http://${adminAddress}`;
  await waitForHttp(`${admin}/api/status`, token, 10000);
  return { webAddress, admin, token, fulcrum };
}

test('dashboard: lists backends, shows one turning unhealthy, no console error', { timeout: 90000 }, async (t) => {
  const { chromium, cleanups } = await setUp(t);
  const b1 = await startBackend(cleanups, 'backend-1');
  const b2 = await startBackend(cleanups, 'backend-2');

  const { webAddress, admin, token, fulcrum } = await startFulcrumWithAdmin(cleanups, 2,
    `    health: { http: { path: /health }, interval: ${INTERVAL_MS}ms, timeout: 300ms, rise: 1, fall: 1 }
    backends: [${b1.address}, ${b2.address}]`);

  // Some traffic, so that req/s and the sparklines have something to show.
  let traffic = true;
  const load = (async () => {
    while (traffic) {
      await fetch(`http://${webAddress}/`, { signal: AbortSignal.timeout(1000) }).then((r) => r.text()).catch(() => {});
      await sleep(20);
    }
  })();
  cleanups.push(async () => { traffic = false; await load; });

  const { page, problems } = await openBrowserPage(chromium, cleanups);

  try {
    await page.goto(`${admin}/?token=${token}`, { waitUntil: 'load' });
    assert.equal(await page.title(), 'Fulcrum');

    // Both backends listed, healthy (first probes pass within one interval; rise 1).
    await page.waitForSelector(badge(b1, 'healthy'));
    await page.waitForSelector(badge(b2, 'healthy'));
    await page.waitForSelector('#link[data-state="live"]');
    assert.equal(await page.locator('tr.backend').count(), 2, 'exactly the two backends are listed');
    assert.equal(await page.locator('#listeners tr[data-listener="web"]').count(), 1, 'the listener is listed');
    // A few seconds of traffic for the charts.
    await sleep(3000);
    assert.deepEqual(problems, [], 'no console errors while loading');

    // Stop backend 2: its badge must turn unhealthy within two health intervals (+ margin). The
    // moment is taken in the page by a MutationObserver (playwright's own waiting polls every
    // 500 ms after its first tries, too coarse to time this); both clocks are this machine's.
    const shown = page.evaluate((address) => new Promise((resolve) => {
      const done = () => {
        const b = document.querySelector(`tr[data-backend="${address}"] .badge`);
        if (b && b.dataset.state === 'unhealthy') { resolve(Date.now()); return true; }
        return false;
      };
      if (done()) return;
      const observer = new MutationObserver(() => { if (done()) observer.disconnect(); });
      observer.observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-state'] });
    }), b2.address);
    const stoppedAt = Date.now();
    await b2.stop();
    await page.waitForSelector(badge(b2, 'unhealthy'), { timeout: UNHEALTHY_BUDGET_MS + MARGIN_MS + 2000 });
    const elapsed = (await shown) - stoppedAt;
    t.diagnostic(`backend shown unhealthy ${elapsed} ms after it stopped (health interval ${INTERVAL_MS} ms)`);
    assert.ok(elapsed <= UNHEALTHY_BUDGET_MS + MARGIN_MS,
      `unhealthy after ${elapsed} ms: more than 2 × ${INTERVAL_MS} ms + ${MARGIN_MS} ms`);
    assert.equal(await page.locator(badge(b1, 'healthy')).count(), 1, 'the other backend stays healthy');
    // The event tail shows it too.
    await page.waitForSelector(`#events li[data-kind="unhealthy"] >> text=${b2.address}`);
    const stamped = await page.locator('#events li[data-kind="unhealthy"] time').first().getAttribute('datetime');
    t.diagnostic(`the unhealthy event is stamped ${Date.parse(stamped) - stoppedAt} ms after the stop`);

    await sleep(1500); // one more poll, so the figures in the picture agree with the badge
    fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    t.diagnostic(`screenshot: ${SCREENSHOT}`);
    assert.equal(await page.locator(badge(b2, 'unhealthy')).count(), 1, 'still unhealthy after the next poll');
    assert.deepEqual(problems, [], 'no console errors');
  } catch (e) {
    // What the page showed, what it saw and what the API says, while everything still runs.
    const shot = SCREENSHOT.replace(/\.png$/, '') + '-failure.png';
    await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
    const api = await fetch(`${admin}/api/status`, { headers: { Authorization: `Bearer ${token}` } })
      .then((r) => r.text()).catch((err) => err.message);
    t.diagnostic(`failure screenshot: ${shot}`);
    t.diagnostic(`problems seen by the page: ${JSON.stringify(problems)}`);
    t.diagnostic(`/api/status: ${api}`);
    t.diagnostic(`fulcrum log:\n${fulcrum.log.slice(-30).join('\n')}`);
    throw e;
  }
});

// Outlier detection in the page: a third backend answers 500 (count_5xx), is ejected, and the page
// shows it `ejected` in the amber of that state — not `unhealthy` — with its ejection counted, also
// after the event's override expired and the figures of later polls decide (they said `unhealthy`
// before /api/pools told ejection apart).
test('dashboard: shows an ejected backend as ejected, with its ejections', { timeout: 90000 }, async (t) => {
  const { chromium, cleanups } = await setUp(t);
  const good1 = await startBackend(cleanups, 'good-1');
  const good2 = await startBackend(cleanups, 'good-2');
  const failing = await startBackend(cleanups, 'failing', 500);

  const { webAddress, admin, token, fulcrum } = await startFulcrumWithAdmin(cleanups, 1,
    `    outlier_detection: { consecutive_failures: 3, count_5xx: true, base_ejection: 1m }
    backends: [${good1.address}, ${good2.address}, ${failing.address}]`);

  const { page, problems } = await openBrowserPage(chromium, cleanups);
  try {
    await page.goto(`${admin}/?token=${token}`, { waitUntil: 'load' });
    await page.waitForSelector(badge(failing, 'healthy'));
    await page.waitForSelector('#link[data-state="live"]');

    // Round robin over three: every third request meets the failing backend; 3 of them in a row eject it.
    for (let i = 0; i < 9; i++) {
      await fetch(`http://${webAddress}/`, { signal: AbortSignal.timeout(1000) }).then((r) => r.text());
    }
    await page.waitForSelector(badge(failing, 'ejected'));
    // Past the 3 s the `ejected` event holds the badge: now the polled figures alone say it.
    await sleep(4000);
    assert.equal(await page.locator(badge(failing, 'ejected')).count(), 1, 'still ejected once the polls decide');
    assert.equal(await page.locator(`tr[data-backend="${failing.address}"].state-ejected`).count(), 1);
    for (const b of [good1, good2]) assert.equal(await page.locator(badge(b, 'healthy')).count(), 1);
    // Its own colour: the amber of --warn, not the red of unhealthy nor the green of healthy.
    const colours = await page.evaluate((address) => {
      const root = getComputedStyle(document.documentElement);
      const probe = document.createElement('span');
      document.body.append(probe);
      const resolve = (v) => { probe.style.color = root.getPropertyValue(v).trim(); return getComputedStyle(probe).color; };
      const out = {
        ejected: getComputedStyle(document.querySelector(`tr[data-backend="${address}"] .badge`)).color,
        warn: resolve('--warn'), bad: resolve('--bad'), ok: resolve('--ok'),
      };
      probe.remove();
      return out;
    }, failing.address);
    assert.equal(colours.ejected, colours.warn, `ejected badge colour ${colours.ejected}`);
    assert.notEqual(colours.ejected, colours.bad);
    assert.notEqual(colours.ejected, colours.ok);
    const title = await page.locator(badge(failing, 'ejected')).getAttribute('title');
    assert.match(title, /outlier detection/);
    assert.match(title, /ejected 1× since start/);
    await page.waitForSelector(`#events li[data-kind="ejected"] >> text=${failing.address}`);
    // The 500s passed on to the client before the ejection are HTTP errors of the backend, not the
    // page's: the page itself met none.
    assert.deepEqual(problems, [], 'no console errors');
  } catch (e) {
    const api = await fetch(`${admin}/api/pools`, { headers: { Authorization: `Bearer ${token}` } })
      .then((r) => r.text()).catch((err) => err.message);
    t.diagnostic(`problems seen by the page: ${JSON.stringify(problems)}`);
    t.diagnostic(`/api/pools: ${api}`);
    t.diagnostic(`fulcrum log:\n${fulcrum.log.slice(-30).join('\n')}`);
    throw e;
  }
});

// Opened late: a backend went down before the page was opened. The stream's replay of the recent
// events lists the `unhealthy` (marked as from before the page); the backends table shows each
// one's last check (ok / failed, its duration, the error in the title) and how long it has been in
// its state; the routes view lists the listener's routes in order, each with its pool, and what
// an unmatched request gets.
test('dashboard: opened after a failure shows it, the last checks and the routes', { timeout: 90000 }, async (t) => {
  const { chromium, cleanups } = await setUp(t);
  const b1 = await startBackend(cleanups, 'backend-1');
  const b2 = await startBackend(cleanups, 'backend-2');
  const { admin, token, fulcrum } = await startFulcrumWithAdmin(cleanups, 1,
    `    health: { http: { path: /health }, interval: ${INTERVAL_MS}ms, timeout: 300ms, rise: 1, fall: 1 }
    backends: [${b1.address}, ${b2.address}]`,
    `    routes:
      - match: { path: /api/* }
        pool: web
      - match: { host: static.example.com, path: /assets/* }
        pool: web
        strip_prefix: /assets`);

  // b2 goes down while nobody watches; wait until the balancer has told it.
  const auth = { headers: { Authorization: `Bearer ${token}` } };
  const recentHas = async () => {
    const events = await fetch(`${admin}/api/events/recent?kinds=unhealthy`, auth).then((r) => r.json());
    return events.some((e) => e.backend === b2.address);
  };
  await sleep(2 * INTERVAL_MS);  // both checked healthy first
  await b2.stop();
  const deadline = Date.now() + 10000;
  while (!(await recentHas())) {
    assert.ok(Date.now() < deadline, 'the balancer saw backend-2 go down within 10 s');
    await sleep(100);
  }

  const { page, problems } = await openBrowserPage(chromium, cleanups);
  try {
    await page.goto(`${admin}/?token=${token}`, { waitUntil: 'load' });
    // The failure from before the page opened is in the event list, marked as replayed.
    await page.waitForSelector(`#events li.replayed[data-kind="unhealthy"] >> text=${b2.address}`);
    assert.ok(await page.locator('#events li.replayed[data-kind="start"]').count() <= 1);
    // The badges follow the figures, not the replay: b1 healthy, b2 unhealthy.
    await page.waitForSelector(badge(b1, 'healthy'));
    await page.waitForSelector(badge(b2, 'unhealthy'));

    // Last check: ok with a duration for b1, which never failed one; failed for b2, the error in its
    // title, and how many of its checks failed so far (from /api/pools' check_failures).
    const check = (b) => page.locator(`tr[data-backend="${b.address}"] td.check`);
    await page.waitForSelector(`tr[data-backend="${b1.address}"] td.check[data-check="ok"]`);
    assert.match(await check(b1).textContent(), /^ok \d+(\.\d+)? ms$/);
    assert.equal(await check(b1).getAttribute('data-check-failures'), '0');
    await page.waitForSelector(`tr[data-backend="${b2.address}"] td.check[data-check="failed"]`);
    assert.match(await check(b2).textContent(), /^failed \d+(\.\d+)? ms · \d+ failed$/);
    assert.match(await check(b2).getAttribute('title'), /last check failed at .*: .+ · \d+ checks, \d+ failed, mean /);
    const shown = Number(await check(b2).getAttribute('data-check-failures'));
    assert.ok(shown >= 1, `b2's failed checks shown: ${shown}`);
    const pools = await fetch(`${admin}/api/pools/web`, auth).then((r) => r.json());
    const b2Checks = pools.backends.find((b) => b.address === b2.address);
    assert.ok(b2Checks.check_failures >= shown, `the API counts ${b2Checks.check_failures}, the page shows ${shown}`);
    // Time in state: seconds, and the stamp in the title.
    const since = page.locator(`tr[data-backend="${b2.address}"] span.since`);
    assert.match(await since.textContent(), /^\d+s$/);
    assert.match(await since.getAttribute('title'), /^in this state since \d{4}-\d\d-\d\dT/);

    // The routes view: both routes of `web`, in order, each to its pool, then the 404 for the rest.
    await page.waitForSelector('#routes tr[data-listener="web"][data-pool="web"]');
    const rows = await page.locator('#routes tr').evaluateAll((trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent.trim())));
    assert.deepEqual(rows, [
      ['web', '1', 'path /api/*', 'web 1/2 up', ''],
      ['', '2', 'host static.example.com, path /assets/*', 'web 1/2 up', 'strip /assets'],
      ['', '', 'anything else', 'answered 404', ''],
    ]);
    assert.equal(await page.locator('#route-count').textContent(), '2');
    assert.deepEqual(problems, [], 'no console errors');
  } catch (e) {
    const shot = SCREENSHOT.replace(/\.png$/, '') + '-late-failure.png';
    await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
    t.diagnostic(`failure screenshot: ${shot}`);
    t.diagnostic(`problems seen by the page: ${JSON.stringify(problems)}`);
    t.diagnostic(`fulcrum log:\n${fulcrum.log.slice(-30).join('\n')}`);
    throw e;
  }
});

// The write controls, against the real admin API: the page opened with a token that may write
// shows them (per backend: drain, maint, ready, weight, remove; per pool: the add form). A backend
// added through the form appears (with its name and weight); drain shows on its row, a new weight
// in its weight column, ready clears the drain; adding an address already in the pool shows the
// API's 409 text on the pool's card; remove (clicked twice: the first asks) makes the row go. Each
// step is checked in /api/pools too. A Fulcrum without admin.token (read-only API) shows no control.
test('dashboard: write controls add, drain, weigh, ready and remove a backend; none when read-only', { timeout: 90000 }, async (t) => {
  const { chromium, cleanups } = await setUp(t);
  const b1 = await startBackend(cleanups, 'backend-1');
  const b2 = await startBackend(cleanups, 'backend-2');
  const b3 = await startBackend(cleanups, 'backend-3');  // not configured: added through the page
  const poolKeys = `    health: { http: { path: /health }, interval: ${INTERVAL_MS}ms, timeout: 300ms, rise: 1, fall: 1 }
    backends: [${b1.address}, ${b2.address}]`;
  const { admin, token, fulcrum } = await startFulcrumWithAdmin(cleanups, 1, poolKeys);
  const member = async (address) => {
    const pool = await fetch(`${admin}/api/pools/web`, { headers: { Authorization: `Bearer ${token}` } }).then((r) => r.json());
    return pool.backends.find((b) => b.address === address);
  };
  // Waits until /api/pools shows `check` true of the member at `address` (or of its absence).
  const apiSays = async (address, check, what) => {
    const deadline = Date.now() + 5000;
    while (!check(await member(address))) {
      assert.ok(Date.now() < deadline, `/api/pools: ${what} within 5 s`);
      await sleep(50);
    }
  };

  const { page, problems } = await openBrowserPage(chromium, cleanups);
  const row = (b) => `tr[data-backend="${b.address}"]`;
  try {
    await page.goto(`${admin}/?token=${token}`, { waitUntil: 'load' });
    await page.waitForSelector(badge(b1, 'healthy'));
    await page.waitForSelector(`${row(b2)} td.controls`);
    assert.equal(await page.locator('td.controls').count(), 2, 'each backend has its controls');
    assert.equal(await page.locator('section.pool[data-pool="web"] form.add-backend').count(), 1, 'the pool has its add form');
    for (const action of ['ready', 'drain', 'maint', 'weight', 'remove']) {
      assert.equal(await page.locator(`${row(b1)} button[data-action="${action}"]`).count(), 1, `a ${action} control`);
    }

    // Add through the form: the row appears, with its name and weight.
    const form = 'section.pool[data-pool="web"] form.add-backend';
    await page.fill(`${form} input[name="address"]`, b3.address);
    await page.fill(`${form} input[name="weight"]`, '2');
    await page.fill(`${form} input[name="name"]`, 'app3');
    await page.click(`${form} button[type="submit"]`);
    await page.waitForSelector(`${row(b3)} td.controls`);
    assert.equal(await page.locator(`${row(b3)} td.addr .bname`).textContent(), 'app3');
    assert.equal(await page.locator(`${row(b3)} td.weight`).textContent(), '2');
    assert.equal(await page.locator(`${form} input[name="address"]`).inputValue(), '', 'the form is emptied after an add');
    const added = await member(b3.address);
    assert.equal(added?.name, 'app3');
    assert.equal(added?.weight, 2);
    assert.equal(added?.source, 'api');

    // Drain: the row says so.
    await page.click(`${row(b3)} button[data-action="drain"]`);
    await page.waitForSelector(`${row(b3)}[data-admin-state="drain"] span.admin-state:text-is("drain")`);
    await page.waitForSelector(`${row(b3)} button[data-action="drain"][aria-pressed="true"]`);
    await apiSays(b3.address, (b) => b?.admin_state === 'drain', 'app3 drains');

    // Weight 5 through the row's input.
    await page.fill(`${row(b3)} form.weight-form input`, '5');
    await page.click(`${row(b3)} button[data-action="weight"]`);
    await page.waitForSelector(`${row(b3)} td.weight:text-is("5")`);
    await apiSays(b3.address, (b) => b?.weight === 5, 'weight 5');

    // Ready: back in rotation, the drain tag gone.
    await page.click(`${row(b3)} button[data-action="ready"]`);
    await page.waitForSelector(`${row(b3)}[data-admin-state="ready"]`);
    assert.equal(await page.locator(`${row(b3)} span.admin-state`).isVisible(), false);
    await apiSays(b3.address, (b) => b?.admin_state === 'ready', 'app3 ready');

    // An address already in the pool: the API's 409 and its text, shown on the pool's card.
    assert.equal(await page.locator('section.pool[data-pool="web"] .write-error').isVisible(), false);
    await page.fill(`${form} input[name="address"]`, b1.address);
    await page.click(`${form} button[type="submit"]`);
    const error = page.locator('section.pool[data-pool="web"] .write-error');
    await error.waitFor({ state: 'visible' });
    assert.equal(await error.locator('.text').textContent(),
      `add ${b1.address}: 409: address: backend '${b1.address}' is already in pool 'web'`);
    assert.equal(await page.locator('tr.backend').count(), 3, 'nothing added by the refused write');

    // Remove: the first click asks, the second removes; the row goes once it has left the pool.
    const remove = page.locator(`${row(b3)} button[data-action="remove"]`);
    await remove.click();
    assert.equal(await remove.textContent(), 'remove?');
    assert.equal(await member(b3.address).then((b) => b?.admin_state), 'ready', 'one click removes nothing');
    await remove.click();
    await page.waitForSelector(row(b3), { state: 'detached' });
    await apiSays(b3.address, (b) => b === undefined, 'app3 removed');
    assert.equal(await error.isVisible(), false, 'a successful write clears the error line');
    assert.equal(await page.locator('tr.backend').count(), 2);

    // The 409 was wanted: the browser reports it (the response, and chromium's console line about
    // it); anything else is a problem.
    const expected = (p) => p === `HTTP 409: ${admin}/api/pools/web/backends` ||
      /^console error: Failed to load resource: the server responded with a status of 409/.test(p);
    assert.ok(problems.some(expected), `the 409 was met: ${JSON.stringify(problems)}`);
    assert.deepEqual(problems.filter((p) => !expected(p)), [], 'no other console errors');
  } catch (e) {
    const shot = SCREENSHOT.replace(/\.png$/, '') + '-controls-failure.png';
    await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
    t.diagnostic(`failure screenshot: ${shot}`);
    t.diagnostic(`problems seen by the page: ${JSON.stringify(problems)}`);
    t.diagnostic(`fulcrum log:\n${fulcrum.log.slice(-30).join('\n')}`);
    throw e;
  }

  // Read-only: a Fulcrum without admin.token. Its page, although opened with a token (which this
  // API ignores for reads and refuses writes with: 403), shows the backends but no control and no
  // add form: what decides is the API's `writable`, not whether the page holds a token.
  const readOnly = await startFulcrumWithAdmin(cleanups, 1, poolKeys, '    pool: web', { withToken: false });
  const second = await openBrowserPage(chromium, cleanups);
  try {
    const status = await fetch(`${readOnly.admin}/api/status`, { headers: { Authorization: 'Bearer some-token' } }).then((r) => r.json());
    assert.equal(status.writable, false, 'the read-only API says so');
    await second.page.goto(`${readOnly.admin}/?token=some-token`, { waitUntil: 'load' });
    await second.page.waitForSelector(badge(b1, 'healthy'));
    await second.page.waitForSelector('#link[data-state="live"]');
    await sleep(1500);  // a few more polls: still none
    assert.equal(await second.page.locator('tr.backend').count(), 2);
    assert.equal(await second.page.locator('td.controls, th.controls-head, form.add-backend, .pool-controls').count(), 0,
      'no write control without write permission');
    assert.deepEqual(second.problems, [], 'no console errors');
  } catch (e) {
    t.diagnostic(`problems seen by the read-only page: ${JSON.stringify(second.problems)}`);
    t.diagnostic(`fulcrum log:\n${readOnly.fulcrum.log.slice(-30).join('\n')}`);
    throw e;
  }
});

// Pause, queue and slots: a pool whose one backend takes 2 requests at a time (max_connections 2)
// and answers after 2 s. Paused through the admin API, the page tags the pool `paused`, lists the
// pool_paused event and shows the 3 requests sent meanwhile waiting in its queue; resumed, the tag
// goes, the event says 3 were waiting, the backend's active cell shows its slots as `2 / 2` (marked
// full) while the third waits, all three are answered 200, and the queue shows its wait times.
test('dashboard: shows a paused pool, its queue depth and the backend slots in use', { timeout: 90000 }, async (t) => {
  const { chromium, cleanups } = await setUp(t);
  const slow = await startBackend(cleanups, 'slow', 200, 2000);
  const { webAddress, admin, token, fulcrum } = await startFulcrumWithAdmin(cleanups, 2,
    `    queue: { size: 50, timeout: 30s }
    backends:
      - { address: ${slow.address}, max_connections: 2 }`);
  const patch = (paused) => fetch(`${admin}/api/pools/web`, {
    method: 'PATCH',
    headers: { Authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ paused }),
  }).then((r) => r.json());

  const { page, problems } = await openBrowserPage(chromium, cleanups);
  const pool = 'section.pool[data-pool="web"]';
  const slots = `tr[data-backend="${slow.address}"] td[data-max="2"]`;
  const requests = [];
  try {
    await page.goto(`${admin}/?token=${token}`, { waitUntil: 'load' });
    await page.waitForSelector('#link[data-state="live"]');
    await page.waitForSelector(slots);
    assert.equal(await page.locator(slots).textContent(), '0 / 2');
    assert.equal(await page.locator(`${pool} .paused-tag`).isVisible(), false, 'not paused yet');
    assert.match(await page.locator(`${pool} .pool-queue`).textContent(), /^queue 0\/50/);

    assert.equal((await patch(true)).paused, true);
    await page.waitForSelector(`${pool}[data-paused="true"] .paused-tag`, { state: 'visible' });
    // The event tail says it too.
    await page.waitForSelector('#events li[data-kind="pool_paused"] >> text=paused=true');
    for (let i = 0; i < 3; i++) {
      requests.push(fetch(`http://${webAddress}/r${i}`, { signal: AbortSignal.timeout(30000) }).then((r) => r.status));
    }
    await page.waitForSelector(`${pool} .pool-queue[data-depth="3"]`);
    assert.equal(await page.locator(`${pool} .pool-queue`).textContent(), 'queue 3/50', 'no wait figures before a wait ended');

    assert.equal((await patch(false)).paused, false);
    await page.waitForSelector(`${pool}[data-paused="false"]`);
    await page.waitForSelector('#events li[data-kind="pool_paused"] >> text=waiting=3');
    assert.equal(await page.locator(`${pool} .paused-tag`).isVisible(), false, 'the tag goes on resume');
    // Two in flight at the backend for 2 s (the page polls every second), the third still queued.
    await page.waitForSelector(`${slots}.full`, { timeout: 5000 });
    assert.equal(await page.locator(slots).textContent(), '2 / 2');
    assert.deepEqual(await Promise.all(requests), [200, 200, 200]);
    // Once all are answered: the queue empty, its wait percentiles shown, the slots free.
    await page.waitForSelector(`${pool} .pool-queue[data-depth="0"]`);
    await page.waitForSelector(`${slots}:not(.full)`);
    assert.match(await page.locator(`${pool} .pool-queue`).textContent(), /^queue 0\/50 · wait p50 .+ p99 .+$/);
    assert.deepEqual(problems, [], 'no console errors');
  } catch (e) {
    const shot = SCREENSHOT.replace(/\.png$/, '') + '-queue-failure.png';
    await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
    t.diagnostic(`failure screenshot: ${shot}`);
    t.diagnostic(`problems seen by the page: ${JSON.stringify(problems)}`);
    t.diagnostic(`fulcrum log:\n${fulcrum.log.slice(-30).join('\n')}`);
    throw e;
  } finally {
    await Promise.allSettled(requests);
  }
});

test('dashboard: shows a managed pool\'s instances, a killed one coming back, one crash-looping', { timeout: 90000 }, async (t) => {
  const { chromium, cleanups } = await setUp(t);
  const base = 20000 + Math.floor(Math.random() * 9000);
  // Pool web: two instances of fulcrum's own demo backend. Pool broken: an instance that always
  // exits, shown as crashloop once its backoff (50 ms..200 ms) reaches the cap.
  const { admin, token, fulcrum } = await startFulcrumWithAdmin(cleanups, 2,
    `    managed:
      command: ["${FULCRUM}", demo-backend, --listen, "127.0.0.1:{port}", --name, "{pool}-{index}"]
      ports: ${base}-${base + 19}
      instances: 2
      ready: { http: { path: / }, timeout: 10s }
      restart: { backoff: 300ms..2s }
  broken:
    managed:
      command: [/bin/false]
      ports: ${base + 20}-${base + 29}
      restart: { backoff: 50ms..200ms }`);
  const { page, problems } = await openBrowserPage(chromium, cleanups);
  const chip = (name, state) => `section.pool .instance[data-instance="${name}"][data-state="${state}"]`;
  try {
    await page.goto(`${admin}/?token=${token}`, { waitUntil: 'load' });
    await page.waitForSelector('#link[data-state="live"]');
    await page.waitForSelector(chip('web-0', 'ready'));
    await page.waitForSelector(chip('web-1', 'ready'));
    await page.waitForSelector('section.pool .instance[data-instance="broken-0"][data-crashloop="true"]');
    assert.match(await page.locator(`section.pool[data-pool="broken"] .instance`).getAttribute('title'), /keeps exiting.*exit status 1/);

    const instances = await (await waitForHttp(`${admin}/api/pools/web/instances`, token, 5000)).json();
    const victim = instances.find((i) => i.name === 'web-1');
    assert.ok(victim && victim.pid > 0, JSON.stringify(instances));
    process.kill(victim.pid, 'SIGKILL');
    // It leaves (backoff), comes back with a new pid, its restart counted.
    await page.waitForSelector('#events li[data-kind="instance_exited"] >> text=signal=SIGKILL');
    await page.waitForSelector(`${chip('web-1', 'ready')} >> text=↻1`, { timeout: 10000 });
    assert.doesNotMatch(await page.locator(chip('web-1', 'ready')).textContent(), new RegExp(`pid ${victim.pid}\\b`));
    await page.screenshot({ path: SCREENSHOT.replace(/\.png$/, '') + '-managed.png', fullPage: true });
    assert.deepEqual(problems, [], 'no console errors');
  } catch (e) {
    const shot = SCREENSHOT.replace(/\.png$/, '') + '-managed-failure.png';
    await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
    t.diagnostic(`failure screenshot: ${shot}`);
    t.diagnostic(`problems seen by the page: ${JSON.stringify(problems)}`);
    t.diagnostic(`fulcrum log:\n${fulcrum.log.slice(-30).join('\n')}`);
    throw e;
  }
});

test('dashboard: shows an autoscaled managed pool and its rolling restart', { timeout: 90000 }, async (t) => {
  const { chromium, cleanups } = await setUp(t);
  // The instances: node itself, answering "ok" on {port}.
  const server = "require('http').createServer((q, s) => s.end('ok')).listen(+process.argv[1], '127.0.0.1')";
  const base = 20000 + Math.floor(Math.random() * 9000);
  const { admin, token, fulcrum } = await startFulcrumWithAdmin(cleanups, 2,
    `    managed:
      command: [${JSON.stringify(process.execPath)}, -e, ${JSON.stringify(server)}, "{port}"]
      ports: ${base}-${base + 9}
      instances: { min: 1, max: 2 }
      autoscale: { target: { in_flight: 5 }, up_cooldown: 1s, down_window: 2s }
      ready: { tcp: {}, timeout: 10s }`);
  const { page, problems } = await openBrowserPage(chromium, cleanups);
  const strip = 'section.pool[data-pool="web"] .pool-scaling';
  try {
    await page.goto(`${admin}/?token=${token}`, { waitUntil: 'load' });
    await page.waitForSelector('#link[data-state="live"]');
    // The autoscaler: instances (ready, bounds) and the signal beside its target; no roll yet.
    await page.waitForSelector(`${strip} .autoscale >> text=/^1 instances \\(1 ready, 1\\.\\.2\\) · in_flight 0\\.0 \\/ 5/`);
    assert.equal(await page.locator(`${strip} .roll`).isVisible(), false, 'no roll before the first');

    const answer = await fetch(`${admin}/api/pools/web/restart`, { method: 'POST', headers: { Authorization: `Bearer ${token}` } });
    assert.equal(answer.status, 202);
    // The roll's end, as the page tells it; the event tail has it too.
    await page.waitForSelector(`${strip}[data-roll="done"] .roll >> text=/^last rolling restart \\(api\\): 1\\/1 replaced in /`,
      { timeout: 15000 });
    await page.waitForSelector('#events li[data-kind="roll_done"] >> text=replaced=1');
    assert.deepEqual(problems, [], 'no console errors');
  } catch (e) {
    const shot = SCREENSHOT.replace(/\.png$/, '') + '-scaling-failure.png';
    await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
    t.diagnostic(`failure screenshot: ${shot}`);
    t.diagnostic(`problems seen by the page: ${JSON.stringify(problems)}`);
    t.diagnostic(`fulcrum log:\n${fulcrum.log.slice(-30).join('\n')}`);
    throw e;
  }
});

test('dashboard: in cluster mode shows the cluster panel, and etcd unreachable with the reason', { timeout: 90000 }, async (t) => {
  const { chromium, cleanups } = await setUp(t);
  const backend = await startBackend(cleanups, 'b1');
  // Nothing listens on port 1: the store is unreachable from the start, which the page must say.
  const { admin, token, fulcrum } = await startFulcrumWithAdmin(cleanups, 1, `    backends: [${backend.address}]`,
    '    pool: web', { extra: 'cluster: { name: edge, etcd: { endpoints: [http://127.0.0.1:1] } }\n' });
  const { page, problems } = await openBrowserPage(chromium, cleanups);
  try {
    await page.goto(`${admin}/?token=${token}`, { waitUntil: 'load' });
    await page.waitForSelector('#cluster-panel:not([hidden])');
    await page.waitForSelector('#cluster-state.unhealthy');
    assert.equal(await page.locator('#cluster-name').textContent(), 'edge');
    assert.equal(await page.locator('#cluster-state').textContent(), 'etcd disconnected');
    assert.match(await page.locator('#cluster-reason').textContent(), /127\.0\.0\.1:1/);
    await page.waitForSelector('#events li[data-kind="cluster_disconnected"]');
    assert.deepEqual(problems, [], 'no console errors');
  } catch (e) {
    const shot = SCREENSHOT.replace(/\.png$/, '') + '-cluster-failure.png';
    await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
    t.diagnostic(`failure screenshot: ${shot}`);
    t.diagnostic(`problems seen by the page: ${JSON.stringify(problems)}`);
    t.diagnostic(`fulcrum log:\n${fulcrum.log.slice(-30).join('\n')}`);
    throw e;
  }
});

test('dashboard: shows an autoscaled managed pool and its rolling restart', { timeout: 90000 }, async (t) => {
  const { chromium, cleanups } = await setUp(t);
  // The instances: node itself, answering "ok" on {port}.
  const server = "require('http').createServer((q, s) => s.end('ok')).listen(+process.argv[1], '127.0.0.1')";
  const base = 20000 + Math.floor(Math.random() * 9000);
  const { admin, token, fulcrum } = await startFulcrumWithAdmin(cleanups, 2,
    `    managed:
      command: [${JSON.stringify(process.execPath)}, -e, ${JSON.stringify(server)}, "{port}"]
      ports: ${base}-${base + 9}
      instances: { min: 1, max: 2 }
      autoscale: { target: { in_flight: 5 }, up_cooldown: 1s, down_window: 2s }
      ready: { tcp: {}, timeout: 10s }`);
  const { page, problems } = await openBrowserPage(chromium, cleanups);
  const strip = 'section.pool[data-pool="web"] .pool-scaling';
  try {
    await page.goto(`${admin}/?token=${token}`, { waitUntil: 'load' });
    await page.waitForSelector('#link[data-state="live"]');
    // The autoscaler: instances (ready, bounds) and the signal beside its target; no roll yet.
    await page.waitForSelector(`${strip} .autoscale >> text=/^1 instances \\(1 ready, 1\\.\\.2\\) · in_flight 0\\.0 \\/ 5/`);
    assert.equal(await page.locator(`${strip} .roll`).isVisible(), false, 'no roll before the first');

    const answer = await fetch(`${admin}/api/pools/web/restart`, { method: 'POST', headers: { Authorization: `Bearer ${token}` } });
    assert.equal(answer.status, 202);
    // The roll's end, as the page tells it; the event tail has it too.
    await page.waitForSelector(`${strip}[data-roll="done"] .roll >> text=/^last rolling restart \\(api\\): 1\\/1 replaced in /`,
      { timeout: 15000 });
    await page.waitForSelector('#events li[data-kind="roll_done"] >> text=replaced=1');
    assert.deepEqual(problems, [], 'no console errors');
  } catch (e) {
    const shot = SCREENSHOT.replace(/\.png$/, '') + '-scaling-failure.png';
    await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
    t.diagnostic(`failure screenshot: ${shot}`);
    t.diagnostic(`problems seen by the page: ${JSON.stringify(problems)}`);
    t.diagnostic(`fulcrum log:\n${fulcrum.log.slice(-30).join('\n')}`);
    throw e;
  }
});
