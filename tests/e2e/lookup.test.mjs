// The lookup page (GET /) in a real headless Chromium, against a running
// resellerd loaded with tests/fixtures (tests/e2e/run.sh sets that up).
//
//   RESELLERD_E2E_BASE=http://127.0.0.1:PORT RESELLERD_E2E_TOKEN=rsd_... node lookup.test.mjs
//
// Screenshots go to ${RESELLERD_E2E_ARTIFACTS:-/tmp}/lookup-*.png. The last
// line is "N passed, M failed"; the exit code is non-zero on any failure.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const BASE = (process.env.RESELLERD_E2E_BASE || '').replace(/\/+$/, '');
const TOKEN = process.env.RESELLERD_E2E_TOKEN || '';
const ARTIFACTS = process.env.RESELLERD_E2E_ARTIFACTS || '/tmp';
const CHROMIUM = process.env.RESELLERD_E2E_CHROMIUM || '/usr/bin/chromium';

if (!BASE || !TOKEN) {
  console.error('set RESELLERD_E2E_BASE and RESELLERD_E2E_TOKEN (tests/e2e/run.sh does)');
  console.log('0 passed, 1 failed');
  process.exit(1);
}
mkdirSync(ARTIFACTS, { recursive: true });

let passed = 0;
let failed = 0;

async function check(name, fn) {
  try {
    await fn();
    passed += 1;
    console.log(`ok - ${name}`);
  } catch (e) {
    failed += 1;
    console.log(`not ok - ${name}\n    ${String(e && e.stack || e).split('\n').slice(0, 4).join('\n    ')}`);
  }
}

function assert(cond, message) {
  if (!cond)
    throw new Error(message);
}

