// dashboard.mjs BASE_URL ADMIN_TOKEN SCREENSHOT - the hijackd dashboard in a real browser.
//
// Drives Debian's Chromium (/usr/bin/chromium, or $CHROMIUM) headless through playwright-core:
// a wrong token is refused with an error; the admin token signs in; the locked table lists at
// least one account (the caller locks one beforehand); that account's panel draws its chart; a
// decision's evidence expands; a screenshot is saved; Unlock on that row (with a reason in the
// confirmation dialog) unlocks it, which is then checked through the API itself.
// Prints a TAP plan "1..PLAN" first, then "ok N - ..." / "not ok N - ..." lines ("ok N - ... # SKIP
// why" for a check that cannot run); when a step fails, every check after it is printed as
// "not ok N - not reached (...)", so that there are always PLAN lines. Exits non-zero on any
// failure or after 60 s.

import { chromium } from 'playwright-core';

const [BASE_URL, TOKEN, SCREENSHOT] = process.argv.slice(2);
if (!BASE_URL || !TOKEN || !SCREENSHOT) {
  console.error('usage: node dashboard.mjs BASE_URL ADMIN_TOKEN SCREENSHOT_PATH');
  process.exit(2);
}
const BASE = BASE_URL.endsWith('/') ? BASE_URL : `${BASE_URL}/`;
const EXECUTABLE = process.env.CHROMIUM || '/usr/bin/chromium';
const TOTAL_TIMEOUT_MS = 60000;
const STEP_TIMEOUT_MS = 10000;
const PLAN = 18; // every ok() below, in order; tests/admin_test.py's BROWSER_STEPS names them

let n = 0;
let failed = 0;
let skipped = 0;
function ok(cond, what, detail) {
  n += 1;
  if (cond) {
    console.log(`ok ${n} - ${what}`);
  } else {
    failed += 1;
    console.log(`not ok ${n} - ${what}`);
    if (detail !== undefined) console.log(`# ${String(detail).split('\n').join('\n# ')}`);
  }
  return cond;
}

// Runs one step; a thrown error is a failure of that step and stops the test.
class Stop extends Error {}
async function step(what, fn) {
  try {
    const r = await fn();
    if (r === false) throw new Stop();
    ok(true, what);
    return r;
  } catch (e) {
    if (!(e instanceof Stop)) ok(false, what, e && e.stack ? e.stack : e);
    else ok(false, what);
    throw new Stop();
  }
}

async function api(path, init = {}) {
  const res = await fetch(new URL(path, BASE), {
    ...init,
    headers: { Authorization: `Bearer ${TOKEN}`, ...(init.headers || {}) },
    signal: AbortSignal.timeout(STEP_TIMEOUT_MS),
  });
  let body = null;
  try {
    body = await res.json();
  } catch {
    body = null;
  }
  return { status: res.status, body };
}

let browser = null;
const pageErrors = [];

// The checks a failed step or the watchdog left out, each as a failure.
function notReached(why) {
  while (n < PLAN) ok(false, `not reached (${why})`);
}

console.log(`1..${PLAN}`);
const watchdog = setTimeout(async () => {
  notReached(`not finished within ${TOTAL_TIMEOUT_MS / 1000} s`);
  try {
    if (browser) await browser.close();
  } finally {
    process.exit(1);
  }
}, TOTAL_TIMEOUT_MS);

