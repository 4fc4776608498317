// GET /metrics (docs/metrics.md) on a real hq-server while two Chromium
// pages hold a call through its SFU with the browser SDK: the exposition
// passes Prometheus' own checker (promtool, Debian's prometheus package),
// the gauges say what is going on, and the counters move as the call runs.
// Suite `metrics`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chromium } from 'playwright-core';
import { startServer, CHROMIUM, CHROMIUM_ARGS, waitInPage } from '../browser/hqserver.mjs';

const TOKEN = 'metrics-test-token-0123456789';
let browser;
let server;

before(async () => {
  server = await startServer({ HQ_METRICS_TOKEN: TOKEN });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});

after(async () => {
  await browser?.close();
  if (server) assert.equal(await server.stop(), 0, server.log());
});

const get = (srv, auth) => fetch(`${srv.url}/metrics`,
  { headers: auth ? { Authorization: auth } : {} });

// One scrape, checked by promtool, as {series: value}: the series is the
// name with its labels as written ("hq_rooms{type=\"group\"}").
async function scrape() {
  const res = await get(server, `Bearer ${TOKEN}`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  assert.equal(check.status, 0, `promtool check metrics:\n${check.stdout}${check.stderr}\n${text}`);
  const values = {};
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    values[line.slice(0, at)] = Number(line.slice(at + 1));
  }
  return values;
}

const value = (m, series) => {
  assert.ok(series in m, `no series ${series}`);
  return m[series];
};

