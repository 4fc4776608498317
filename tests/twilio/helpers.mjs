// What a Twilio customer's back-end test needs around hq-server: the
// official `twilio` client with a request client that only rewrites the
// host (https://video.twilio.com -> the loopback server), a loopback
// receiver for status callbacks, and gst-launch-1.0 hqroomsink publishers.
import { createRequire } from 'node:module';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';

const require = createRequire(import.meta.url);
export const twilio = require('twilio');

export const WAIT_MS = 180000; // a deadline: ASan builds on a loaded machine are slow

export function credentials(dataDir) {
  const creds = {};
  for (const line of readFileSync(path.join(dataDir, 'credentials.conf'), 'utf8').split('\n')) {
    const m = line.match(/^(\w+)=(.*)$/);
    if (m) creds[m[1]] = m[2];
  }
  return creds;
}

// The unmodified SDK; only the host of each request changes.
export function client(serverUrl, creds) {
  const inner = new twilio.RequestClient();
  const httpClient = {
    request(opts) {
      return inner.request({ ...opts, uri: opts.uri.replace(/^https:\/\/video\.twilio\.com/, serverUrl) });
    },
  };
  return twilio(creds.key_sid, creds.key_secret, { accountSid: creds.account_sid, httpClient });
}

// Collects POSTed callbacks: {url, signature, params, hqSignature}.
export async function callbackReceiver() {
  const received = [];
  let wake = null;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      const params = {};
      for (const [k, v] of new URLSearchParams(body)) params[k] = v;
      received.push({
        url: `http://${req.headers.host}${req.url}`,
        signature: req.headers['x-twilio-signature'],
        hqSignature: req.headers['x-hq-signature'],
        params,
      });
      res.end('ok');
      if (wake) wake();
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/callbacks/video?clinic=north`,
    received,
    // The first callback matching @pred received so far or later.
    async until(pred, what, ms = WAIT_MS) {
      const deadline = Date.now() + ms;
      for (;;) {
        const hit = received.find(pred);
        if (hit) return hit;
        if (Date.now() > deadline) throw new Error(`timed out waiting for callback ${what}`);
        await new Promise((resolve) => {
          wake = resolve;
          setTimeout(resolve, 200);
        });
      }
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

function toolEnv(extra) {
  const env = { ...process.env, ...extra };
  if (process.env.HQ_TEST_GST_PRELOAD) {
    env.LD_PRELOAD = process.env.HQ_TEST_GST_PRELOAD;
    env.ASAN_OPTIONS = 'detect_leaks=0';
  }
  return env;
}

export function haveElements(...names) {
  return names.every((n) => spawnSync('gst-inspect-1.0', [n], { env: toolEnv({}) }).status === 0);
}

// A gst-launch-1.0 publisher of test audio (and video) into @room.
export function publish(serverUrl, room, identity, token, { video = true } = {}) {
  const args = ['-q', 'hqroomsink', 'name=room', `server=${serverUrl}`, `room=${room}`,
    `identity=${identity}`,
    'audiotestsrc', 'is-live=true', 'wave=ticks', '!', 'room.audio_0'];
  if (video)
    args.push('videotestsrc', 'is-live=true', 'pattern=ball', '!',
      'video/x-raw,width=320,height=240,framerate=15/1', '!', 'room.video_0');
  const proc = spawn('gst-launch-1.0', args, {
    env: toolEnv({ HQ_ACCESS_TOKEN: token }), stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  proc.stderr.on('data', (d) => { log += d; });
  proc.exited = new Promise((resolve) => proc.on('exit', (code) => resolve(code)));
  proc.log = () => log;
  return proc;
}

// gst-discoverer-1.0's output for a file.
export function discover(file) {
  return spawnSync('gst-discoverer-1.0', [file], { env: toolEnv({}), encoding: 'utf8', timeout: 60000 }).stdout;
}

export async function waitFor(what, fn, ms = WAIT_MS) {
  const deadline = Date.now() + ms;
  for (;;) {
    const got = await fn();
    if (got) return got;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
