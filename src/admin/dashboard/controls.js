// Fulcrum dashboard: the write controls (per backend drain, maint, ready, weight, remove; per pool
// an "add backend" form). app.js draws the page and calls in here; the controls exist only while
// /api/status says `"writable": true` (a token is configured and this page sent it in the
// Authorization header, which is also how every write here sends it: never in the URL). Each write
// answers with an error text ({"error": "..."}) that is shown on the pool's card, or the page
// polls at once so the change shows (the backend_* events poll too).
'use strict';

window.FulcrumControls = ({ token, el, refresh }) => {
  const WRITE_TIMEOUT_MS = 5000;
  const ADMIN_STATES = ['ready', 'drain', 'maint'];
  const ADMIN_TITLES = {
    ready: 'back in rotation',
    drain: 'no new requests or connections; those in flight finish',
    maint: 'out of rotation for maintenance; those in flight finish',
  };
  const CONFIRM_MS = 3000;  // a second click on "remove" within this confirms it
  let writable = false;

  const backendPath = (pool, key) =>
    `api/pools/${encodeURIComponent(pool)}/backends` + (key === undefined ? '' : '/' + encodeURIComponent(key));

  // One write; resolves with the backend JSON, rejects with the API's own error text.
  async function write(method, path, body) {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), WRITE_TIMEOUT_MS);
    try {
      const init = { method, headers: { Authorization: 'Bearer ' + token }, cache: 'no-store', signal: ctl.signal };
      if (body !== undefined) {
        init.headers['Content-Type'] = 'application/json';
        init.body = JSON.stringify(body);
      }
      let r;
      try {
        r = await fetch(path, init);
      } catch (e) {
        throw new Error(e && e.name === 'AbortError' ? `no answer within ${WRITE_TIMEOUT_MS / 1000} s` : 'the admin API cannot be reached');
      }
      let doc = null;
      try { doc = await r.json(); } catch (_) { /* not JSON: the status says it */ }
      if (!r.ok) throw new Error(`${r.status}: ${doc && typeof doc.error === 'string' ? doc.error : r.statusText || 'error'}`);
      return doc;
    } finally {
      clearTimeout(timer);
    }
  }

  // Runs a write for `card`: the card's error line shows its failure, or clears on success; the
  // page then polls so that the change shows.
  async function run(card, label, method, path, body) {
    const c = card.controls;
    c.busy++;
    c.root.classList.add('busy');
    try {
      await write(method, path, body);
      showError(card, '');
      return true;
    } catch (e) {
      showError(card, `${label}: ${e.message}`);
      return false;
    } finally {
      if (--c.busy === 0) c.root.classList.remove('busy');
      refresh();
    }
  }

  function showError(card, text) {
    const line = card.controls.error;
    line.hidden = !text;
    line.querySelector('.text').textContent = text;
  }

  // ---- per pool: the add form, the error line, the column head -------------------------------
  function buildPool(card, poolName) {
    const root = el('div', 'pool-controls');
    const error = el('div', 'write-error');
    error.setAttribute('role', 'alert');
    error.hidden = true;
    const dismiss = el('button', 'btn small', '×');
    dismiss.type = 'button';
    dismiss.title = 'dismiss';
    dismiss.addEventListener('click', () => { error.hidden = true; });
    error.append(el('span', 'text'), dismiss);

    const form = el('form', 'add-backend');
    form.noValidate = true; // the API says what is wrong, in the same words as the CLI and config
    const field = (name, label, attrs) => {
      const input = el('input');
      input.name = name;
      Object.assign(input, attrs);
      const l = el('label', '', label);
      l.append(input);
      return l;
    };
    form.append(el('span', 'form-title', 'add backend'),
      field('address', 'address', { placeholder: '127.0.0.1:9003', autocomplete: 'off', spellcheck: false }),
      field('weight', 'weight', { type: 'number', min: 1, max: 1000000, step: 1, placeholder: '1' }),
      field('name', 'name', { placeholder: 'optional', autocomplete: 'off', spellcheck: false }));
    const submit = el('button', 'btn', 'add');
    submit.type = 'submit';
    form.append(submit);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const body = { address: form.elements.address.value.trim() };
      const weight = form.elements.weight.value.trim();
      if (weight !== '') body.weight = /^\d+$/.test(weight) ? Number(weight) : weight;
      const name = form.elements.name.value.trim();
      if (name) body.name = name;
      if (await run(card, `add ${body.address || '(no address)'}`, 'POST', backendPath(poolName), body)) form.reset();
    });
    root.append(error, form);
    card.root.append(root);

    const th = el('th', 'controls-head', 'admin');
    card.root.querySelector('thead tr').append(th);
    card.root.classList.add('writable');
    card.controls = { root, error, form, th, busy: 0 };
  }

  function renderPool(card, poolName) {
    if (writable && !card.controls) buildPool(card, poolName);
    if (!writable && card.controls) {
      card.controls.root.remove();
      card.controls.th.remove();
      card.root.classList.remove('writable');
      card.controls = null;
    }
  }

  // ---- per backend: admin state buttons, weight, remove ---------------------------------------
  function buildBackend(card, poolName, row) {
    const td = el('td', 'controls');
    const key = () => row.key;  // name or address, as it is now
    const states = el('span', 'states');
    const buttons = {};
    for (const s of ADMIN_STATES) {
      const b = el('button', 'btn small', s);
      b.type = 'button';
      b.dataset.action = s;
      b.title = ADMIN_TITLES[s];
      b.addEventListener('click', () => run(card, `${s} ${key()}`, 'PATCH', backendPath(poolName, key()), { state: s }));
      buttons[s] = b;
      states.append(b);
    }
    const weightForm = el('form', 'weight-form');
    weightForm.noValidate = true;
    const weight = el('input');
    weight.type = 'number';
    weight.name = 'weight';
    weight.min = 1; weight.max = 1000000; weight.step = 1;
    weight.title = 'weight (Enter or set to apply)';
    weight.addEventListener('input', () => { weight.dataset.dirty = '1'; });
    const set = el('button', 'btn small', 'set');
    set.type = 'submit';
    set.dataset.action = 'weight';
    weightForm.append(weight, set);
    weightForm.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const v = weight.value.trim();
      const body = { weight: /^\d+$/.test(v) ? Number(v) : v };
      if (await run(card, `weight ${key()}`, 'PATCH', backendPath(poolName, key()), body)) delete weight.dataset.dirty;
    });
    const remove = el('button', 'btn small danger', '✕');
    remove.type = 'button';
    remove.title = 'remove from the pool (click twice): it drains, then leaves once idle';
    remove.dataset.action = 'remove';
    let armed = 0;
    remove.addEventListener('click', () => {
      // Two clicks: the first asks, the second (within CONFIRM_MS) removes.
      if (!armed) {
        remove.textContent = 'remove?';
        remove.classList.add('armed');
        armed = setTimeout(() => { armed = 0; remove.textContent = '✕'; remove.classList.remove('armed'); }, CONFIRM_MS);
        return;
      }
      clearTimeout(armed);
      armed = 0;
      remove.textContent = '✕';
      remove.classList.remove('armed');
      run(card, `remove ${key()}`, 'DELETE', backendPath(poolName, key()));
    });
    td.append(states, weightForm, remove);
    row.tr.append(td);
    row.controls = { td, buttons, weight };
  }

  function renderBackend(card, poolName, b, row) {
    row.key = b.name || b.address;
    if (writable && card.controls && !row.controls) buildBackend(card, poolName, row);
    if (!writable && row.controls) { row.controls.td.remove(); row.controls = null; }
    if (!row.controls) return;
    const current = ADMIN_STATES.includes(b.admin_state) ? b.admin_state : 'ready';
    for (const [s, button] of Object.entries(row.controls.buttons)) {
      button.classList.toggle('on', s === current);
      button.setAttribute('aria-pressed', String(s === current));
    }
    // The figure follows the balancer unless the user is typing one.
    const w = row.controls.weight;
    if (!w.dataset.dirty && document.activeElement !== w && w.value !== String(b.weight)) w.value = String(b.weight);
  }

  return {
    setWritable(value) { writable = !!value && !!token; },
    get writable() { return writable; },
    renderPool,
    renderBackend,
  };
};
