/* hijackd admin dashboard: plain JavaScript, no framework, no build step.
 *
 * Talks to the daemon's JSON API on the same origin (relative URLs "api/...", so the dashboard
 * also works behind a reverse proxy under a sub-path). The API token is kept in sessionStorage.
 * Every piece of data is inserted as text (textContent / text nodes / attribute values), never
 * as HTML. Refreshes every 10 s.
 */
'use strict';

(() => {
  const REFRESH_MS = 10000;
  const REQUEST_TIMEOUT_MS = 10000;
  const TOKEN_KEY = 'hijackd.token';
  const HISTORY_DAYS = 90;
  const ACTIONS = ['warn', 'throttle', 'lock', 'unlock', 'relay'];
  // Decision fields shown in the summary row rather than in the evidence.
  const SUMMARY_FIELDS = new Set(['ts', 'account', 'action', 'rule']);

  const S = {
    token: null,
    role: null,
    timer: null,
    busy: false,
    again: false,
    account: null, // account shown in the panel
    expanded: new Set(), // keys of decisions whose evidence is open
    chart: null, // what the chart shows, to redraw on hover and resize
    bannerKind: null,
    queueResultFor: null, // the account whose release or deletion the result line reports
  };

  /* ---------- DOM helpers ---------- */

  const $ = (sel, root = document) => root.querySelector(sel);

  // el('td', {class: 'x', dataset: {account: a}, onclick: f}, child, 'text', [more]) builds an
  // element; strings become text nodes, so nothing is ever parsed as HTML.
  function el(tag, props, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'dataset') Object.assign(e.dataset, v);
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    append(e, children);
    return e;
  }

  function append(parent, children) {
    for (const c of children.flat(Infinity)) {
      if (c === null || c === undefined || c === false) continue;
      parent.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return parent;
  }

  function setChildren(parent, ...children) {
    parent.replaceChildren();
    return append(parent, children);
  }

  const isAdmin = () => S.role === 'admin';
  const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
  const arr = (v) => (Array.isArray(v) ? v : []);
  const isNum = (v) => typeof v === 'number' && Number.isFinite(v);

  /* ---------- formatting ---------- */

  function fmtDuration(sec) {
    sec = Math.max(0, Math.floor(sec));
    if (sec < 60) return `${sec} s`;
    const m = Math.floor(sec / 60);
    if (m < 60) return `${m} min`;
    const h = Math.floor(m / 60);
    if (h < 24) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
    const d = Math.floor(h / 24);
    return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
  }

  function fmtWindow(sec) {
    if (!isNum(sec)) return '';
    if (sec > 0 && sec % 86400 === 0) return `${sec / 86400} d`;
    if (sec > 0 && sec % 3600 === 0) return `${sec / 3600} h`;
    if (sec > 0 && sec % 60 === 0) return `${sec / 60} min`;
    return `${sec} s`;
  }

  const fmtInt = (n) => (isNum(n) ? n.toLocaleString('en-US') : '—');

  // An RFC 3339 time as the wall clock it carries (the server's), "2026-11-04 17:55:53".
  function wallClock(ts) {
    const m = /^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d(?::\d\d)?)/.exec(String(ts));
    return m ? `${m[1]} ${m[2]}` : String(ts);
  }

  function ago(ts) {
    const t = Date.parse(ts);
    if (Number.isNaN(t)) return '';
    const d = (Date.now() - t) / 1000;
    return d >= 0 ? `${fmtDuration(d)} ago` : `in ${fmtDuration(-d)}`;
  }

  function timeEl(ts, withAgo) {
    if (!ts) return el('span', { class: 'muted' }, '—');
    const t = el('time', { datetime: ts, title: ts }, wallClock(ts));
    if (!withAgo) return t;
    const a = ago(ts);
    return [t, a ? el('span', { class: 'ago' }, a) : null];
  }

  // RFC 3339 in the form the API itself uses: 2026-11-25T06:00:00+00:00.
  function rfc3339(ms) {
    return new Date(ms).toISOString().replace(/\.\d+Z$/, '+00:00');
  }

  // Offset in ms of an RFC 3339 time ("+01:00" -> 3600000), 0 if none.
  function offsetOf(ts) {
    const m = /([+-])(\d\d):?(\d\d)$/.exec(String(ts));
    if (!m) return 0;
    return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) * 60000;
  }

  function actionBadge(action) {
    const a = String(action || '');
    return el('span', { class: `badge a-${ACTIONS.includes(a) ? a : 'other'}` }, a || '?');
  }

  function stateBadge(state) {
    const s = String(state || '');
    const known = ['ok', 'throttled', 'locked', 'held'].includes(s) ? s : 'other';
    return el('span', { class: `state s-${known}`, dataset: { state: s } }, s || '?');
  }

  // An account name that opens the account panel; it may wrap after the "@".
  function accountLink(name) {
    const at = name.lastIndexOf('@');
    return el('a', {
      href: `#account=${encodeURIComponent(name)}`,
      class: 'account-link',
      dataset: { account: name },
      title: `Show ${name}`,
    }, at > 0 ? [name.slice(0, at), el('wbr'), name.slice(at)] : name);
  }

  // "121 / 120" over "recipients per 1 h"
  function evidence(x) {
    if (!isNum(x.count) && !isNum(x.limit)) return el('span', { class: 'muted' }, '—');
    const what = [x.metric ? String(x.metric) : '', isNum(x.window) ? `per ${fmtWindow(x.window)}` : '']
      .filter(Boolean).join(' ');
    return el('span', { class: 'evidence', title: 'count / limit per window' },
      el('strong', null, fmtInt(x.count)), ' / ', fmtInt(x.limit),
      what ? el('span', { class: 'per' }, what) : null);
  }

  function ipList(ips) {
    const list = arr(ips);
    if (!list.length) return el('span', { class: 'muted' }, '—');
    return el('span', { class: 'ips mono' }, list.map((ip, i) => [i ? ', ' : '', String(ip)]));
  }

  function ruleCell(rule, reason) {
    return [
      rule ? el('span', { class: 'mono nowrap' }, String(rule)) : el('span', { class: 'muted' }, '—'),
      reason ? el('div', { class: 'reason' }, String(reason)) : null,
    ];
  }

  // A decision field's value as text.
  function fieldText(v) {
    if (v === null || v === undefined) return '—';
    if (typeof v === 'boolean') return v ? 'yes' : 'no';
    if (Array.isArray(v)) return v.map(fieldText).join(', ');
    if (isObj(v)) {
      return Object.entries(v)
        .map(([k, x]) => (isNum(x) ? `${k} ${x >= 0 ? '+' : ''}${x}` : `${k} ${fieldText(x)}`))
        .join(', ');
    }
    return String(v);
  }

  /* ---------- API ---------- */

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  async function api(path, opts = {}) {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), REQUEST_TIMEOUT_MS);
    const init = {
      method: opts.method || 'GET',
      headers: { Authorization: `Bearer ${opts.token || S.token}`, Accept: 'application/json' },
      cache: 'no-store',
      signal: ctl.signal,
    };
    if (opts.body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(opts.body);
    }
    let res;
    let data = null;
    try {
      res = await fetch(path, init);
      try {
        data = await res.json();
      } catch {
        data = null;
      }
    } catch (e) {
      throw new ApiError(0, e.name === 'AbortError' ? 'the server did not answer in time'
        : 'cannot reach the server');
    } finally {
      clearTimeout(timer);
    }
    if (!res.ok) {
      const msg = isObj(data) && typeof data.error === 'string' ? data.error
        : `${res.status} ${res.statusText}`.trim();
      throw new ApiError(res.status, msg);
    }
    if (!isObj(data)) throw new ApiError(res.status, 'the server did not send a JSON object');
    return data;
  }

  const post = (path, body) => api(path, { method: 'POST', body });

  /* ---------- banner ---------- */

  let bannerTimer = null;

  function banner(kind, text) {
    const b = $('#banner');
    clearTimeout(bannerTimer);
    S.bannerKind = kind;
    b.className = `banner ${kind === 'ok' ? 'ok' : 'bad'}`;
    b.textContent = text;
    b.hidden = false;
    if (kind === 'ok') bannerTimer = setTimeout(() => clearBanner('ok'), 5000);
  }

  function clearBanner(kind) {
    if (kind && S.bannerKind !== kind) return;
    $('#banner').hidden = true;
    S.bannerKind = null;
  }

  /* ---------- login / logout ---------- */

  function showLogin(error, token) {
    stopTimer();
    $('#dashboard').hidden = true;
    $('#session').hidden = true;
    $('#login-box').hidden = false;
    const err = $('#login-error');
    err.textContent = error || '';
    err.hidden = !error;
    const input = $('#token');
    input.value = token || '';
    input.setAttribute('aria-invalid', error ? 'true' : 'false');
    input.focus();
  }

  function showDashboard() {
    $('#login-box').hidden = true;
    $('#dashboard').hidden = false;
    $('#session').hidden = false;
    $('#token').value = '';
    startTimer();
  }

  async function login(token, fromStorage) {
    let status;
    try {
      status = await api('api/status', { token });
    } catch (e) {
      if (e.status === 401) {
        sessionStorage.removeItem(TOKEN_KEY);
        showLogin(fromStorage ? 'The saved token is no longer accepted. Sign in again.'
          : 'Wrong token: the server refused it.');
      } else {
        showLogin(`Cannot sign in: ${e.message}.`, token);
      }
      return false;
    }
    S.token = token;
    sessionStorage.setItem(TOKEN_KEY, token);
    renderStatus(status);
    showDashboard();
    clearBanner();
    await refresh();
    const name = accountFromHash();
    if (name) openAccount(name, false);
    return true;
  }

  function logout(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    S.token = null;
    S.role = null;
    S.account = null;
    S.expanded.clear();
    S.chart = null;
    // Drop the data from the page, not just hide it.
    for (const id of ['locked', 'top', 'decisions', 'account-decisions', 'account-history']) {
      $(`#${id} tbody`).replaceChildren();
    }
    $('#exempt').replaceChildren();
    $('#status').replaceChildren();
    $('#account-panel').hidden = true;
    if (location.hash) history.replaceState(null, '', location.pathname + location.search);
    clearBanner();
    showLogin(message || '');
  }

  /* ---------- refresh ---------- */

  function startTimer() {
    stopTimer();
    S.timer = setInterval(() => {
      if (!document.hidden) refresh();
    }, REFRESH_MS);
  }

  function stopTimer() {
    if (S.timer) clearInterval(S.timer);
    S.timer = null;
  }

  async function refresh() {
    if (!S.token) return;
    if (S.busy) {
      S.again = true;
      return;
    }
    S.busy = true;
    try {
      const jobs = [
        api('api/status').then(renderStatus),
        api('api/locked').then(renderLocked),
        api('api/top?window=3600').then(renderTop),
        api('api/decisions?limit=50').then(renderDecisions),
        api('api/exempt').then(renderExempt),
      ];
      if (S.account) jobs.push(loadAccount(S.account));
      const results = await Promise.allSettled(jobs);
      if (!S.token) return; // logged out meanwhile
      const errors = results.filter((r) => r.status === 'rejected').map((r) => r.reason);
      if (errors.some((e) => e && e.status === 401)) {
        logout('The token is no longer accepted. Sign in again.');
        return;
      }
      if (errors.length) {
        const e = errors[0];
        banner('refresh', `Could not refresh: ${e && e.message ? e.message : e}. Retrying every 10 s.`);
        console.warn('hijackd refresh:', e);
      } else {
        clearBanner('refresh');
        setChildren($('#updated'), 'updated ', new Date().toLocaleTimeString());
      }
    } finally {
      S.busy = false;
      if (S.again) {
        S.again = false;
        refresh();
      }
    }
  }

  /* ---------- sections ---------- */

  function renderStatus(st) {
    S.role = st.role === 'admin' ? 'admin' : 'read';
    document.body.classList.toggle('role-read', !isAdmin());
    document.body.classList.toggle('role-admin', isAdmin());
    const role = $('#role');
    role.textContent = isAdmin() ? 'admin' : 'read-only';
    role.className = `badge ${isAdmin() ? 'role-admin' : 'role-read'}`;

    const listeners = isObj(st.listeners)
      ? Object.entries(st.listeners).map(([k, v]) => `${k} ${v}`).join(', ') : '';
    const item = (label, value, cls) => el('span', { class: `item ${cls || ''}` },
      label ? el('span', { class: 'label' }, label) : null, value);
    const locked = isNum(st.locked) ? st.locked : 0;
    const throttled = isNum(st.throttled) ? st.throttled : 0;
    setChildren($('#status'),
      item('', `v${st.version || '?'}`, 'version'),
      item('up ', isNum(st.uptime) ? fmtDuration(st.uptime) : '?'),
      item('store ', el('span', { class: 'mono' }, String(st.store || '?'))),
      item('', `${fmtInt(st.accounts)} accounts`),
      item('', `${locked} locked`, locked ? 'alert' : ''),
      item('', `${throttled} throttled`, throttled ? 'warn' : ''));
    $('#status').title = [st.started ? `started ${st.started}` : '', listeners].filter(Boolean)
      .join('; ');
    return st;
  }

  function renderLocked(data) {
    const rows = arr(data.locked).filter((r) => isObj(r) && r.account);
    setChildren($('#locked tbody'), rows.map((r) => el('tr', { dataset: { account: r.account } },
      el('td', null, accountLink(r.account)),
      el('td', { class: 'when' }, timeEl(r.since, true),
        r.until ? el('div', { class: 'muted small' }, 'until ', timeEl(r.until)) : null),
      el('td', null, ruleCell(r.rule, r.reason)),
      el('td', null, evidence(r)),
      el('td', null, ipList(r.client_ips)),
      isAdmin() ? el('td', { class: 'actions' }, el('button', {
        type: 'button',
        class: 'unlock',
        'data-testid': 'unlock',
        onclick: () => askUnlock(r.account),
      }, 'Unlock')) : null)));
    $('#locked').hidden = rows.length === 0;
    $('#locked-empty').hidden = rows.length > 0;
    $('#locked-count').textContent = rows.length ? String(rows.length) : '';
  }

  function renderTop(data) {
    const rows = arr(data.top).filter((r) => isObj(r) && r.account);
    setChildren($('#top tbody'), rows.map((r) => el('tr', { dataset: { account: r.account } },
      el('td', null, accountLink(r.account)),
      el('td', { class: 'num' }, fmtInt(r.messages)),
      el('td', { class: 'num' }, fmtInt(r.recipients)),
      el('td', null, stateBadge(r.state)))));
    $('#top').hidden = rows.length === 0;
    $('#top-empty').hidden = rows.length > 0;
  }

  function renderExempt(data) {
    const list = arr(data.exempt).map(String);
    setChildren($('#exempt'), list.length ? list.map((p) => el('li', { class: 'chip', dataset: { pattern: p } },
      el('span', { class: 'mono' }, p),
      isAdmin() ? el('button', {
        type: 'button',
        class: 'plain del',
        title: `Remove ${p}`,
        'aria-label': `Remove ${p}`,
        onclick: () => askExemptDel(p),
      }, '\u2715') : null)) : el('li', { class: 'muted' }, 'none'));
  }

  function renderDecisions(data) {
    const list = arr(data.decisions).filter(isObj);
    fillDecisions($('#decisions'), list, true, 'all');
    $('#decisions').hidden = list.length === 0;
    $('#decisions-empty').hidden = list.length > 0;
  }

  // Decision rows: a summary row and, under it, a row with the rest of the fields.
  function fillDecisions(table, list, withAccount, prefix) {
    const cols = withAccount ? 7 : 6;
    const rows = [];
    const seen = new Map();
    for (const d of list) {
      let key = `${prefix}|${d.ts}|${d.account}|${d.action}|${d.rule}`;
      const n = (seen.get(key) || 0) + 1;
      seen.set(key, n);
      if (n > 1) key += `|${n}`;
      const open = S.expanded.has(key);
      const isAccount = d.account && (!d.scope || d.scope === 'account');
      const detail = el('tr', { class: 'evidence-row', hidden: !open },
        el('td', { colspan: cols }, evidenceList(d)));
      const toggle = el('button', {
        type: 'button',
        class: 'plain expand',
        'aria-expanded': open ? 'true' : 'false',
        title: 'Show the evidence',
        'aria-label': 'Show the evidence',
      }, open ? '\u25BE' : '\u25B8');
      const main = el('tr', {
        class: 'decision',
        dataset: { key, action: String(d.action || ''), account: String(d.account || '') },
      },
      el('td', { class: 'toggle' }, toggle),
      el('td', { class: 'when' }, timeEl(d.ts)),
      withAccount ? el('td', null, isAccount ? accountLink(d.account)
        : el('span', { class: 'mono' }, d.account ? String(d.account) : `(${d.scope || 'global'})`)) : null,
      el('td', null, actionBadge(d.action)),
      el('td', null, ruleCell(d.rule, d.reason)),
      el('td', null, evidence(d)),
      el('td', { class: 'mono nowrap', title: d.client_name ? String(d.client_name) : null },
        d.client_ip ? String(d.client_ip) : ''));
      main.addEventListener('click', (ev) => {
        if (ev.target.closest('a') || (ev.target.closest('button') && ev.target.closest('button') !== toggle)) return;
        const nowOpen = detail.hidden;
        detail.hidden = !nowOpen;
        toggle.textContent = nowOpen ? '\u25BE' : '\u25B8';
        toggle.setAttribute('aria-expanded', nowOpen ? 'true' : 'false');
        if (nowOpen) S.expanded.add(key);
        else S.expanded.delete(key);
      });
      rows.push(main, detail);
    }
    setChildren(table.tBodies[0], rows);
  }

  function evidenceList(d) {
    const entries = Object.entries(d).filter(([k]) => !SUMMARY_FIELDS.has(k));
    if (!entries.length) return el('span', { class: 'muted' }, 'no further evidence');
    return el('dl', { class: 'kv' }, entries.map(([k, v]) => [
      el('dt', null, k),
      el('dd', { class: typeof v === 'string' || Array.isArray(v) ? 'mono' : '' }, fieldText(v)),
    ]));
  }

  /* ---------- account panel ---------- */

  function accountFromHash() {
    const m = /^#account=(.*)$/.exec(location.hash);
    if (!m) return null;
    try {
      return decodeURIComponent(m[1]) || null;
    } catch {
      return null;
    }
  }

  async function openAccount(name, push) {
    const panel = $('#account-panel');
    const changed = S.account !== name;
    S.account = name;
    if (push) {
      const hash = `#account=${encodeURIComponent(name)}`;
      if (location.hash !== hash) history.pushState(null, '', hash);
    }
    $('#account-name').textContent = name;
    if (changed) {
      $('#account-state').replaceChildren();
      $('#account-facts').replaceChildren();
      $('#account-decisions tbody').replaceChildren();
      $('#account-history tbody').replaceChildren();
      $('#account-action').hidden = true;
      $('#account-error').hidden = true;
      S.chart = null;
      drawChart();
    }
    panel.hidden = false;
    panel.scrollIntoView({ block: 'start', behavior: 'smooth' });
    try {
      await loadAccount(name);
    } catch (e) {
      if (e.status === 401) logout('The token is no longer accepted. Sign in again.');
    }
  }

  function closeAccount(push) {
    S.account = null;
    S.chart = null;
    $('#account-panel').hidden = true;
    if (push && location.hash) history.pushState(null, '', location.pathname + location.search);
  }

  // Loads and shows the account; rejects only on 401 or when the server cannot be reached, so
  // refresh() reports those; other errors are shown in the panel.
  async function loadAccount(name) {
    const enc = encodeURIComponent(name);
    const since = rfc3339(Date.now() - HISTORY_DAYS * 86400000);
    let acc;
    let hist = null;
    try {
      [acc, hist] = await Promise.all([
        api(`api/account/${enc}`),
        api(`api/history?account=${enc}&since=${encodeURIComponent(since)}`).catch((e) => {
          if (e.status === 401) throw e;
          return { error: e.message };
        }),
      ]);
    } catch (e) {
      if (S.account !== name) return;
      if (e.status === 401 || e.status === 0) throw e;
      const err = $('#account-error');
      err.textContent = e.status === 404 ? `hijackd knows no account ${name}.` : `Cannot load ${name}: ${e.message}`;
      err.hidden = false;
      $('#account-state').replaceChildren();
      $('#account-action').hidden = true;
      return;
    }
    if (S.account !== name) return; // another account was opened meanwhile
    $('#account-error').hidden = true;
    renderAccount(acc, hist);
  }

  function renderAccount(acc, hist) {
    const name = String(acc.account || S.account);
    $('#account-name').textContent = name;
    setChildren($('#account-state'), stateBadge(acc.state));
    $('#account-panel').dataset.state = String(acc.state || '');

    const btn = $('#account-action');
    if (isAdmin()) {
      const locked = acc.state === 'locked';
      btn.textContent = locked ? 'Unlock\u2026' : 'Lock\u2026';
      btn.className = `admin-only ${locked ? 'unlock' : 'danger'}`;
      btn.onclick = () => (locked ? askUnlock(name) : askLock(name));
      btn.hidden = false;
    } else {
      btn.hidden = true;
    }
    // held mail: release it or delete it (POST /api/queue; the worker does it afterwards)
    const held = isAdmin() && acc.state === 'held';
    for (const [id, op] of [['#account-release', 'release'], ['#account-purge', 'purge']]) {
      const b = $(id);
      b.hidden = !held;
      b.onclick = held ? () => askQueue(name, op) : null;
    }
    if (S.queueResultFor !== name) $('#account-queue-result').hidden = true;

    const facts = [];
    const fact = (label, ...value) => facts.push(el('dt', null, label), el('dd', null, value));
    if (isObj(acc.lock)) {
      const l = acc.lock;
      fact('Locked', timeEl(l.since, true), l.until ? [' until ', timeEl(l.until)] : ' until unlocked');
      fact('Lock rule', ruleCell(l.rule, l.reason));
    }
    if (isObj(acc.hold)) {
      const h = acc.hold;
      fact('Held', timeEl(h.since, true), h.until ? [' until ', timeEl(h.until)] : null);
      fact('Hold rule', ruleCell(h.rule, h.reason));
    }
    if (isObj(acc.throttle)) {
      const t = acc.throttle;
      fact('Throttled', timeEl(t.since, true), t.until ? [' until ', timeEl(t.until)] : null);
      fact('Throttle rule', ruleCell(t.rule, t.reason));
    }
    fact('Recent IPs', ipList(acc.recent_ips));
    setChildren($('#account-facts'), facts);

    const decisions = arr(acc.decisions).filter(isObj);
    S.chart = { hourly: isObj(acc.hourly) ? acc.hourly : null, decisions, hover: -1 };
    drawChart();

    fillDecisions($('#account-decisions'), decisions, false, `acct:${name}`);
    $('#account-decisions').hidden = decisions.length === 0;
    $('#account-decisions-empty').hidden = decisions.length > 0;

    const hrows = hist && Array.isArray(hist.history) ? hist.history.filter(isObj) : [];
    setChildren($('#account-history tbody'), hrows.map((h) => el('tr', null,
      el('td', { class: 'when' }, timeEl(h.ts)),
      el('td', null, actionBadge(h.action)),
      el('td', null, String(h.actor || '')),
      el('td', null, ruleCell(h.rule, h.reason)))));
    $('#account-history').hidden = hrows.length === 0;
    const hempty = $('#account-history-empty');
    hempty.textContent = hist && hist.error ? `History unavailable: ${hist.error}` : 'No lock or unlock recorded.';
    hempty.hidden = hrows.length > 0;
  }

  /* ---------- chart ---------- */

  const CHART_H = 220;
  const PAD = { l: 46, r: 12, t: 34, b: 28 };
  const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

  function cssVar(name, fallback) {
    const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return v || fallback;
  }

  function niceStep(x) {
    if (x <= 1) return 1;
    const mag = 10 ** Math.floor(Math.log10(x));
    const f = x / mag;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * mag;
  }

  // The chart's geometry and data, shared by drawing and hit-testing.
  function chartModel(canvas) {
    const c = S.chart;
    const hourly = c && c.hourly;
    const values = hourly ? arr(hourly.recipients).map((v) => (isNum(v) && v > 0 ? v : 0)) : [];
    const start = hourly ? Date.parse(hourly.start) : NaN;
    const step = (hourly && isNum(hourly.step) && hourly.step > 0 ? hourly.step : 3600) * 1000;
    const width = canvas.clientWidth || 600;
    const n = values.length;
    const plotW = Math.max(10, width - PAD.l - PAD.r);
    const plotH = CHART_H - PAD.t - PAD.b;
    const tick = niceStep(Math.max(1, ...values) / 4);
    const max = Math.max(tick, Math.ceil(Math.max(1, ...values) / tick) * tick);
    const markers = [];
    if (n && !Number.isNaN(start)) {
      for (const d of (c ? c.decisions : [])) {
        const t = Date.parse(d.ts);
        if (Number.isNaN(t)) continue;
        const i = Math.floor((t - start) / step);
        if (i >= 0 && i < n) markers.push({ i, d });
      }
    }
    markers.sort((a, b) => Date.parse(a.d.ts) - Date.parse(b.d.ts));
    return {
      values, start, step, n, width, plotW, plotH, tick, max, markers,
      offset: hourly ? offsetOf(hourly.start) : 0,
      bw: n ? plotW / n : 0,
    };
  }

  // Wall clock (in the offset of hourly.start) of bucket i, as a UTC Date to read fields from.
  const bucketWall = (m, i) => new Date(m.start + i * m.step + m.offset);

  function drawChart() {
    const canvas = $('#account-chart');
    const m = chartModel(canvas);
    const dpr = window.devicePixelRatio || 1;
    canvas.width = Math.round(m.width * dpr);
    canvas.height = Math.round(CHART_H * dpr);
    const ctx = canvas.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, m.width, CHART_H);
    const ink = cssVar('--muted', '#6b7280');
    const grid = cssVar('--grid', '#e5e7eb');
    ctx.font = '11px system-ui, sans-serif';
    ctx.textBaseline = 'middle';

    if (!m.n || Number.isNaN(m.start)) {
      ctx.fillStyle = ink;
      ctx.textAlign = 'center';
      ctx.fillText(S.chart ? 'No hourly data' : 'Loading\u2026', m.width / 2, CHART_H / 2);
      canvas.dataset.drawn = S.chart ? '1' : '0';
      canvas.dataset.bars = '0';
      canvas.dataset.markers = '0';
      $('#chart-range').textContent = '';
      setChildren($('#chart-legend'));
      return;
    }

    const y = (v) => PAD.t + m.plotH - (v / m.max) * m.plotH;
    // Horizontal grid and y labels.
    ctx.textAlign = 'right';
    for (let v = 0; v <= m.max + 1e-9; v += m.tick) {
      const yy = Math.round(y(v)) + 0.5;
      ctx.strokeStyle = grid;
      ctx.lineWidth = 1;
      ctx.beginPath();
      ctx.moveTo(PAD.l, yy);
      ctx.lineTo(PAD.l + m.plotW, yy);
      ctx.stroke();
      ctx.fillStyle = ink;
      ctx.fillText(Number.isInteger(v) ? String(v) : v.toFixed(1), PAD.l - 6, yy);
    }
    // Day boundaries (midnight, server time) and their labels.
    ctx.textAlign = 'left';
    let lastLabelEnd = -Infinity;
    for (let i = 0; i < m.n; i++) {
      const w = bucketWall(m, i);
      if (w.getUTCHours() !== 0 && i !== 0) continue;
      const x = Math.round(PAD.l + i * m.bw) + 0.5;
      if (w.getUTCHours() === 0) {
        ctx.strokeStyle = grid;
        ctx.beginPath();
        ctx.moveTo(x, PAD.t);
        ctx.lineTo(x, PAD.t + m.plotH + 6);
        ctx.stroke();
      }
      const label = `${WEEKDAYS[w.getUTCDay()]} ${w.getUTCDate()}`;
      const lw = ctx.measureText(label).width;
      const lx = Math.min(x + 3, m.width - lw - 2); // the last day's label may shift left
      if (lx - lastLabelEnd > 10) {
        ctx.fillStyle = ink;
        ctx.fillText(label, lx, PAD.t + m.plotH + 16);
        lastLabelEnd = lx + lw;
      }
    }
    // Bars.
    const gap = m.bw > 3 ? 1 : 0;
    const bar = cssVar('--bar', '#3b82f6');
    const barHover = cssVar('--bar-hover', '#1d4ed8');
    for (let i = 0; i < m.n; i++) {
      const v = m.values[i];
      if (!v) continue;
      const x0 = PAD.l + i * m.bw;
      const h = Math.max(1, (v / m.max) * m.plotH);
      ctx.fillStyle = i === S.chart.hover ? barHover : bar;
      ctx.fillRect(x0 + gap / 2, PAD.t + m.plotH - h, Math.max(1, m.bw - gap), h);
    }
    // Axis line.
    ctx.strokeStyle = ink;
    ctx.beginPath();
    ctx.moveTo(PAD.l, Math.round(PAD.t + m.plotH) + 0.5);
    ctx.lineTo(PAD.l + m.plotW, Math.round(PAD.t + m.plotH) + 0.5);
    ctx.stroke();
    // Decision markers: a dashed line at the decision's hour and a triangle above the plot;
    // triangles that would overlap go to the next of three lanes up.
    const laneEnd = [-Infinity, -Infinity, -Infinity];
    const present = new Set();
    for (const { i, d } of m.markers) {
      const action = ACTIONS.includes(d.action) ? d.action : 'other';
      present.add(action);
      const color = cssVar(`--c-${action}`, '#6b7280');
      const x = PAD.l + (i + 0.5) * m.bw;
      let k = laneEnd.findIndex((end) => x - 5 >= end + 1);
      if (k < 0) k = laneEnd.indexOf(Math.min(...laneEnd));
      laneEnd[k] = x + 5;
      ctx.strokeStyle = color;
      ctx.globalAlpha = 0.7;
      ctx.setLineDash([3, 3]);
      ctx.beginPath();
      ctx.moveTo(Math.round(x) + 0.5, PAD.t);
      ctx.lineTo(Math.round(x) + 0.5, PAD.t + m.plotH);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.globalAlpha = 1;
      const ty = PAD.t - 3 - k * 10;
      ctx.fillStyle = color;
      ctx.beginPath();
      ctx.moveTo(x - 5, ty - 8);
      ctx.lineTo(x + 5, ty - 8);
      ctx.lineTo(x, ty);
      ctx.closePath();
      ctx.fill();
    }

    const first = bucketWall(m, 0);
    const days = Math.round((m.n * m.step) / 86400000);
    $('#chart-range').textContent = `\u00B7 last ${days >= 2 ? `${days} days` : `${m.n} hours`}, from ${wallClock(first.toISOString())} (server time)`;
    setChildren($('#chart-legend'),
      el('li', null, el('span', { class: 'swatch bar' }), 'recipients'),
      ACTIONS.filter((a) => a !== 'relay' || present.has('relay')).map((a) => el('li', {
        class: present.has(a) ? '' : 'absent',
      }, el('span', { class: `swatch a-${a}` }), a)));

    canvas.dataset.drawn = '1';
    canvas.dataset.bars = String(m.n);
    canvas.dataset.markers = String(m.markers.length);
    canvas.dataset.max = String(m.max);
  }

  function chartHover(ev) {
    if (!S.chart) return;
    const canvas = $('#account-chart');
    const m = chartModel(canvas);
    const tip = $('#chart-tip');
    const r = canvas.getBoundingClientRect();
    const x = ev.clientX - r.left;
    const i = Math.floor((x - PAD.l) / m.bw);
    if (!m.n || i < 0 || i >= m.n) {
      chartLeave();
      return;
    }
    if (S.chart.hover !== i) {
      S.chart.hover = i;
      drawChart();
    }
    const w = bucketWall(m, i);
    const hh = String(w.getUTCHours()).padStart(2, '0');
    const lines = [
      el('div', { class: 'tip-head' }, `${WEEKDAYS[w.getUTCDay()]} ${wallClock(w.toISOString()).slice(0, 10)} ${hh}:00`),
      el('div', null, el('strong', null, fmtInt(m.values[i])), ' recipients'),
      m.markers.filter((mk) => mk.i === i).map(({ d }) => el('div', null, actionBadge(d.action), ' ',
        el('span', { class: 'mono' }, String(d.rule || '')), ' ', wallClock(d.ts).slice(11))),
    ];
    setChildren(tip, lines);
    tip.hidden = false;
    const wrap = canvas.parentElement.getBoundingClientRect();
    const left = Math.min(Math.max(0, ev.clientX - wrap.left + 12), wrap.width - tip.offsetWidth);
    tip.style.left = `${left}px`;
    tip.style.top = `${Math.max(0, ev.clientY - wrap.top - tip.offsetHeight - 8)}px`;
  }

  function chartLeave() {
    $('#chart-tip').hidden = true;
    if (S.chart && S.chart.hover !== -1) {
      S.chart.hover = -1;
      drawChart();
    }
  }

  /* ---------- actions ---------- */

  // A modal asking to confirm (and optionally for a reason); run(reason) does the work and may
  // throw, in which case the error is shown in the dialog.
  function confirmDialog({ title, text, ok, danger, withReason, run }) {
    const dlg = $('#confirm-dialog');
    $('#confirm-title').textContent = title;
    setChildren($('#confirm-text'), text);
    $('#confirm-ok').textContent = ok;
    $('#confirm-ok').className = danger ? 'danger' : '';
    $('#confirm-reason-box').hidden = !withReason;
    $('#confirm-reason').value = '';
    $('#confirm-error').hidden = true;
    dlg.dataset.action = ok.toLowerCase();
    const form = $('#confirm-form');
    const buttons = form.querySelectorAll('button');
    form.onsubmit = async (ev) => {
      ev.preventDefault();
      buttons.forEach((b) => { b.disabled = true; });
      try {
        await run($('#confirm-reason').value.trim());
        dlg.close();
      } catch (e) {
        if (e.status === 401) {
          dlg.close();
          logout('The token is no longer accepted. Sign in again.');
          return;
        }
        const err = $('#confirm-error');
        err.textContent = e.status === 403 ? 'This token is read-only.' : String(e.message || e);
        err.hidden = false;
      } finally {
        buttons.forEach((b) => { b.disabled = false; });
      }
    };
    $('#confirm-cancel').onclick = () => dlg.close();
    dlg.showModal();
    (withReason ? $('#confirm-reason') : $('#confirm-ok')).focus();
  }

  function askUnlock(account) {
    confirmDialog({
      title: 'Unlock account',
      text: ['Unlock ', el('strong', { class: 'mono' }, account),
        '? It can send mail again at once: make sure its password has been changed.'],
      ok: 'Unlock',
      withReason: true,
      run: async (reason) => {
        await post('api/unlock', { account, reason });
        banner('ok', `${account} unlocked.`);
        await refresh();
      },
    });
  }

  function askLock(account) {
    confirmDialog({
      title: 'Lock account',
      text: ['Lock ', el('strong', { class: 'mono' }, account),
        '? Its mail submissions are refused until it is unlocked; it still receives mail.'],
      ok: 'Lock',
      danger: true,
      withReason: true,
      run: async (reason) => {
        await post('api/lock', { account, reason });
        banner('ok', `${account} locked.`);
        await refresh();
      },
    });
  }

  // release (postsuper -H) or delete (postsuper -d) the account's queued mail; the API answers
  // once the job is queued, the daemon's log says what the worker did
  function askQueue(account, op) {
    const release = op === 'release';
    confirmDialog({
      title: release ? 'Release held mail' : 'Delete its queued mail',
      text: release
        ? ['Release the mail of ', el('strong', { class: 'mono' }, account),
          ' held in Postfix\'s hold queue? Postfix delivers it: make sure it is not the spam of a stolen account.']
        : ['Delete the mail of ', el('strong', { class: 'mono' }, account),
          ' that is in Postfix\'s queue, held or not? It is gone for good.'],
      ok: release ? 'Release' : 'Delete',
      danger: !release,
      withReason: false,
      run: async () => {
        await post('api/queue', { op, account });
        const line = $('#account-queue-result');
        line.textContent = release
          ? `Release of ${account}'s held mail queued: hijackd's log says how many were released.`
          : `Deletion of ${account}'s queued mail queued: hijackd's log says how many were deleted.`;
        line.hidden = false;
        S.queueResultFor = account;
      },
    });
  }

  function askExemptDel(pattern) {
    confirmDialog({
      title: 'Remove exemption',
      text: ['Remove ', el('strong', { class: 'mono' }, pattern),
        ' from the exempt list? Its mail is judged by the rules again.'],
      ok: 'Remove',
      danger: true,
      withReason: false,
      run: async () => {
        await post('api/exempt', { op: 'del', pattern });
        await refresh();
      },
    });
  }

  async function submitForm(form, resultEl, work) {
    const buttons = form.querySelectorAll('button, input');
    buttons.forEach((b) => { b.disabled = true; });
    if (resultEl) {
      resultEl.textContent = '';
      resultEl.className = 'small';
    }
    try {
      const msg = await work();
      if (resultEl && msg) {
        resultEl.textContent = msg;
        resultEl.className = 'small good';
      }
      await refresh();
    } catch (e) {
      if (e.status === 401) {
        logout('The token is no longer accepted. Sign in again.');
        return;
      }
      const text = e.status === 403 ? 'This token is read-only.' : String(e.message || e);
      if (resultEl) {
        resultEl.textContent = text;
        resultEl.className = 'small error';
      } else {
        banner('error', text);
      }
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
    }
  }

  /* ---------- wiring ---------- */

  function init() {
    $('#login-form').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const token = $('#token').value.trim();
      if (!token) return;
      const btn = $('#login');
      btn.disabled = true;
      $('#login-error').hidden = true;
      try {
        await login(token, false);
      } finally {
        btn.disabled = false;
      }
    });
    $('#logout').addEventListener('click', (ev) => {
      ev.preventDefault();
      logout('');
    });

    $('#lock-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const account = $('#lock-account').value.trim();
      const reason = $('#lock-reason').value.trim();
      if (!account) return;
      submitForm(ev.target, $('#lock-result'), async () => {
        await post('api/lock', { account, reason });
        $('#lock-account').value = '';
        $('#lock-reason').value = '';
        return `${account} locked.`;
      });
    });

    $('#exempt-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const pattern = $('#exempt-pattern').value.trim();
      if (!pattern) return;
      submitForm(ev.target, null, async () => {
        await post('api/exempt', { op: 'add', pattern });
        $('#exempt-pattern').value = '';
        return '';
      });
    });

    // Any account name anywhere opens its panel.
    document.addEventListener('click', (ev) => {
      const a = ev.target.closest('a.account-link');
      if (!a || ev.button !== 0 || ev.ctrlKey || ev.metaKey || ev.shiftKey) return;
      ev.preventDefault();
      openAccount(a.dataset.account, true);
    });
    window.addEventListener('popstate', () => {
      if (!S.token) return;
      const name = accountFromHash();
      if (name) openAccount(name, false);
      else closeAccount(false);
    });
    $('#account-close').addEventListener('click', () => closeAccount(true));
    document.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape' && S.account && !$('#confirm-dialog').open) closeAccount(true);
    });

    const canvas = $('#account-chart');
    canvas.addEventListener('mousemove', chartHover);
    canvas.addEventListener('mouseleave', chartLeave);
    let resizeTimer = null;
    window.addEventListener('resize', () => {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(() => { if (S.account) drawChart(); }, 100);
    });
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden && S.token) refresh();
    });

    const saved = sessionStorage.getItem(TOKEN_KEY);
    if (saved) login(saved, true);
    else showLogin('');
  }

  init();
})();