async function until(what, fn) {
  const deadline = Date.now() + 60000;
  for (;;) {
    const m = await scrape();
    if (fn(m)) return m;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

// A page on the server's origin that joins `room` with the browser SDK
// (/sdk/video.js), publishing its fake camera and microphone.
async function joinPage(identity, room) {
  const token = await server.token(identity, room);
  const page = await browser.newPage();
  await page.goto(`${server.url}/healthz`);
  await page.evaluate(async (tok) => {
    const Video = await import('/sdk/video.js');
    window.room = await Video.connect(tok, { networkQuality: true });
    window.decoded = () => {
      for (const p of window.room.participants.values()) {
        for (const pub of p.videoTracks.values()) {
          if (!pub.track) continue;
          const el = window.videoEl || (window.videoEl = pub.track.attach());
          if (el.videoWidth > 0) return true;
        }
      }
      return false;
    };
  }, token);
  return page;
}

test('metrics are off without a token, and refused without the right one', async () => {
  const off = await startServer();
  try {
    const res = await get(off);
    assert.equal(res.status, 404);
    assert.match(JSON.stringify(await res.json()), /\[metrics\] token/);
  } finally {
    assert.equal(await off.stop(), 0);
  }
  let res = await get(server);
  assert.equal(res.status, 401);
  assert.match(res.headers.get('www-authenticate'), /^Bearer /);
  assert.match(JSON.stringify(await res.json()), /metrics token is missing/);
  res = await get(server, 'Bearer not-the-token');
  assert.equal(res.status, 401);
  assert.match(JSON.stringify(await res.json()), /Wrong metrics token/);
});

test('a two-page call moves the gauges and counters', async () => {
  const idle = await scrape();
  assert.equal(value(idle, 'hq_rooms{type="group"}'), 0);
  assert.equal(value(idle, 'hq_participants{state="connected"}'), 0);
  assert.equal(value(idle, 'hq_sfu_forwarded_packets_total'), 0);

  const ana = await joinPage('dr-ana', 'metrics-call');
  const ben = await joinPage('ben', 'metrics-call');
  await waitInPage(ana, () => window.decoded(), undefined, 60000, "ana decoding ben's video");
  await waitInPage(ben, () => window.decoded(), undefined, 60000, "ben decoding ana's video");

  const during = await until('both participants scored and counted', (m) =>
    m['hq_network_quality_participants{level="0"}'] + m['hq_network_quality_participants{level="1"}']
    + m['hq_network_quality_participants{level="2"}'] + m['hq_network_quality_participants{level="3"}']
    + m['hq_network_quality_participants{level="4"}'] + m['hq_network_quality_participants{level="5"}'] === 2
    && m.hq_sfu_rtt_seconds_count > 0);
  assert.equal(value(during, 'hq_rooms{type="group"}'), 1);
  assert.equal(value(during, 'hq_participants{state="connected"}'), 2);
  assert.equal(value(during, 'hq_published_tracks{kind="audio"}'), 2);
  assert.equal(value(during, 'hq_published_tracks{kind="video"}'), 2);
  assert.equal(value(during, 'hq_sfu_subscribed_tracks'), 4);
  assert.equal(value(during, 'hq_websockets'), 2);
  assert.equal(value(during, 'hq_joins_total'), 2);
  assert.equal(value(during, 'hq_join_duration_seconds_count'), 2);
  assert.equal(value(during, 'hq_join_duration_seconds_bucket{le="+Inf"}'), 2);
  assert.ok(value(during, 'hq_sfu_received_packets_total') > 0);
  assert.ok(value(during, 'hq_sfu_forwarded_bytes_total') > 0);
  assert.ok(value(during, 'hq_store_statement_duration_seconds_count') > 0);
  // server.token() made the room and the two tokens through REST.
  assert.equal(value(during, 'hq_http_requests_total{method="POST",route="/v1/Rooms",code="201"}'), 1);
  assert.equal(value(during, 'hq_http_requests_total{method="POST",route="/v1/AccessTokens",code="201"}'), 2);

  // Media keeps flowing: the counters move between two scrapes.
  const later = await until('more packets forwarded', (m) =>
    m.hq_sfu_forwarded_packets_total > during.hq_sfu_forwarded_packets_total + 100);
  assert.ok(later.hq_sfu_received_bytes_total > during.hq_sfu_received_bytes_total);

  await ben.evaluate(() => window.room.disconnect());
  await ana.evaluate(() => window.room.disconnect());
  const after = await until('the call to end', (m) =>
    m['hq_participants{state="connected"}'] === 0 && m.hq_websockets === 0);
  assert.equal(value(after, 'hq_sfu_subscribed_tracks'), 0);
  assert.equal(value(after, 'hq_published_tracks{kind="video"}'), 0);
  await ana.close();
  await ben.close();
});

test('HTTP routes are counted by route, not by whatever path a client sends', async () => {
  for (const junk of ['/v1/Rooms/RMnope', '/v1/Rooms/some-name/Participants/x', '/no/such/page']) {
    await fetch(server.url + junk);
  }
  const m = await scrape();
  assert.ok(value(m, 'hq_http_requests_total{method="GET",route="/v1/Rooms/{id}",code="401"}') >= 1);
  assert.ok(value(m, 'hq_http_requests_total{method="GET",route="/v1/Rooms/{id}/Participants/{id}",code="401"}') >= 1);
  assert.ok(value(m, 'hq_http_requests_total{method="GET",route="/{static}",code="404"}') >= 1);
  for (const series of Object.keys(m)) {
    assert.doesNotMatch(series, /RMnope|some-name|no\/such/);
  }
});

test('the Grafana dashboard in docs/ queries what the server exposes', async () => {
  const { readFileSync, writeFileSync, mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const path = await import('node:path');
  const here = path.dirname(new URL(import.meta.url).pathname);
  const dash = JSON.parse(readFileSync(path.join(here, '..', '..', 'docs', 'grafana-hqrooms.json'), 'utf8'));
  const exprs = dash.panels.flatMap((p) => p.targets.map((t) => t.expr));
  assert.ok(exprs.length >= 10);
  // Each query parses (promtool checks a rule file of them) ...
  const dir = mkdtempSync(path.join(tmpdir(), 'hq-dash-'));
  try {
    const rules = ['groups:', '  - name: dashboard', '    rules:',
      ...exprs.flatMap((e, i) => [`      - record: dashboard:q${i}`, `        expr: ${JSON.stringify(e)}`])];
    writeFileSync(path.join(dir, 'rules.yml'), rules.join('\n') + '\n');
    const check = spawnSync('promtool', ['check', 'rules', path.join(dir, 'rules.yml')], { encoding: 'utf8' });
    assert.equal(check.status, 0, check.stdout + check.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // ... and names only families the server has.
  const names = new Set(Object.keys(await scrape()).map((s) => s.replace(/\{.*$/, '')
    .replace(/_(bucket|sum|count)$/, '')));
  for (const e of exprs) {
    for (const name of e.match(/\bhq_[a-z_]+/g)) {
      assert.ok(names.has(name.replace(/_(bucket|sum|count)$/, '')), `${name} in "${e}" is not exposed`);
    }
  }
});