function assertEq(got, want, what) {
  if (got !== want)
    throw new Error(`${what}: want ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
}

function assertIncludes(text, part, what) {
  if (typeof text !== 'string' || !text.includes(part))
    throw new Error(`${what}: want it to contain ${JSON.stringify(part)}, got ${JSON.stringify(text)}`);
}

const shot = (page, name) =>
  page.screenshot({ path: join(ARTIFACTS, `lookup-${name}.png`), fullPage: true });

// Error responses the test provokes on purpose: Chromium logs each failed
// fetch as a console error; anything else in the console is a failure.
const EXPECTED_FAILURES = [
  { status: 401, path: '/v1/subscriptions/A-S00000003/channel' },
  { status: 404, path: '/v1/subscriptions/A-S99999999/channel' },
  { status: 400, path: '/v1/subscriptions/zzz/channel' },
  { status: 400, path: '/v1/requests/evaluate' },
];

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

const requests = [];
const consoleErrors = [];

try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: BASE });
  const page = await context.newPage();
  page.setDefaultTimeout(10000);
  page.on('request', (r) => requests.push({ url: r.url(), headers: r.headers() }));
  page.on('pageerror', (e) => consoleErrors.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() !== 'error')
      return;
    const url = m.location().url || '';
    const ok = EXPECTED_FAILURES.some((f) => url === BASE + f.path &&
      m.text().includes(`status of ${f.status}`));
    if (!ok)
      consoleErrors.push(`${m.text()} (${url})`);
  });

  const result = page.locator('#lookup-result');
  const lookup = async (key) => {
    await page.getByLabel('Subscription number or Zuora id').fill(key);
    await page.getByLabel('Subscription number or Zuora id').press('Enter');
  };

  await check('GET / serves the page with a strict CSP and its assets', async () => {
    const res = await page.goto(BASE + '/');
    assertEq(res.status(), 200, 'status');
    assertIncludes(res.headers()['content-type'], 'text/html', 'content type');
    const csp = res.headers()['content-security-policy'];
    assertIncludes(csp, "script-src 'self'", 'CSP');
    assertIncludes(csp, "form-action 'none'", 'CSP');
    assertEq(res.headers()['cache-control'], 'no-cache', 'Cache-Control');
    assertEq(await page.title(), 'resellerd: reseller lookup', 'title');
    await page.locator('#token-state').waitFor();
    const js = await page.request.get(BASE + '/static/app.js');
    assertIncludes(js.headers()['content-type'], 'text/javascript', 'app.js type');
    assert(!/\.(inner|outer)HTML\s*[=+]|insertAdjacentHTML|document\.write|\beval\(/.test(await js.text()),
      'app.js must build DOM nodes, never parse HTML strings');
    const css = await page.request.get(BASE + '/static/style.css');
    assertIncludes(css.headers()['content-type'], 'text/css', 'style.css type');
    const other = await page.request.get(BASE + '/static/index.html');
    assertEq(other.status(), 404, '/static/index.html status');
    assertIncludes(other.headers()['content-type'], 'application/problem+json', '404 type');
  });

  await check('every form control has a label', async () => {
    const unlabelled = await page.evaluate(() =>
      [...document.querySelectorAll('input, select, textarea')]
        .filter((e) => !e.labels || e.labels.length === 0).map((e) => e.id || e.name));
    assertEq(unlabelled.join(','), '', 'controls without a label');
  });

  await check('a lookup without a token says so and focuses the token field', async () => {
    await lookup('A-S00000003');
    await result.locator('.problem').waitFor();
    assertIncludes(await result.innerText(), 'Enter an API token first', 'message');
    assertEq(await page.evaluate(() => document.activeElement.id), 'token', 'focus');
  });

  await check('a wrong token shows the 401 problem detail', async () => {
    await page.getByLabel('Bearer token').fill('rsd_not_a_real_token');
    await page.getByLabel('Bearer token').press('Enter');
    await lookup('A-S00000003');
    await result.locator('.problem[data-status="401"]').waitFor();
    assertIncludes(await result.innerText(),
      'a valid bearer token is required in the Authorization header', '401 detail');
    assertEq(await page.evaluate(() => document.activeElement.id), 'token', 'focus');
  });

  await check('the token is kept in sessionStorage only and the field is cleared', async () => {
    await page.getByLabel('Bearer token').fill(TOKEN);
    await page.getByRole('button', { name: 'Save token' }).click();
    assertEq(await page.evaluate(() => sessionStorage.getItem('resellerd.token')), TOKEN,
      'sessionStorage');
    assertEq(await page.evaluate(() => localStorage.length), 0, 'localStorage entries');
    assertEq(await page.getByLabel('Bearer token').inputValue(), '', 'token field');
    assertEq((await context.cookies()).length, 0, 'cookies');
    assertIncludes(await page.locator('#token-state').innerText(), 'saved', 'token state');
  });

  await check('reseller A-S00000003: badge, parties, partner, warning, evidence, workflows', async () => {
    await lookup('a-s00000003'); // typed in lower case: the page normalizes it
    const card = result.locator('article.decision[data-subscription="A-S00000003"]');
    await card.waitFor();
    assertEq((await card.locator('.channel-badge').innerText()).trim(), 'reseller', 'channel badge');
    assertIncludes(await card.locator('.verdict').innerText(), 'reseller purchase', 'verdict');
    assertIncludes(await card.locator('.party.partner').innerText(), 'Example Reseller GmbH',
      'partner');
    const parties = await card.locator('.parties').innerText();
    assertIncludes(parties, 'End Customer AG', 'subscriber');
    assertIncludes(parties, 'A00000010', 'invoice owner account');
    const warn = card.locator('[data-warning="never_send_license_to_reseller"]');
    assert(await warn.isVisible(), 'the never-send-license warning is visible');
    assertIncludes(await warn.innerText(), 'Never send a license file to the reseller', 'warning');
    const rows = await card.locator('table.evidence tbody tr').count();
    assert(rows >= 5, `evidence rows: want >= 5, got ${rows}`);
    assertIncludes(await card.locator('table.evidence').innerText(), 'Resale_Partner__c',
      'evidence field');
    const href = await card.locator('ul.workflows a').first().getAttribute('href');
    assert(/^https:\/\/handbook\.gitlab\.com\//.test(href), `handbook link: ${href}`);
    assertIncludes(await card.innerText(), 'Zuora synced', 'freshness');
    assertEq(await card.locator('.conflicts').count(), 0, 'no conflicts');
    assertEq(await page.evaluate(() => document.activeElement.tagName), 'H3',
      'focus moves to the result heading');
    await page.locator('#lookup-status[aria-live="polite"]',
      { hasText: 'A-S00000003: channel reseller, a reseller purchase' }).waitFor({ state: 'attached' });
    assertEq(await page.getByLabel('Subscription', { exact: true }).inputValue(), 'A-S00000003',
      'the evaluate form is prefilled');
    await shot(page, 'reseller');
  });

  await check('the decision ticket note loads as Markdown', async () => {
    const card = result.locator('article.decision');
    await card.locator('summary', { hasText: 'Ticket note' }).click();
    const pre = card.locator('pre.note');
    await pre.waitFor();
    assertIncludes(await pre.innerText(), 'A-S00000003', 'note text');
  });

  await check('marketplace A-S00000006: not a reseller, conflict highlighted', async () => {
    await lookup('A-S00000006');
    const card = result.locator('article.decision[data-subscription="A-S00000006"]');
    await card.waitFor();
    assertEq((await card.locator('.channel-badge').innerText()).trim(), 'marketplace',
      'channel badge');
    assertIncludes(await card.locator('.verdict').innerText(), 'Not a reseller purchase',
      'verdict');
    assertEq(await card.locator('[data-channel="reseller"]').count(), 0, 'no reseller badge');
    assertEq(await card.locator('[data-warning="never_send_license_to_reseller"]').count(), 0,
      'no never-send warning');
    assertIncludes(await card.locator('.conflicts').innerText(),
      'ssp_channel_reseller_but_marketplace', 'conflict');
    assertIncludes(await card.locator('.party.partner').innerText(), 'Amazon Web Services, Inc.',
      'partner');
    await shot(page, 'marketplace');
  });

  await check('unknown A-S99999999: the 404 detail is shown', async () => {
    await lookup('A-S99999999');
    const box = result.locator('.problem[data-status="404"]');
    await box.waitFor();
    assertIncludes(await box.innerText(), 'subscription A-S99999999 is not known to resellerd',
      'detail');
    await page.locator('#lookup-status', { hasText: 'not known to resellerd' })
      .waitFor({ state: 'attached' });
    assertEq(await result.locator('article.decision').count(), 0, 'no card');
    await shot(page, 'notfound');
  });

  await check('a malformed key: the 400 detail is shown', async () => {
    await lookup('zzz');
    const box = result.locator('.problem[data-status="400"]');
    await box.waitFor();
    assertIncludes(await box.innerText(), "invalid subscription key 'zzz'", 'detail');
    assertEq(await page.getByLabel('Subscription number or Zuora id').getAttribute('aria-invalid'),
      'true', 'aria-invalid');
  });

  await check('evaluate contact_update by staff on A-S00000003: request_proof with a note', async () => {
    await page.getByLabel('Subscription', { exact: true }).fill('A-S00000003');
    await page.getByLabel('Request type').selectOption('contact_update');
    await page.getByLabel('Requester is GitLab staff').selectOption('true');
    await page.getByRole('button', { name: 'Evaluate', exact: true }).click();
    const card = page.locator('#evaluate-result article.evaluation');
    await card.waitFor();
    const badge = card.locator('.action-badge');
    assertEq(await badge.getAttribute('data-action'), 'request_proof', 'action');
    assertEq((await badge.innerText()).trim(), 'Request proof', 'action label');
    const note = await card.locator('pre.note').innerText();
    assertIncludes(note, '### contact_update request on A-S00000003: request_proof', 'note');
    assertIncludes(await card.innerText(), 'not proof of ownership', 'reasons');
    assertEq(await page.evaluate(() => document.activeElement.tagName), 'H3', 'focus');
    await card.getByRole('button', { name: 'Copy note' }).click();
    await card.locator('.copy-status', { hasText: 'Copied' }).waitFor();
    const clip = await page.evaluate(() => navigator.clipboard.readText());
    assertIncludes(clip, '### contact_update request on A-S00000003', 'clipboard');
    await shot(page, 'evaluate');
  });

  await check('a 400 from evaluate shows its detail', async () => {
    await page.getByLabel('Subscription', { exact: true }).fill('A-S00000003');
    await page.getByLabel('Requester email').fill('not-an-email');
    // type=email would normally block this; the page validates on the server.
    await page.getByRole('button', { name: 'Evaluate', exact: true }).click();
    const box = page.locator('#evaluate-result .problem[data-status="400"]');
    await box.waitFor();
    assertIncludes(await box.innerText(), "'requester_email' must be an email address", 'detail');
    await page.getByLabel('Requester email').fill('');
  });

  await check('a 400 px window: no sideways scrolling, the card still reads', async () => {
    await page.setViewportSize({ width: 400, height: 860 });
    await lookup('A-S00000003');
    const card = result.locator('article.decision[data-subscription="A-S00000003"]');
    await card.waitFor();
    const overflow = await page.evaluate(() =>
      document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert(overflow <= 0, `the page scrolls sideways by ${overflow}px`);
    assert(await card.locator('.channel-badge').isVisible(), 'badge visible');
    await shot(page, 'narrow');
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  await check('keyboard: Tab from the subscription field reaches Look up', async () => {
    await page.getByLabel('Subscription number or Zuora id').focus();
    await page.keyboard.press('Tab');
    assertEq(await page.evaluate(() => document.activeElement.id), 'lookup-submit', 'focus');
  });

  await check('no request URL carries the token; every request stays on the origin', async () => {
    assert(requests.length > 0, 'requests were seen');
    const leaked = requests.filter((r) => r.url.includes(TOKEN));
    assertEq(leaked.length, 0, 'requests with the token in the URL');
    const foreign = requests.filter((r) => !r.url.startsWith(BASE + '/') &&
      !r.url.startsWith('data:'));
    assertEq(foreign.map((r) => r.url).join(' '), '', 'requests to other origins');
    const api = requests.filter((r) => r.url.startsWith(BASE + '/v1/'));
    assert(api.some((r) => r.headers.authorization === `Bearer ${TOKEN}`),
      'the token goes in the Authorization header');
  });

  await check('no console errors', async () => {
    assertEq(consoleErrors.join('\n'), '', 'console errors');
  });
} catch (e) {
  failed += 1;
  console.log(`not ok - the test itself failed: ${e && e.stack || e}`);
} finally {
  await browser.close();
}

console.log(`screenshots: ${join(ARTIFACTS, 'lookup-*.png')}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