async function main() {
  browser = await step('chromium starts', () => chromium.launch({
    executablePath: EXECUTABLE,
    args: ['--no-sandbox', '--headless=new', '--disable-gpu'],
    timeout: 30000,
  }));
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT_MS);
  page.on('pageerror', (e) => pageErrors.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    // The wrong-token attempt makes Chromium log the 401 itself; anything else is a failure.
    if (m.type() === 'error' && !/status of 401/.test(m.text())) {
      pageErrors.push(`console error: ${m.text()}`);
    }
  });

  await step(`page loads from ${BASE}`, async () => {
    const res = await page.goto(BASE, { waitUntil: 'load' });
    if (!res || !res.ok()) throw new Error(`HTTP ${res && res.status()}`);
    await page.locator('#token').waitFor({ state: 'visible' });
    return page.locator('#dashboard').isHidden();
  });

  await step('a wrong token is refused with an error', async () => {
    await page.fill('#token', `${TOKEN}-wrong`);
    await page.click('#login');
    const err = page.locator('#login-error');
    await err.waitFor({ state: 'visible' });
    const text = (await err.textContent()) || '';
    if (!/wrong token/i.test(text)) throw new Error(`error text: ${JSON.stringify(text)}`);
    return (await page.locator('#dashboard').isHidden())
      && (await page.evaluate(() => sessionStorage.getItem('hijackd.token'))) === null;
  });

  await step('the admin token signs in', async () => {
    await page.fill('#token', TOKEN);
    await page.click('#login');
    await page.locator('#dashboard').waitFor({ state: 'visible' });
    await page.locator('#login-box').waitFor({ state: 'hidden' });
    const role = (await page.textContent('#role')) || '';
    if (role.trim() !== 'admin') throw new Error(`role shows ${JSON.stringify(role)}`);
    const status = (await page.textContent('#status')) || '';
    if (!/\d+ locked/.test(status)) throw new Error(`status line: ${JSON.stringify(status)}`);
    return true;
  });

  const account = await step('the locked table lists a locked account', async () => {
    const row = page.locator('#locked tbody tr[data-account]').first();
    await row.waitFor({ state: 'visible' });
    const name = await row.getAttribute('data-account');
    if (!name) throw new Error('first row has no data-account');
    const cells = await row.locator('td').allTextContents();
    if (!cells[0].includes(name)) throw new Error(`row cells: ${JSON.stringify(cells)}`);
    if ((await row.locator('button.unlock').count()) !== 1) throw new Error('no Unlock button');
    console.log(`# locked account: ${name}`);
    return name;
  });
  // A locator for that account's row, whatever characters its name holds.
  const rowOf = () => page.locator('#locked tbody tr[data-account]')
    .filter({ has: page.locator(`a.account-link[data-account=${JSON.stringify(account)}]`) });

  // What the API says about the account, to know what the panel must show.
  const before = await step('API: the account is locked and has hourly data', async () => {
    const r = await api(`api/account/${encodeURIComponent(account)}`);
    if (r.status !== 200) throw new Error(`HTTP ${r.status} ${JSON.stringify(r.body)}`);
    if (r.body.state !== 'locked') throw new Error(`state ${JSON.stringify(r.body.state)}`);
    const h = r.body.hourly || {};
    const values = Array.isArray(h.recipients) ? h.recipients : [];
    const start = Date.parse(h.start);
    const step = (h.step || 3600) * 1000;
    const inRange = (r.body.decisions || []).filter((d) => {
      const t = Date.parse(d.ts);
      return t >= start && t < start + values.length * step;
    }).length;
    const sum = values.reduce((a, v) => a + (Number(v) || 0), 0);
    console.log(`# ${values.length} hours, ${sum} recipients, ${inRange} decisions in range`);
    return values.length > 0 && { sum, inRange };
  });

  await step('top senders and recent decisions are listed (or said to be empty)', async () => {
    await page.locator('#top tbody tr, #top-empty:not([hidden])').first().waitFor({ state: 'visible' });
    await page.locator('#decisions tbody tr.decision, #decisions-empty:not([hidden])').first()
      .waitFor({ state: 'visible' });
    return true;
  });

  const haveDecisions = (await page.locator('#decisions tbody tr.decision').count()) > 0;
  if (!haveDecisions) {
    n += 1;
    skipped += 1;
    console.log(`ok ${n} - a decision's evidence expands # SKIP no decisions`);
  } else await step("a decision's evidence expands", async () => {
    const first = page.locator('#decisions tbody tr.decision').first();
    await first.locator('button.expand').click();
    const detail = page.locator('#decisions tbody tr.evidence-row').first();
    await detail.waitFor({ state: 'visible' });
    const n = await detail.locator('dl.kv dt').count();
    const expanded = await first.locator('button.expand').getAttribute('aria-expanded');
    if (expanded !== 'true') throw new Error(`aria-expanded=${expanded}`);
    return n > 0 || /no further evidence/.test((await detail.textContent()) || '');
  });

  await step("clicking the account opens its panel", async () => {
    await rowOf().locator('a.account-link').click();
    const panel = page.locator('#account-panel');
    await panel.waitFor({ state: 'visible' });
    await page.waitForFunction((name) => document.querySelector('#account-name').textContent === name
      && document.querySelector('#account-state [data-state]') !== null, account);
    const state = await page.getAttribute('#account-state [data-state]', 'data-state');
    if (state !== 'locked') throw new Error(`panel state ${state}`);
    return true;
  });

  await step('the chart is drawn, with the decisions marked', async () => {
    await page.waitForSelector('#account-chart[data-drawn="1"]');
    const info = await page.evaluate(() => {
      const c = document.querySelector('#account-chart');
      const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      // The bars' colour, from the stylesheet (--bar: #rrggbb).
      const hex = getComputedStyle(document.documentElement).getPropertyValue('--bar').trim();
      const rgb = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
      let painted = 0;
      let bar = 0;
      for (let i = 0; i < px.length; i += 4) {
        if (px[i + 3] !== 0) painted += 1;
        if (px[i + 3] === 255 && px[i] === rgb[0] && px[i + 1] === rgb[1] && px[i + 2] === rgb[2]) bar += 1;
      }
      return {
        w: c.width, h: c.height, painted, barPixels: bar, bars: Number(c.dataset.bars),
        markers: Number(c.dataset.markers), cssWidth: c.clientWidth,
      };
    });
    console.log(`# chart ${JSON.stringify(info)}`);
    if (!(info.bars > 0)) throw new Error('no bars');
    if (info.cssWidth < 300) throw new Error('canvas too narrow');
    if (before.sum > 0 && info.barPixels < 20) throw new Error('no bar painted');
    if (before.inRange > 0 && info.markers < 1) throw new Error('no decision markers');
    // Axis, grid and labels at least.
    return info.painted > info.w * info.h * 0.005;
  });

  await step(`screenshot saved to ${SCREENSHOT}`, async () => {
    await page.mouse.move(0, 0);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    return true;
  });

  await step('Unlock on the row asks for a reason and unlocks', async () => {
    await rowOf().locator('button.unlock').click();
    const dlg = page.locator('#confirm-dialog');
    await dlg.waitFor({ state: 'visible' });
    const text = (await dlg.textContent()) || '';
    if (!text.includes(account)) throw new Error(`dialog text: ${JSON.stringify(text)}`);
    await page.fill('#confirm-reason', 'browser test: password reset');
    await page.click('#confirm-ok');
    await dlg.waitFor({ state: 'hidden' });
    await rowOf().waitFor({ state: 'detached' });
    await page.waitForFunction(() => {
      const s = document.querySelector('#account-state [data-state]');
      return s && s.dataset.state === 'ok';
    });
    return true;
  });

  const enc = encodeURIComponent(account);
  await step(`API: GET /api/account/${enc} says state "ok"`, async () => {
    const r = await api(`api/account/${enc}`);
    if (r.status !== 200) throw new Error(`HTTP ${r.status} ${JSON.stringify(r.body)}`);
    if (r.body.state !== 'ok') throw new Error(`state ${JSON.stringify(r.body.state)}`);
    return r.body.lock === null || r.body.lock === undefined;
  });

  await step('API: /api/locked no longer lists it', async () => {
    const r = await api('api/locked');
    if (r.status !== 200) throw new Error(`HTTP ${r.status}`);
    const names = (r.body.locked || []).map((x) => x.account);
    if (names.includes(account)) throw new Error(`still locked: ${JSON.stringify(names)}`);
    return true;
  });

  await step('API: the unlock is in the history with its reason', async () => {
    const r = await api(`api/history?account=${enc}&since=${encodeURIComponent('1970-01-01T00:00:00+00:00')}`);
    if (r.status !== 200) throw new Error(`HTTP ${r.status}`);
    const h = (r.body.history || []).find((x) => x.action === 'unlock');
    if (!h) throw new Error(`history: ${JSON.stringify(r.body)}`);
    return h.reason === 'browser test: password reset';
  });

  await step('API: a wrong token gets 401', async () => {
    const res = await fetch(new URL('api/status', BASE), {
      headers: { Authorization: `Bearer ${TOKEN}-wrong` },
      signal: AbortSignal.timeout(STEP_TIMEOUT_MS),
    });
    return res.status === 401;
  });

  await step('log out forgets the token', async () => {
    await page.click('#logout');
    await page.locator('#token').waitFor({ state: 'visible' });
    return (await page.evaluate(() => sessionStorage.getItem('hijackd.token'))) === null
      && (await page.locator('#locked tbody tr').count()) === 0;
  });

  ok(pageErrors.length === 0, 'no JavaScript or console errors', pageErrors.join('\n'));
}

let code = 0;
try {
  await main();
} catch (e) {
  if (!(e instanceof Stop)) ok(false, 'test ran', e && e.stack ? e.stack : e);
  notReached('an earlier check failed');
} finally {
  if (browser) await browser.close().catch(() => {});
  clearTimeout(watchdog);
  code = failed || n !== PLAN ? 1 : 0;
  if (n !== PLAN) console.log(`# ${n} checks printed, ${PLAN} planned`);
  console.log(`# ${n - failed - skipped} passed, ${skipped} skipped, ${failed} failed`);
}
process.exit(code);
