// Fulcrum dashboard: plain JS, no dependencies, no build step. Served from the binary by the admin
// listener (src/admin/dashboard_assets.cc). Figures come from polling /api/status every second;
// events (and immediate health changes) from the Server-Sent Events stream /api/events, which
// starts with the recent events (marked "replayed"), so that a page opened after a failure shows
// it; the routes from /api/listeners once. The write controls (controls.js) appear when
// /api/status says this page's token may write.
'use strict';

(() => {
  const POLL_MS = 1000;
  const HISTORY = 60;           // samples (seconds) of req/s kept per backend for the sparklines
  const EVENTS_MAX = 200;       // events shown, and kept per kind
  const FETCH_TIMEOUT_MS = 2500;
  const KINDS = ['healthy', 'unhealthy', 'recovery', 'ejected', 'panic', 'error', 'backend_added',
    'backend_removed', 'backend_state', 'backend_weight', 'backend_expired', 'registration_guard', 'pool_paused', 'start', 'stop',
    'instance_started', 'instance_ready', 'instance_exited', 'instance_restarting', 'crashloop',
    'scaled', 'roll_started', 'roll_done', 'roll_failed',
    'cluster_disconnected', 'cluster_connected',
    'monitoring', 'selecting_server', 'request', 'response'];
  // Noisy kinds (every health interval, or per request) start hidden.
  const HIDDEN_BY_DEFAULT = new Set(['monitoring', 'selecting_server', 'request', 'response']);
  // Per-request kinds are only asked of the server while their chip is on: the stream then
  // carries (and the balancer produces) them for nobody otherwise.
  const PER_REQUEST = new Set(['selecting_server', 'request', 'response']);
  // Events that say what a backend's health state is now.
  const STATE_OF_EVENT = { healthy: 'healthy', recovery: 'healthy', unhealthy: 'unhealthy', ejected: 'ejected' };
  const STATES = new Set(['healthy', 'unhealthy', 'ejected', 'deactivated', 'unknown']);
  // What each state means, for the badge's tooltip (docs/admin-api.md).
  const STATE_TITLES = {
    healthy: 'taking requests',
    unhealthy: 'failing its health checks: no requests until it recovers',
    ejected: 'ejected by outlier detection (failures in a row): no requests until the ejection ends',
    deactivated: 'a connect failed: left out for deactivate_for',
    unknown: 'no verdict yet',
  };

  const params = new URLSearchParams(location.search);
  const token = params.get('token') || '';
  const headers = token ? { Authorization: 'Bearer ' + token } : {};

  const $ = (id) => document.getElementById(id);
  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  };
  // After a write the page polls at once (poll() is hoisted).
  const controls = window.FulcrumControls({ token, el, refresh: () => poll() });

  // ---- formatting ----------------------------------------------------------------------------
  const isNum = (v) => typeof v === 'number' && Number.isFinite(v);
  function fmtRate(v) {
    if (!isNum(v)) return '–';
    if (v === 0) return '0';
    if (v < 10) return v.toFixed(1);
    if (v < 10000) return Math.round(v).toString();
    return (v / 1000).toFixed(v < 100000 ? 1 : 0) + 'k';
  }
  function fmtCount(v) {
    if (!isNum(v)) return '–';
    if (v < 10000) return String(v);
    if (v < 1e6) return (v / 1e3).toFixed(v < 1e5 ? 1 : 0) + 'k';
    if (v < 1e9) return (v / 1e6).toFixed(v < 1e7 ? 2 : 1) + 'M';
    return (v / 1e9).toFixed(2) + 'G';
  }
  function fmtMs(v) {
    if (!isNum(v)) return '–';
    if (v >= 1000) return (v / 1000).toFixed(v >= 10000 ? 0 : 1) + ' s';
    if (v >= 100) return Math.round(v) + ' ms';
    if (v >= 10) return v.toFixed(1) + ' ms';
    return v.toFixed(2) + ' ms';
  }
  function fmtBytes(v) {
    if (!isNum(v)) return '–';
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
    return (i ? v.toFixed(1) : String(v)) + ' ' + units[i];
  }
  function fmtUptime(s) {
    if (!isNum(s)) return '–';
    s = Math.max(0, Math.floor(s));
    const d = Math.floor(s / 86400), h = Math.floor(s / 3600) % 24, m = Math.floor(s / 60) % 60, sec = s % 60;
    const p = (n) => String(n).padStart(2, '0');
    if (d) return `${d}d ${p(h)}h ${p(m)}m`;
    if (h) return `${h}h ${p(m)}m ${p(sec)}s`;
    if (m) return `${m}m ${p(sec)}s`;
    return `${sec}s`;
  }
  // Time since an ISO stamp, short: "12s", "4m 03s", "2h 05m", "3d 04h" (the browser's clock).
  function fmtAgo(iso) {
    const t = Date.parse(iso);
    if (Number.isNaN(t)) return '–';
    const s = Math.max(0, Math.floor((Date.now() - t) / 1000));
    const p = (n) => String(n).padStart(2, '0');
    if (s < 60) return `${s}s`;
    if (s < 3600) return `${Math.floor(s / 60)}m ${p(s % 60)}s`;
    if (s < 86400) return `${Math.floor(s / 3600)}h ${p(Math.floor(s / 60) % 60)}m`;
    return `${Math.floor(s / 86400)}d ${p(Math.floor(s / 3600) % 24)}h`;
  }
  function fmtClock(iso) {
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return String(iso || '');
    const p = (n, w = 2) => String(n).padStart(w, '0');
    return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
  }

  // ---- state ---------------------------------------------------------------------------------
  const model = {
    status: null,            // the last /api/status
    statusAt: 0,             // performance.now() when it arrived
    history: new Map(),      // "pool\u0000address" → number[] of req/s
    overrides: new Map(),    // "pool\u0000address" → { state, until } from health events
    shown: new Map(),        // "pool\u0000address" → state last drawn (to flash changes)
    listenerPrev: new Map(), // listener name → { accepted, t }
    totalHistory: [],
    scaleHistory: new Map(), // pool name → { instances: number[], value: number[] } (autoscaled pools)
  };
  const bkey = (pool, addr) => pool + '\u0000' + addr;

  function setLink(state, text) {
    const l = $('link');
    l.dataset.state = state;
    $('link-text').textContent = text;
  }
  let pollOk = false, streamOk = false, authFailed = false;
  function updateLink() {
    if (authFailed) setLink('down', 'unauthorized');
    else if (pollOk && streamOk) setLink('live', 'live');
    else if (pollOk) setLink('stale', 'live · no event stream');
    else setLink('down', 'disconnected');
  }
  function showAlert(text) {
    const a = $('alert');
    a.textContent = text || '';
    a.hidden = !text;
  }

  // ---- polling -------------------------------------------------------------------------------
  async function getJson(path) {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), FETCH_TIMEOUT_MS);
    try {
      const r = await fetch(path, { headers, cache: 'no-store', signal: ctl.signal });
      if (r.status === 401 || r.status === 403) { const e = new Error('unauthorized'); e.auth = true; throw e; }
      if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
      return await r.json();
    } finally {
      clearTimeout(timer);
    }
  }

  // A poll asked for while one is under way runs after it (its answer may predate a write).
  let polling = false, pollAgain = false;
  async function poll() {
    if (polling) { pollAgain = true; return; }
    polling = true;
    pollAgain = false;
    try {
      const status = await getJson('api/status');
      pollOk = true;
      authFailed = false;
      showAlert('');
      controls.setWritable(status.writable === true);
      ingest(status);
      render();
      if (!routes) loadRoutes();
    } catch (e) {
      pollOk = false;
      if (e && e.auth) {
        authFailed = true;
        showAlert(token ? 'The admin API refused this token.'
          : 'The admin API needs a token: open this page as /?token=<your token>.');
      }
    } finally {
      polling = false;
      updateLink();
      if (pollAgain) poll();
    }
  }

  function ingest(status) {
    const now = performance.now();
    model.status = status;
    model.statusAt = now;
    let total = 0;
    const seen = new Set();
    for (const pool of status.pools || []) {
      for (const b of pool.backends || []) {
        const k = bkey(pool.name, b.address);
        seen.add(k);
        let h = model.history.get(k);
        if (!h) { h = []; model.history.set(k, h); }
        h.push(isNum(b.rps) ? b.rps : 0);
        if (h.length > HISTORY) h.splice(0, h.length - HISTORY);
        if (isNum(b.rps)) total += b.rps;
        const o = model.overrides.get(k);
        if (o && (o.state === b.state || o.until < now)) model.overrides.delete(k);
      }
    }
    for (const k of [...model.history.keys()]) if (!seen.has(k)) model.history.delete(k);
    ingestScaling(status.pools || []);
    model.totalHistory.push(total);
    if (model.totalHistory.length > HISTORY) model.totalHistory.splice(0, model.totalHistory.length - HISTORY);
    model.total = total;
  }

  // Autoscaled pools: their instance count and load value, a sample per poll, for the plots.
  function ingestScaling(pools) {
    const seen = new Set();
    for (const pool of pools) {
      const a = pool.autoscale;
      if (!a) continue;
      seen.add(pool.name);
      let h = model.scaleHistory.get(pool.name);
      if (!h) { h = { instances: [], value: [] }; model.scaleHistory.set(pool.name, h); }
      h.instances.push(isNum(a.instances) ? a.instances : 0);
      h.value.push(isNum(a.value) ? a.value : 0);
      for (const series of [h.instances, h.value]) if (series.length > HISTORY) series.splice(0, series.length - HISTORY);
    }
    for (const name of [...model.scaleHistory.keys()]) if (!seen.has(name)) model.scaleHistory.delete(name);
  }

  function stateOf(poolName, b) {
    const o = model.overrides.get(bkey(poolName, b.address));
    if (o && o.until > performance.now()) return o.state;
    return STATES.has(b.state) ? b.state : 'unknown';
  }

  // ---- rendering: header and listeners -------------------------------------------------------
  function renderHeader() {
    const s = model.status;
    $('version').textContent = s.version ? 'v' + s.version : '';
    $('workers').textContent = isNum(s.workers) ? String(s.workers) : '–';
    const cfg = s.config || {};
    const gen = $('config-generation');
    gen.textContent = isNum(cfg.generation) ? 'gen ' + cfg.generation : '–';
    if (isNum(cfg.last_reload_unix)) {
      const when = new Date(cfg.last_reload_unix * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
      gen.title = 'configuration generation ' + cfg.generation + '; last reload ' + when +
        (cfg.last_reload_ok ? ' (applied)' : ' (failed: nothing changed)') +
        '; ' + (cfg.reloads_ok || 0) + ' applied, ' + (cfg.reloads_failed || 0) + ' failed';
      gen.style.color = cfg.last_reload_ok ? '' : 'var(--warn)';
    }
    $('total-rps').textContent = fmtRate(model.total);
    let active = 0, up = 0, all = 0;
    for (const l of s.listeners || []) if (isNum(l.active_connections)) active += l.active_connections;
    for (const p of s.pools || []) for (const b of p.backends || []) { all++; if (stateOf(p.name, b) === 'healthy') up++; }
    $('total-active').textContent = fmtCount(active);
    const bu = $('backends-up');
    bu.textContent = '';
    bu.append(String(up), el('span', 'of', ' / ' + all));
    bu.style.color = all && up < all ? (up === 0 ? 'var(--bad)' : 'var(--warn)') : '';
    drawSpark($('total-spark'), model.totalHistory, 'var(--accent)');
    tickUptime();
  }
  function tickUptime() {
    const s = model.status;
    if (!s || !isNum(s.uptime_seconds)) return;
    const extra = pollOk ? (performance.now() - model.statusAt) / 1000 : 0;
    $('uptime').textContent = fmtUptime(s.uptime_seconds + extra);
  }

  function renderListeners() {
    const list = model.status.listeners || [];
    const tbody = $('listeners');
    $('listener-count').textContent = list.length ? String(list.length) : '';
    const now = performance.now();
    const rows = [];
    for (const l of list) {
      const prev = model.listenerPrev.get(l.name);
      let rate = null;
      if (prev && isNum(l.accepted_total) && now > prev.t) rate = Math.max(0, (l.accepted_total - prev.accepted) * 1000 / (now - prev.t));
      if (!prev || now - prev.t >= 900) model.listenerPrev.set(l.name, { accepted: l.accepted_total, t: now, rate });
      if (rate === null && prev) rate = prev.rate;
      const tr = el('tr');
      tr.dataset.listener = l.name;
      tr.append(el('td', '', l.name), el('td', 'mono dim', l.address || ''), el('td', 'dim', l.mode || ''),
        numCell(l.active_connections, fmtCount), numCell(l.accepted_total, fmtCount), numCell(rate, fmtRate));
      rows.push(tr);
    }
    if (!rows.length) {
      const tr = el('tr', 'empty');
      const td = el('td', '', 'no listeners');
      td.colSpan = 6;
      tr.append(td);
      rows.push(tr);
    }
    tbody.replaceChildren(...rows);
  }
  function numCell(v, fmt) {
    const td = el('td', 'num' + (v === 0 ? ' zero' : ''), fmt(v));
    return td;
  }

  // ---- rendering: pools ----------------------------------------------------------------------
  const poolCards = new Map(); // pool name → { root, tbody, rows: Map address → row refs, ... }
  const BACKEND_COLS = ['state', 'backend', 'check', 'weight', 'active', 'req/s', 'p50', 'p99', 'requests', 'responses', 'errors', 'last 60 s'];
  const NUMERIC = new Set(['weight', 'active', 'req/s', 'p50', 'p99', 'requests', 'errors']);

  function makePoolCard(name) {
    const root = el('section', 'panel pool');
    root.dataset.pool = name;
    const head = el('div', 'pool-head');
    const title = el('span', 'pool-name', name);
    const strategy = el('span', 'strategy');
    const health = el('span', 'health');
    const rps = el('span', 'pool-rps');
    // PAUSED while an operator holds the pool's new requests in its queue (PATCH /api/pools/{pool}).
    const paused = el('span', 'paused-tag', 'paused');
    paused.hidden = true;
    paused.title = 'paused: new requests wait in the queue until the pool is resumed';
    // Requests waiting for a free slot (or for the pause to end) and how long they waited.
    const queue = el('span', 'pool-queue');
    head.append(title, strategy, paused, health, el('span', 'spacer'), queue, rps);
    const panic = el('div', 'panic');
    panic.hidden = true;
    panic.append(el('b', '', 'PANIC'), el('span', '', 'every backend is unhealthy: Fulcrum is sending traffic to all of them anyway'));
    const table = el('table', 'grid backends');
    const thead = el('thead');
    const htr = el('tr');
    for (const c of BACKEND_COLS) htr.append(el('th', NUMERIC.has(c) ? 'num' : '', c));
    thead.append(htr);
    const tbody = el('tbody');
    table.append(thead, tbody);
    // A managed pool's instances (pools.NAME.managed): one chip each, with its state.
    const instances = el('div', 'instances');
    instances.hidden = true;
    // Its rolling restart and autoscaling (hidden for other pools).
    const scaling = makeScalingStrip();
    root.append(head, panic, instances, scaling.root, table);
    return { root, strategy, health, rps, paused, queue, panic, instances, scaling, tbody, rows: new Map() };
  }

  function makeBackendRow() {
    const tr = el('tr', 'backend');
    const cells = {};
    const badge = el('span', 'badge');
    const tdState = el('td');
    // How long it has been in its state, next to the badge.
    cells.since = el('span', 'since');
    // drain / maint (the admin state), when not ready.
    cells.admin = el('span', 'admin-state');
    tdState.append(badge, cells.admin, cells.since);
    cells.addr = el('td', 'addr mono');
    cells.check = el('td', 'check');
    cells.weight = el('td', 'num weight');
    cells.active = el('td', 'num');
    cells.rps = el('td', 'num');
    cells.p50 = el('td', 'num');
    cells.p99 = el('td', 'num');
    cells.requests = el('td', 'num');
    const tdResp = el('td');
    const resp = el('span', 'resp');
    const bars = ['r1', 'r2', 'r3', 'r4', 'r5'].map((c) => el('i', c));
    resp.append(...bars);
    tdResp.append(resp);
    cells.errors = el('td', 'num');
    const tdSpark = el('td', 'spark-cell');
    const canvas = el('canvas', 'spark');
    canvas.width = 120; canvas.height = 24;
    tdSpark.append(canvas);
    tr.append(tdState, cells.addr, cells.check, cells.weight, cells.active, cells.rps, cells.p50, cells.p99, cells.requests,
      tdResp, cells.errors, tdSpark);
    return { tr, badge, cells, resp, bars, canvas };
  }

  function setText(node, text, zero) {
    if (node.textContent !== text) node.textContent = text;
    node.classList.toggle('zero', !!zero);
  }

  function renderPools() {
    const pools = model.status.pools || [];
    const container = $('pools');
    const names = new Set();
    let order = 0;
    for (const pool of pools) {
      names.add(pool.name);
      let card = poolCards.get(pool.name);
      if (!card) { card = makePoolCard(pool.name); poolCards.set(pool.name, card); }
      if (container.children[order] !== card.root) container.insertBefore(card.root, container.children[order] || null);
      order++;
      renderPool(pool, card);
    }
    for (const [name, card] of poolCards) if (!names.has(name)) { card.root.remove(); poolCards.delete(name); }
    if (!pools.length) {
      if (!container.querySelector('.no-pools')) container.append(el('section', 'panel no-pools dim', 'no pools configured'));
    } else {
      const np = container.querySelector('.no-pools');
      if (np) np.remove();
    }
  }

  function renderPool(pool, card) {
    const backends = pool.backends || [];
    setText(card.strategy, pool.strategy || '');
    controls.renderPool(card, pool.name);
    let up = 0, rps = 0;
    const addrs = new Set();
    backends.forEach((b, i) => {
      addrs.add(b.address);
      let row = card.rows.get(b.address);
      if (!row) { row = makeBackendRow(); card.rows.set(b.address, row); }
      if (card.tbody.children[i] !== row.tr) card.tbody.insertBefore(row.tr, card.tbody.children[i] || null);
      const state = stateOf(pool.name, b);
      if (state === 'healthy') up++;
      if (isNum(b.rps)) rps += b.rps;
      renderBackend(pool.name, b, state, row);
      controls.renderBackend(card, pool.name, b, row);
    });
    for (const [addr, row] of card.rows) if (!addrs.has(addr)) { row.tr.remove(); card.rows.delete(addr); }
    if (!backends.length && !card.tbody.querySelector('.empty')) {
      const tr = el('tr', 'empty');
      const td = el('td', '', 'no backends');
      td.colSpan = BACKEND_COLS.length + 1; // and the controls' column, if shown
      tr.append(td);
      card.tbody.append(tr);
    } else if (backends.length) {
      const e = card.tbody.querySelector('.empty');
      if (e) e.remove();
    }
    card.health.textContent = '';
    card.health.append(el('b', '', `${up}/${backends.length}`), ' healthy');
    card.rps.textContent = '';
    card.rps.append(el('b', '', fmtRate(rps)), ' req/s');
    card.panic.hidden = !pool.panic;
    card.root.classList.toggle('is-panic', !!pool.panic);
    renderQueue(pool, card);
    renderInstances(pool, card);
    renderScaling(pool, card.scaling);
  }

  // "app-0 ready pid 4711 · app-1 crashloop (restart in 30 s, exit status 1)": what the
  // supervisor says of each instance of a managed pool.
  const INSTANCE_TITLES = {
    starting: 'started, its ready check has not passed yet: no traffic',
    ready: 'ready: a member of the pool',
    backoff: 'exited: started again after its backoff',
    crashloop: 'keeps exiting: retried at the backoff\'s cap',
    stopping: 'stopping: drained, then signalled',
  };
  function renderInstances(pool, card) {
    const managed = pool.managed;
    card.instances.hidden = !managed;
    if (!managed) return;
    card.instances.textContent = '';
    card.instances.append(el('span', 'dim', 'instances '));
    for (const i of managed.instances || []) {
      // Crash-looping shows as such between its tries too (each try is `starting` for a moment).
      const shown = i.crashloop ? 'crashloop' : i.state;
      const chip = el('span', 'instance state-' + shown);
      chip.dataset.instance = i.name;
      chip.dataset.state = i.state;
      chip.dataset.crashloop = String(!!i.crashloop);
      let text = `${i.name} ${shown}`;
      if (i.pid) text += ` pid ${i.pid}`;
      if (i.restarts) text += ` ↻${i.restarts}`;
      if (isNum(i.restart_delay_ms) && (i.state === 'backoff' || i.state === 'crashloop')) {
        text += ` (retry in ${fmtCount(Math.round(i.restart_delay_ms))} ms)`;
      }
      chip.textContent = text;
      chip.title = (INSTANCE_TITLES[shown] || shown) + (i.last_exit ? ` — last exit: ${i.last_exit}` : '');
      card.instances.append(chip);
    }
  }

  // ---- managed pools: rolling restart and autoscaling ----------------------------------------
  function makeScalingStrip() {
    const root = el('div', 'pool-scaling');
    root.hidden = true;
    const roll = el('div', 'roll');
    const autoscale = el('div', 'autoscale');
    const text = el('span', 'autoscale-text');
    // Instances over time beside the load (the autoscaler's signal), a sample per second.
    const instances = el('canvas', 'spark scale-spark');
    const load = el('canvas', 'spark scale-spark');
    for (const c of [instances, load]) { c.width = 160; c.height = 24; }
    instances.title = 'instances over the last minute';
    load.title = 'load (the autoscaler\'s signal) over the last minute';
    autoscale.append(text, el('span', 'dim', ' instances '), instances, el('span', 'dim', ' load '), load);
    root.append(roll, autoscale);
    return { root, roll, autoscale, text, instances, load };
  }

  function renderScaling(pool, strip) {
    const r = pool.roll, a = pool.autoscale;
    strip.root.hidden = !r && !a;
    strip.roll.hidden = !r;
    strip.roll.textContent = '';
    if (r) {
      strip.root.dataset.roll = r.state;
      if (r.state === 'running') {
        const current = (r.steps || []).filter((s) => s.state !== 'pending' && s.state !== 'done' && s.state !== 'abandoned');
        strip.roll.append(el('b', 'rolling', 'rolling restart'), ` ${r.done}/${r.total} replaced`,
          current.length ? el('span', 'dim', ' · ' + current.map((s) => `${s.instance} ${s.state}`).join(', ')) : '');
      } else if (r.state === 'done') {
        strip.roll.append(el('span', 'dim', `last rolling restart (${r.reason}): ${r.done}/${r.total} replaced in ${fmtMs(r.duration_ms)} · ${fmtClock(r.started)}`));
      } else {
        const f = r.failure || {};
        strip.roll.append(el('b', 'roll-failed', 'rolling restart failed'),
          ` ${r.done}/${r.total} replaced · ${f.cause || ''}${f.instance ? ' at ' + f.instance : ''}`,
          f.detail ? el('span', 'dim', ' · ' + f.detail) : '');
      }
    }
    strip.autoscale.hidden = !a;
    if (!a) return;
    strip.text.textContent = '';
    const unit = a.signal === 'p95' ? ' ms' : '';
    strip.text.append(el('b', '', `${a.instances}`), ` instances (${a.ready} ready, ${a.min}..${a.max}) · ${a.signal} `,
      el('b', '', `${Number(a.value || 0).toFixed(1)}${unit}`), ` / ${a.target}${unit}`);
    const c = a.last_change;
    if (c) strip.text.append(el('span', 'dim', ` · last ${c.action} ${c.from}→${c.to} (${c.reason}) ${fmtClock(c.at)}`));
    const h = model.scaleHistory.get(pool.name) || { instances: [], value: [] };
    drawSpark(strip.instances, h.instances, 'var(--accent)');
    drawSpark(strip.load, h.value, 'var(--warn)');
  }

  // The pause tag and the queue: "queue 3/1000 · wait p50 2 ms p99 40 ms" (the wait percentiles
  // of the requests that left the queue so far).
  function renderQueue(pool, card) {
    const paused = !!pool.paused;
    card.paused.hidden = !paused;
    card.root.dataset.paused = String(paused);
    card.root.classList.toggle('is-paused', paused);
    const q = pool.queue || {};
    const depth = isNum(q.depth) ? q.depth : 0;
    card.queue.dataset.depth = String(depth);
    card.queue.textContent = '';
    card.queue.append('queue ', el('b', depth > 0 ? 'queued' : '', fmtCount(depth)),
      isNum(q.size) ? '/' + fmtCount(q.size) : '');
    const wait = q.wait_ms || {};
    // Only once a wait has ended (served or timed out): before that the percentiles are empty.
    if (isNum(wait.p99) && wait.p99 > 0) {
      card.queue.append(el('span', 'dim', ` · wait p50 ${fmtMs(wait.p50)} p99 ${fmtMs(wait.p99)}`));
    }
    card.queue.title = `timeout ${q.timeout || '–'} · queued ${fmtCount(q.queued_total || 0)}` +
      ` · timed out ${fmtCount(q.timeouts_total || 0)} · refused (full) ${fmtCount(q.full_total || 0)}`;
  }

  function renderBackend(poolName, b, state, row) {
    const k = bkey(poolName, b.address);
    row.tr.dataset.backend = b.address;
    row.tr.dataset.state = state;
    const adminState = typeof b.admin_state === 'string' ? b.admin_state : 'ready';
    row.tr.dataset.adminState = adminState;
    setText(row.cells.admin, adminState === 'ready' ? '' : adminState);
    row.cells.admin.hidden = adminState === 'ready';
    row.cells.admin.title = adminState === 'drain' ? 'draining: no new requests; those in flight finish'
      : adminState === 'maint' ? 'in maintenance: out of rotation' : '';
    const prev = model.shown.get(k);
    if (prev !== undefined && prev !== state) {
      row.tr.classList.remove('flash');
      void row.tr.offsetWidth; // restart the animation
      row.tr.classList.add('flash');
    }
    model.shown.set(k, state);
    row.tr.className = row.tr.className.replace(/\bstate-\S+/g, '').trim() + ' state-' + state;
    row.badge.className = 'badge ' + state;
    row.badge.dataset.state = state;
    setText(row.badge, state);
    const ejections = isNum(b.ejections) ? b.ejections : 0;
    row.badge.title = STATE_TITLES[state] + (ejections ? ` · ejected ${ejections}× since start` : '');
    const name = typeof b.name === 'string' ? b.name : '';
    if (row.cells.addr.dataset.shown !== name + '\u0000' + b.address) {
      row.cells.addr.dataset.shown = name + '\u0000' + b.address;
      row.cells.addr.replaceChildren(...(name ? [el('span', 'bname', name), ' '] : []), b.address);
    }
    renderHealthDetails(b, row);
    const w = b.weight, ew = isNum(b.effective_weight) ? b.effective_weight : w;
    row.cells.weight.textContent = '';
    if (isNum(w) && isNum(ew) && ew !== w) {
      const ews = Number.isInteger(ew) ? String(ew) : ew.toFixed(2);
      row.cells.weight.append(el('span', 'eff-lower', ews), el('span', 'dim', ' / ' + w));
      row.cells.weight.title = `effective weight ${ews} of ${w} (slow start ramping it up)`;
    } else {
      row.cells.weight.append(String(isNum(w) ? w : '–'));
      row.cells.weight.title = '';
    }
    // With max_connections, the slots in use of the backend's limit ("3 / 10"); full is marked.
    const max = isNum(b.max_connections) ? b.max_connections : 0;
    row.cells.active.dataset.max = String(max);
    if (max > 0) {
      setText(row.cells.active, `${fmtCount(b.active)} / ${fmtCount(max)}`, b.active === 0);
      row.cells.active.classList.toggle('full', isNum(b.active) && b.active >= max);
      row.cells.active.title = `${b.active} of max_connections ${max} slots in use`;
    } else {
      setText(row.cells.active, fmtCount(b.active), b.active === 0);
      row.cells.active.classList.remove('full');
      row.cells.active.title = 'no max_connections: no limit';
    }
    setText(row.cells.rps, fmtRate(b.rps), !b.rps);
    const lat = b.latency_ms || {};
    const noLatency = !b.requests_total; // no response yet: the percentiles mean nothing
    setText(row.cells.p50, noLatency ? '–' : fmtMs(lat.p50), noLatency || !isNum(lat.p50));
    setText(row.cells.p99, noLatency ? '–' : fmtMs(lat.p99), noLatency || !isNum(lat.p99));
    setText(row.cells.requests, fmtCount(b.requests_total), !b.requests_total);
    row.cells.requests.title = `in ${fmtBytes(b.bytes_in)} · out ${fmtBytes(b.bytes_out)}`;
    const r = b.responses || {};
    const counts = ['1xx', '2xx', '3xx', '4xx', '5xx'].map((c) => (isNum(r[c]) ? r[c] : 0));
    const sum = counts.reduce((a, c) => a + c, 0);
    counts.forEach((c, i) => { row.bars[i].style.width = sum ? (c * 100 / sum) + '%' : '0'; });
    row.resp.title = sum ? ['1xx', '2xx', '3xx', '4xx', '5xx'].map((c, i) => `${c} ${counts[i]}`).join(' · ') : 'no responses yet';
    const errs = (isNum(b.connect_errors) ? b.connect_errors : 0);
    setText(row.cells.errors, fmtCount(errs), errs === 0);
    row.cells.errors.classList.toggle('err', errs > 0);
    row.cells.errors.title = `connect errors ${errs} · 5xx ${counts[4]} · ejections ${ejections}`;
    const color = state === 'healthy' ? 'var(--ok)' : state === 'unknown' ? 'var(--unknown)'
      : state === 'deactivated' ? 'var(--off)' : state === 'ejected' ? 'var(--warn)' : 'var(--bad)';
    drawSpark(row.canvas, model.history.get(k) || [], color);
  }

  // The last health check (result and duration) and how long the backend has been in its state.
  function renderHealthDetails(b, row) {
    const since = typeof b.state_since === 'string' ? b.state_since : '';
    setText(row.cells.since, since ? fmtAgo(since) : '–', !since);
    row.cells.since.title = since ? `in this state since ${since}` : 'no health monitor data';
    const c = b.last_check;
    const td = row.cells.check;
    if (!c || typeof c !== 'object') {
      td.dataset.check = 'none';
      setText(td, '–', true);
      td.title = 'no health check yet (or none configured)';
      return;
    }
    td.dataset.check = c.ok ? 'ok' : 'failed';
    // Failed checks since the backend joined, when there were any: " · 3 failed" after the last one.
    const failures = isNum(b.check_failures) ? b.check_failures : 0;
    td.dataset.checkFailures = String(failures);
    const text = (c.ok ? 'ok ' : 'failed ') + fmtMs(c.duration_ms);
    const tail = failures > 0 ? ` · ${fmtCount(failures)} failed` : '';
    if (td.textContent !== text + tail) {
      td.replaceChildren(text, ...(tail ? [el('span', 'dim check-failures', tail)] : []));
    }
    td.classList.remove('zero');
    td.classList.toggle('err', !c.ok);
    const d = b.check_duration_ms || {};
    const totals = isNum(b.checks)
      ? ` · ${b.checks} checks, ${failures} failed` + (isNum(d.mean) ? `, mean ${fmtMs(d.mean)}` : '') +
        (isNum(d.p99) ? `, p99 ${fmtMs(d.p99)}` : '')
      : '';
    td.title = `last check ${c.ok ? 'passed' : 'failed'} at ${c.at || '?'} in ${fmtMs(c.duration_ms)}` +
      (c.ok ? '' : `: ${c.error || 'unknown error'}`) + totals;
  }

  // ---- rendering: routes ---------------------------------------------------------------------
  // /api/listeners changes only with the configuration: fetched once (again while it fails).
  let routes = null;
  async function loadRoutes() {
    try {
      routes = await getJson('api/listeners');
      renderRoutes();
    } catch (_) { /* the next poll tries again */ }
  }
  function renderRoutes() {
    if (!routes) return;
    const tbody = $('routes');
    const pools = new Map(((model.status && model.status.pools) || []).map((p) => [p.name, p]));
    const rows = [];
    let count = 0;
    for (const l of routes) {
      (l.routes || []).forEach((r, i) => {
        count++;
        const tr = el('tr');
        tr.dataset.listener = l.name;
        tr.dataset.pool = r.pool;
        tr.append(el('td', i ? 'dim' : '', i ? '' : l.name), el('td', 'dim num', String(i + 1)),
          el('td', 'mono rule', r.rule || '*'));
        const poolCell = el('td', 'pool-ref', r.pool);
        const p = pools.get(r.pool);
        if (p) {
          const all = (p.backends || []).length;
          const up = (p.backends || []).filter((b) => stateOf(p.name, b) === 'healthy').length;
          poolCell.append(el('span', 'dim', ` ${up}/${all} up`));
          poolCell.classList.toggle('warn', up < all);
        }
        tr.append(poolCell, el('td', 'mono dim', r.strip_prefix ? 'strip ' + r.strip_prefix : ''));
        rows.push(tr);
      });
      if (l.unmatched) {
        const tr = el('tr', 'unmatched');
        tr.dataset.listener = l.name;
        tr.append(el('td', ''), el('td', ''), el('td', 'dim', 'anything else'), el('td', 'dim', 'answered ' + l.unmatched), el('td', ''));
        rows.push(tr);
      }
    }
    if (!rows.length) {
      const tr = el('tr', 'empty');
      const td = el('td', '', 'no routes');
      td.colSpan = 5;
      tr.append(td);
      rows.push(tr);
    }
    $('route-count').textContent = count ? String(count) : '';
    tbody.replaceChildren(...rows);
  }

  // ---- sparklines ----------------------------------------------------------------------------
  const cssColor = (() => {
    const cache = new Map();
    return (v) => {
      if (!v.startsWith('var(')) return v;
      if (!cache.has(v)) cache.set(v, getComputedStyle(document.documentElement).getPropertyValue(v.slice(4, -1)).trim() || '#888');
      return cache.get(v);
    };
  })();
  function drawSpark(canvas, values, colorVar) {
    const dpr = window.devicePixelRatio || 1;
    const w = canvas.clientWidth || canvas.width, h = canvas.clientHeight || canvas.height;
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(h * dpr);
    }
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    const color = cssColor(colorVar);
    // baseline
    ctx.strokeStyle = 'rgba(132,148,167,.18)';
    ctx.lineWidth = 1;
    ctx.beginPath(); ctx.moveTo(0, h - 0.5); ctx.lineTo(w, h - 0.5); ctx.stroke();
    if (!values.length) return;
    const max = Math.max(1, ...values);
    const step = w / (HISTORY - 1);
    const x0 = w - (values.length - 1) * step;
    const y = (v) => h - 2 - (v / max) * (h - 5);
    ctx.beginPath();
    values.forEach((v, i) => { const x = x0 + i * step; if (i) ctx.lineTo(x, y(v)); else ctx.moveTo(x, y(v)); });
    ctx.lineWidth = 1.4;
    ctx.strokeStyle = color;
    ctx.lineJoin = 'round';
    ctx.stroke();
    ctx.lineTo(x0 + (values.length - 1) * step, h);
    ctx.lineTo(x0, h);
    ctx.closePath();
    const g = ctx.createLinearGradient(0, 0, 0, h);
    g.addColorStop(0, withAlpha(color, 0.35));
    g.addColorStop(1, withAlpha(color, 0.02));
    ctx.fillStyle = g;
    ctx.fill();
    const lx = x0 + (values.length - 1) * step, ly = y(values[values.length - 1]);
    ctx.fillStyle = color;
    ctx.beginPath(); ctx.arc(Math.min(lx, w - 2), ly, 1.8, 0, Math.PI * 2); ctx.fill();
  }
  function withAlpha(hex, a) {
    const m = /^#([0-9a-f]{6})$/i.exec(hex);
    if (!m) return hex;
    const n = parseInt(m[1], 16);
    return `rgba(${n >> 16},${(n >> 8) & 255},${n & 255},${a})`;
  }

  // ---- rendering: the cluster (cluster mode only: /api/status carries `cluster`) ---------------
  function renderCluster() {
    const c = model.status.cluster;
    const panel = $('cluster-panel');
    panel.hidden = !c;
    if (!c) return;
    $('cluster-name').textContent = c.name || '';
    const badge = $('cluster-state');
    badge.textContent = c.connected ? 'etcd connected' : 'etcd disconnected';
    badge.className = 'badge ' + (c.connected ? 'healthy' : 'unhealthy');
    const reason = $('cluster-reason');
    reason.hidden = c.connected || !c.reason;
    reason.textContent = c.connected ? '' : 'serving with what was last known; changes are refused until etcd is back: ' + (c.reason || '');
    const rows = [];
    for (const i of c.instances || []) {
      const tr = el('tr');
      tr.dataset.instance = i.id;
      tr.append(el('td', i.self ? 'mono self' : 'mono', i.id + (i.self ? ' (this one)' : '')),
        el('td', 'mono dim', i.address || ''), el('td', 'dim', i.version || ''),
        numCell(i.generation, (v) => (isNum(v) ? 'gen ' + v : '–')),
        numCell(i.last_contact_ms, (v) => (isNum(v) ? fmtMs(v) + ' ago' : '–')));
      rows.push(tr);
    }
    if (!rows.length) {
      const tr = el('tr', 'empty');
      const td = el('td', '', 'no instance listed yet');
      td.colSpan = 5;
      tr.append(td);
      rows.push(tr);
    }
    $('cluster-instances').replaceChildren(...rows);
  }

  function render() {
    if (!model.status) return;
    renderHeader();
    renderCluster();
    renderListeners();
    renderPools();
    renderRoutes();
  }

  // ---- events --------------------------------------------------------------------------------
  const events = {
    perKind: new Map(KINDS.map((k) => [k, []])),
    keys: new Set(),         // kind + data of the events held: a replay after a reconnect adds no twins
    counts: new Map(KINDS.map((k) => [k, 0])),
    enabled: new Set(KINDS.filter((k) => !HIDDEN_BY_DEFAULT.has(k))),
    seq: 0,
    paused: false,
    unseen: 0,
    lastRenderedSeq: 0,
  };
  try {
    const saved = JSON.parse(localStorage.getItem('fulcrum.kinds') || 'null');
    if (Array.isArray(saved)) events.enabled = new Set(saved.filter((k) => KINDS.includes(k)));
  } catch (_) { /* storage unavailable: defaults */ }

  const chipEls = new Map();
  function buildChips() {
    const box = $('chips');
    for (const k of KINDS) {
      const b = el('button', 'chip');
      b.type = 'button';
      b.dataset.kind = k;
      b.append(el('span', '', k), el('span', 'n', '0'));
      b.setAttribute('aria-pressed', String(events.enabled.has(k)));
      b.addEventListener('click', () => {
        if (events.enabled.has(k)) events.enabled.delete(k); else events.enabled.add(k);
        b.setAttribute('aria-pressed', String(events.enabled.has(k)));
        try { localStorage.setItem('fulcrum.kinds', JSON.stringify([...events.enabled])); } catch (_) { /* ignore */ }
        if (PER_REQUEST.has(k) && streamKinds() !== currentStreamKinds) connectStream();
        renderEvents(true);
      });
      chipEls.set(k, b);
      box.append(b);
    }
  }

  function onEvent(kind, raw) {
    let data;
    try { data = JSON.parse(raw); } catch (_) { data = { detail: String(raw) }; }
    if (!data || typeof data !== 'object') data = { detail: String(data) };
    const k = typeof data.event === 'string' && data.event ? data.event : kind;
    // A replayed event (the recent ones the stream starts with) happened before this connection:
    // listed, but it changes no badge; one already held (a reconnect replays them again) is dropped.
    const replayed = data.replayed === true;
    delete data.replayed;
    const key = k + '\u0000' + JSON.stringify(data);
    if (replayed && events.keys.has(key)) return;
    if (!events.perKind.has(k)) { events.perKind.set(k, []); events.counts.set(k, 0); }
    const list = events.perKind.get(k);
    list.push({ seq: ++events.seq, kind: k, data, key, replayed });
    events.keys.add(key);
    if (list.length > EVENTS_MAX) for (const old of list.splice(0, list.length - EVENTS_MAX)) events.keys.delete(old.key);
    events.counts.set(k, events.counts.get(k) + 1);
    if (events.enabled.has(k) && events.paused) events.unseen++;

    if (replayed) { scheduleEventRender(); return; }
    // Health changes show at once, before the next poll brings the figures.
    const st = STATE_OF_EVENT[k];
    if (st && data.backend) applyState(data.pool, String(data.backend), st);
    if (k === 'panic' && data.pool) {
      const card = poolCards.get(data.pool);
      if (card) { card.panic.hidden = false; card.root.classList.add('is-panic'); }
    }
    if (k === 'backend_added' || k === 'backend_removed' || k === 'backend_state' || k === 'backend_weight' ||
        k === 'backend_expired' || k === 'panic' || k === 'pool_paused' || k.startsWith('instance_') ||
        k === 'crashloop') poll();
    scheduleEventRender();
  }

  function applyState(poolName, address, state) {
    const until = performance.now() + 3000;
    const pools = (model.status && model.status.pools) || [];
    for (const p of pools) {
      if (poolName && p.name !== poolName) continue;
      for (const b of p.backends || []) {
        if (b.address !== address && b.name !== address) continue;
        model.overrides.set(bkey(p.name, b.address), { state, until });
        const card = poolCards.get(p.name);
        const row = card && card.rows.get(b.address);
        if (row) renderBackend(p.name, b, state, row);
      }
    }
    if (model.status) renderHeader();
  }

  let eventRenderPending = false;
  function scheduleEventRender() {
    if (eventRenderPending) return;
    eventRenderPending = true;
    setTimeout(() => { eventRenderPending = false; renderEvents(false); }, 150);
  }

  function describe(data) {
    const frag = document.createDocumentFragment();
    const skip = new Set(['event', 'time']);
    const lead = [];
    if (data.pool !== undefined) { lead.push(el('b', '', String(data.pool))); skip.add('pool'); }
    if (data.backend !== undefined) { lead.push(el('span', '', String(data.backend))); skip.add('backend'); }
    if (data.listener !== undefined && !lead.length) { lead.push(el('b', '', String(data.listener))); skip.add('listener'); }
    lead.forEach((n, i) => { if (i) frag.append(' '); frag.append(n); });
    const rest = [];
    for (const [key, v] of Object.entries(data)) {
      if (skip.has(key)) continue;
      if (Array.isArray(v) && v.every((x) => x && typeof x === 'object' && x.backend !== undefined)) {
        // monitoring: one "address status" per backend
        rest.push(`${key}=[${v.map((x) => `${x.backend} ${x.status ?? x.state ?? ''}`.trim()).join(', ')}]`);
        continue;
      }
      let s = typeof v === 'string' ? v : JSON.stringify(v);
      if (s && s.length > 160) s = s.slice(0, 157) + '…';
      rest.push(`${key}=${typeof v === 'string' && /\s/.test(v) ? JSON.stringify(s) : s}`);
    }
    if (rest.length) frag.append((lead.length ? ' ' : '') + rest.join(' '));
    return frag;
  }

  function renderEvents(force) {
    for (const [k, b] of chipEls) {
      const n = b.querySelector('.n');
      const t = fmtCount(events.counts.get(k) || 0);
      if (n.textContent !== t) n.textContent = t;
    }
    $('event-count').textContent = events.seq ? fmtCount(events.seq) : '';
    const pause = $('pause');
    pause.textContent = events.paused ? (events.unseen ? `Resume · ${events.unseen} new` : 'Resume') : 'Pause';
    if (events.paused && !force) return;
    // Newest first: merge the enabled kinds' lists, keep EVENTS_MAX.
    let all = [];
    for (const k of events.enabled) { const l = events.perKind.get(k); if (l) all = all.concat(l); }
    // Newest first by the events' own time (a replay after a reconnect may bring older ones late).
    all.sort((a, b) => (a.data.time === b.data.time ? b.seq - a.seq : (a.data.time < b.data.time ? 1 : -1)));
    if (all.length > EVENTS_MAX) all.length = EVENTS_MAX;
    const ol = $('events');
    const items = all.map((e) => {
      const li = el('li');
      li.dataset.kind = e.kind;
      if (e.replayed) { li.classList.add('replayed'); li.title = 'happened before this page opened'; }
      if (e.seq > events.lastRenderedSeq && events.lastRenderedSeq) li.classList.add('new');
      const t = el('time', '', fmtClock(e.data.time));
      if (e.data.time) t.dateTime = String(e.data.time);
      t.title = String(e.data.time || '');
      li.append(t, el('span', 'kind', e.kind), el('span', 'detail'));
      li.lastChild.append(describe(e.data));
      return li;
    });
    if (events.paused) {
      const note = el('li', 'paused-note', 'paused — new events are kept but not shown');
      items.unshift(note);
    }
    if (!all.length) items.push(el('li', 'empty', events.seq ? 'no events of the selected kinds' : 'no events yet: health changes, ejections and panics appear here'));
    ol.replaceChildren(...items);
    events.lastRenderedSeq = events.seq;
  }

  function togglePause() {
    events.paused = !events.paused;
    events.unseen = 0;
    $('pause').setAttribute('aria-pressed', String(events.paused));
    renderEvents(true);
  }

  // ---- the event stream ----------------------------------------------------------------------
  let source = null, retryTimer = 0, currentStreamKinds = '';
  function streamKinds() {
    return KINDS.filter((k) => !PER_REQUEST.has(k) || events.enabled.has(k)).join(',');
  }
  function connectStream() {
    if (typeof EventSource === 'undefined') return;
    if (retryTimer) { clearTimeout(retryTimer); retryTimer = 0; }
    if (source) { source.close(); source = null; streamOk = false; }
    currentStreamKinds = streamKinds();
    const q = new URLSearchParams({ kinds: currentStreamKinds });
    if (token) q.set('token', token);
    const es = new EventSource('api/events?' + q.toString().replace(/%2C/g, ','));
    source = es;
    es.onopen = () => { if (source === es) { streamOk = true; updateLink(); } };
    es.onerror = () => {
      if (source !== es) return;
      streamOk = false;
      updateLink();
      // EventSource retries by itself unless the server answered with an error: then we do.
      if (es.readyState === EventSource.CLOSED && !retryTimer) {
        retryTimer = setTimeout(() => { retryTimer = 0; connectStream(); }, 3000);
      }
    };
    const handler = (e) => { if (source === es) onEvent(e.type, e.data); };
    for (const k of KINDS) es.addEventListener(k, handler);
    es.addEventListener('message', handler);
  }

  // ---- start ---------------------------------------------------------------------------------
  buildChips();
  $('pause').addEventListener('click', togglePause);
  renderEvents(true);
  updateLink();
  poll();
  setInterval(poll, POLL_MS);
  setInterval(() => { if (model.status) tickUptime(); }, 1000);
  connectStream();
  window.addEventListener('resize', () => render());
})();
