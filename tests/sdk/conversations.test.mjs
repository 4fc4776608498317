// @hqrooms/conversations against a real hq-server and headless Chromium:
// pages load /sdk/conversations.js (and /sdk/video.js) from the server
// that served them, and the test drives them with code written only
// against @twilio/conversations' (and twilio-video's) API.  Tokens come
// from POST /token with the reference app's fields.  Suite `sdk`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';
import { startServer, CHROMIUM, CHROMIUM_ARGS, waitInPage } from '../browser/hqserver.mjs';

const HERE = path.dirname(new URL(import.meta.url).pathname);
// Small limits, so that the tests can cross them: 100000-byte
// attachments, links that work for 2 s.
const MAX_SIZE = 100000;
const URL_TTL_S = 2;
let browser;
let server;
let site;

// The chat app where hq-server's web client stands, the SDKs next to it.
function testSite() {
  const dir = mkdtempSync(path.join(tmpdir(), 'hq-conv-site-'));
  cpSync(path.join(HERE, 'chat-app'), path.join(dir, 'web'), { recursive: true });
  mkdirSync(path.join(dir, 'sdk', 'js'), { recursive: true });
  for (const pkg of ['video', 'conversations']) {
    symlinkSync(path.resolve(HERE, '..', '..', 'sdk', 'js', pkg), path.join(dir, 'sdk', 'js', pkg));
  }
  return dir;
}

before(async () => {
  site = testSite();
  server = await startServer({
    HQ_WEB_DIR: path.join(site, 'web'),
    HQ_CHAT_MEDIA_MAX_SIZE: String(MAX_SIZE),
    HQ_CHAT_MEDIA_URL_TTL: String(URL_TTL_S),
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});

after(async () => {
  await browser?.close();
  if (server) assert.equal(await server.stop(), 0, server.log());
  if (site) rmSync(site, { recursive: true, force: true });
});

// The reference app's token request: its fields, the server's passcode.
async function guestToken(name, room, createRoom = true, srv = server) {
  const res = await fetch(`${srv.url}/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ user_identity: name, room_name: room, create_room: createRoom,
      create_conversation: true, passcode: srv.credentials().passcode }),
  });
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  return body;
}

// A token as the reference app's token server mints it with twilio-node
// (a VideoGrant for the room and a ChatGrant), signed with the server's key.
function twilioNodeToken(identity, room) {
  const { jwt } = createRequire(import.meta.url)('twilio');
  const creds = server.credentials();
  const token = new jwt.AccessToken(creds.account_sid, creds.key_sid, creds.key_secret, { identity, ttl: 3600 });
  token.addGrant(new jwt.AccessToken.VideoGrant({ room }));
  token.addGrant(new jwt.AccessToken.ChatGrant({ serviceSid: 'IS' + '0'.repeat(32) }));
  return { token: token.toJwt(), identity };
}

async function roomSid(name) {
  const res = await server.rest('GET', `/v1/Rooms/${encodeURIComponent(name)}`);
  assert.equal(res.status, 200);
  return (await res.json()).sid;
}

async function auditEvents(sid) {
  const res = await server.rest('GET', `/v1/Rooms/${sid}/Events?PageSize=1000`);
  assert.equal(res.status, 200);
  return (await res.json()).events;
}

// A page of the chat app; `describe` turns a Message into plain data.
async function appPage(label, base = server.url) {
  const page = await browser.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(String(e)));
  await page.goto(`${base}/`);
  await waitInPage(page, () => window.appReady === true, undefined, 30000, `${label}: the app to load`);
  await page.evaluate(() => {
    window.describe = (m) => ({
      index: m.index, sid: m.sid, author: m.author, body: m.body, type: m.type,
      date: m.dateCreated instanceof Date ? m.dateCreated.toISOString() : null,
      media: (m.attachedMedia || []).map((x) => ({ sid: x.sid, filename: x.filename, contentType: x.contentType, size: x.size })),
    });
  });
  return { page, problems, label };
}

// A chat client in `room` as the reference app makes one: `new Client`
// and stateChanged, or 1.x's Client.create.
function joinChat(p, token, room, how = 'constructor') {
  return p.page.evaluate(async ([t, r, h]) => {
    const { Client } = window.Conversations;
    window.states = [];
    window.connectionStates = [];
    let client;
    if (h === 'create') {
      client = await Client.create(t);
    } else {
      client = new Client(t);
      client.on('connectionStateChanged', (s) => window.connectionStates.push(s));
      await new Promise((resolve, reject) => client.on('stateChanged', (s) => {
        window.states.push(s);
        if (s === 'initialized') resolve();
        else reject(new Error(s));
      }));
    }
    const conversation = await client.getConversationByUniqueName(r);
    window.client = client;
    window.conversation = conversation;
    window.received = [];
    conversation.on('messageAdded', (m) => window.received.push(window.describe(m)));
    return { sid: conversation.sid, uniqueName: conversation.uniqueName, states: window.states,
      connectionState: client.connectionState };
  }, [token, room, how]);
}

const waitReceived = (p, match, what) => waitInPage(p.page, (m) => window.received.find(
  (e) => Object.entries(m).every(([k, v]) => e[k] === v)), match, 30000, `${p.label}: ${what}`);

// A PDF of @n bytes with binary inside, as a person would attach one.
function pdfBytes(n) {
  const head = Buffer.from('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <</Length 0>> stream\n', 'latin1');
  const tail = Buffer.from('\nendstream endobj\n%%EOF\n', 'latin1');
  return Buffer.concat([head, randomBytes(n - head.length - tail.length), tail]);
}

const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');

// Sends a file the way the reference app does: a FormData with the file.
function sendFile(p, bytes, name, type) {
  return p.page.evaluate(async ([data, n, t]) => {
    const form = new FormData();
    form.append('userfile', new File([new Uint8Array(data)], n, { type: t }));
    try {
      return { index: await window.conversation.sendMessage(form) };
    } catch (err) {
      return { error: { message: err.message, code: err.code } };
    }
  }, [[...bytes], name, type]);
}

// Downloads attachment @sid of the message at @index through
// getContentTemporaryUrl; returns the bytes' SHA-256 and the URL.
function download(p, index) {
  return p.page.evaluate(async (i) => {
    const page = await window.conversation.getMessages(1, i);
    const media = page.items[0].attachedMedia[0];
    const url = await media.getContentTemporaryUrl();
    const res = await fetch(url);
    const buf = await res.arrayBuffer();
    const hash = await crypto.subtle.digest('SHA-256', buf);
    return { url, status: res.status, type: res.headers.get('content-type'),
      sha256: [...new Uint8Array(hash)].map((b) => b.toString(16).padStart(2, '0')).join('') };
  }, index);
}

test('two clients send and receive text and a PDF, and the history is there after a reload, paged', async () => {
  const a = await appPage('ana');
  const b = await appPage('ben');
  const ta = await guestToken('Ana', 'conv-two');
  // Ben's token comes from a back end with Twilio's own helper library.
  const tb = twilioNodeToken('ben', 'conv-two');
  const sid = await roomSid('conv-two');

  // The reference app asks for the conversation by the room's sid; the
  // room's name finds the same one.
  const ja = await joinChat(a, ta.token, sid);
  assert.deepEqual(ja, { sid, uniqueName: 'conv-two', states: ['initialized'], connectionState: 'connected' });
  assert.deepEqual(await a.page.evaluate(() => window.connectionStates), ['connected']);
  const jb = await joinChat(b, tb.token, 'conv-two', 'create');
  assert.equal(jb.sid, sid);

  assert.equal(await a.page.evaluate(() => window.conversation.sendMessage('Hello Ben')), 1);
  const hello = await waitReceived(b, { index: 1 }, 'ana\'s hello');
  assert.equal(hello.author, ta.identity);
  assert.equal(hello.body, 'Hello Ben');
  assert.equal(hello.type, 'text');
  assert.match(hello.sid, /^IM[0-9a-f]{32}$/);
  assert.ok(Math.abs(Date.parse(hello.date) - Date.now()) < 10 * 60 * 1000, hello.date);
  assert.deepEqual(hello.media, []);
  // The sender hears its own message too, as with Twilio.
  await waitReceived(a, { index: 1, body: 'Hello Ben' }, 'her own hello');
  assert.equal(await b.page.evaluate(() => window.conversation.sendMessage('Hi Ana')), 2);
  await waitReceived(a, { index: 2, author: tb.identity, body: 'Hi Ana' }, 'ben\'s answer');

  const pdf = pdfBytes(20000);
  assert.deepEqual(await sendFile(a, pdf, 'report.pdf', 'application/pdf'), { index: 3 });
  const file = await waitReceived(b, { index: 3 }, 'the PDF');
  assert.equal(file.type, 'media');
  assert.equal(file.body, null);
  assert.equal(file.author, ta.identity);
  assert.equal(file.media.length, 1);
  assert.equal(file.media[0].filename, 'report.pdf');
  assert.equal(file.media[0].contentType, 'application/pdf');
  assert.equal(file.media[0].size, pdf.length);
  assert.match(file.media[0].sid, /^ME[0-9a-f]{32}$/);
  const got = await download(b, 3);
  assert.equal(got.status, 200);
  assert.equal(got.type, 'application/pdf');
  assert.equal(got.sha256, sha256(pdf), 'the bytes ben downloaded are the bytes ana sent');

  for (let i = 1; i <= 30; i++) {
    assert.equal(await a.page.evaluate((n) => window.conversation.sendMessage(`note ${n}`), i), 3 + i);
  }
  await waitReceived(b, { index: 33, body: 'note 30' }, 'the last note');

  // Ben reloads: a new client, the history in pages of 20, newest first.
  await b.page.reload();
  await waitInPage(b.page, () => window.appReady === true, undefined, 30000, 'the app after the reload');
  await b.page.evaluate(() => { window.describe = (m) => ({ index: m.index, author: m.author, body: m.body, type: m.type,
    media: (m.attachedMedia || []).map((x) => ({ filename: x.filename, contentType: x.contentType, size: x.size })) }); });
  const pages = await b.page.evaluate(async ([t, r]) => {
    const client = await window.Conversations.Client.create(t);
    window.conversation = await client.getConversationBySid(r);
    const out = [];
    let page = await window.conversation.getMessages(20);
    out.unshift({ items: page.items.map(window.describe), hasPrevPage: page.hasPrevPage, hasNextPage: page.hasNextPage });
    while (page.hasPrevPage) {
      page = await page.prevPage();
      out.unshift({ items: page.items.map(window.describe), hasPrevPage: page.hasPrevPage, hasNextPage: page.hasNextPage });
    }
    return out;
  }, [tb.token, sid]);
  assert.deepEqual(pages.map((pg) => pg.items.length), [13, 20]);
  assert.deepEqual(pages.map((pg) => [pg.hasPrevPage, pg.hasNextPage]), [[false, true], [true, false]]);
  const all = pages.flatMap((pg) => pg.items);
  assert.deepEqual(all.map((m) => m.index), Array.from({ length: 33 }, (_, i) => i + 1));
  assert.deepEqual(all.slice(0, 2).map((m) => [m.author, m.body]), [[ta.identity, 'Hello Ben'], [tb.identity, 'Hi Ana']]);
  assert.deepEqual(all[2], { index: 3, author: ta.identity, body: null, type: 'media',
    media: [{ filename: 'report.pdf', contentType: 'application/pdf', size: pdf.length }] });
  assert.deepEqual(all.slice(3).map((m) => m.body), Array.from({ length: 30 }, (_, i) => `note ${i + 1}`));
  // And the attachment still downloads after the reload.
  assert.equal((await download(b, 3)).sha256, sha256(pdf));

  // Each upload and download is in the room's audit log.
  const events = await auditEvents(sid);
  const uploads = events.filter((e) => e.event === 'chat-media-uploaded');
  const downloads = events.filter((e) => e.event === 'chat-media-downloaded');
  assert.equal(uploads.length, 1);
  assert.equal(uploads[0].participant_identity, ta.identity);
  assert.deepEqual(uploads[0].detail, { media_sid: file.media[0].sid, content_type: 'application/pdf', size: pdf.length });
  assert.equal(downloads.length, 2);
  assert.ok(downloads.every((e) => e.detail.media_sid === file.media[0].sid && e.detail.status === 200));
  for (const p of [a, b]) assert.deepEqual(p.problems, []);
  await a.page.close();
  await b.page.close();
});

test('an oversize file and a forbidden type each get an error a person understands, and nothing is sent', async () => {
  const a = await appPage('ana');
  const b = await appPage('ben');
  const ta = await guestToken('Ana', 'conv-limits');
  const tb = await guestToken('Ben', 'conv-limits');
  await joinChat(a, ta.token, 'conv-limits');
  await joinChat(b, tb.token, 'conv-limits');
  // What the server takes, known before any file is picked.
  assert.deepEqual(await a.page.evaluate(() => window.conversation.hqMediaLimits), {
    maxSize: MAX_SIZE,
    types: ['application/pdf', 'image/jpeg', 'image/png', 'image/gif', 'image/webp', 'text/plain'],
  });

  const big = await sendFile(a, pdfBytes(150000), 'scan.pdf', 'application/pdf');
  assert.equal(big.error?.code, 413, JSON.stringify(big));
  assert.equal(big.error.message, '"scan.pdf" is 146 KB; files may be at most 98 KB here.');
  const exe = await sendFile(a, Buffer.from('MZ not really a program'), 'setup.exe', 'application/x-msdownload');
  assert.equal(exe.error?.code, 415, JSON.stringify(exe));
  assert.equal(exe.error.message, 'Files of type application/x-msdownload cannot be attached here; the server '
    + 'takes: application/pdf, image/jpeg, image/png, image/gif, image/webp, text/plain.');
  // Neither reached ben: the next message is the first he gets.
  assert.equal(await a.page.evaluate(() => window.conversation.sendMessage('after the refusals')), 1);
  await waitReceived(b, { index: 1, body: 'after the refusals' }, 'the text after the refusals');
  assert.equal(await b.page.evaluate(() => window.received.length), 1);
  const sid = await roomSid('conv-limits');
  assert.deepEqual((await auditEvents(sid)).filter((e) => e.event.startsWith('chat-media')), []);

  // The server refuses what the SDK would not send: a body over the
  // limit, before reading it.
  const reply = await new Promise((resolve, reject) => {
    const sock = net.connect(new URL(server.url).port, '127.0.0.1');
    let text = '';
    sock.on('data', (d) => { text += d; });
    sock.on('end', () => resolve(text));
    sock.on('error', reject);
    sock.write(`POST /v1/ChatMedia?Room=${sid} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ta.token}\r\n`
      + `Content-Type: application/pdf\r\nContent-Length: ${MAX_SIZE + 1}\r\n\r\n`);
  });
  assert.match(reply, /^HTTP\/1\.1 413 /);
  assert.match(reply, /attachments may be at most 100000 bytes \(0\.1 MiB\) on this server/);
  await a.page.close();
  await b.page.close();
});

test('a chat-only client is no participant: not listed, not announced, takes no slot', async () => {
  // A room for two participants; three chat clients are in its chat.
  const made = await server.rest('POST', '/v1/Rooms', { UniqueName: 'conv-call', MaxParticipants: 2 });
  assert.equal(made.status, 201);
  const sid = (await made.json()).sid;
  const chats = [];
  for (const name of ['Ana', 'Ben', 'Cleo']) {
    const p = await appPage(name);
    await joinChat(p, (await guestToken(name, 'conv-call')).token, sid);
    chats.push(p);
  }
  const videoPage = async (label, name) => {
    const p = await appPage(label);
    const t = await guestToken(name, 'conv-call');
    const result = await p.page.evaluate(async (token) => {
      window.events = [];
      try {
        const room = await window.Video.connect(token, { name: 'conv-call', tracks: [] });
        window.room = room;
        room.on('participantConnected', (x) => window.events.push(['participantConnected', x.identity]));
        room.on('participantDisconnected', (x) => window.events.push(['participantDisconnected', x.identity]));
        return { participants: [...room.participants.values()].map((x) => x.identity) };
      } catch (err) {
        return { error: { code: err.code, message: err.message } };
      }
    }, t.token);
    return { ...p, identity: t.identity, result };
  };
  const dan = await videoPage('dan', 'Dan');
  assert.deepEqual(dan.result, { participants: [] }, 'the chat clients are not participants');
  // One more chat client while dan is in the call: he hears nothing.
  const late = await appPage('Finn');
  await joinChat(late, (await guestToken('Finn', 'conv-call')).token, sid);
  chats.push(late);
  const eve = await videoPage('eve', 'Eve');
  assert.deepEqual(eve.result, { participants: [dan.identity] });
  await waitInPage(dan.page, () => window.events.length > 0, undefined, 30000, 'dan: eve connecting');
  // The third participant finds the room full: chat clients took no slot,
  // participants do.
  const gus = await videoPage('gus', 'Gus');
  assert.equal(gus.result.error?.code, 53105, JSON.stringify(gus.result));
  assert.deepEqual(await dan.page.evaluate(() => window.events), [['participantConnected', eve.identity]]);
  assert.deepEqual(await dan.page.evaluate(() => [...window.room.participants.values()].map((x) => x.identity)), [eve.identity]);
  const listed = await (await server.rest('GET', `/v1/Rooms/${sid}/Participants?Status=connected`)).json();
  assert.deepEqual(listed.participants.map((x) => x.identity).sort(), [dan.identity, eve.identity].sort());

  // The chat goes on around the call.
  assert.equal(await chats[0].page.evaluate(() => window.conversation.sendMessage('the call has started')), 1);
  for (const p of chats.slice(1)) await waitReceived(p, { index: 1, body: 'the call has started' }, 'the message');
  for (const p of [...chats, dan, eve, gus]) await p.page.close();
});

test('an expired temporary URL is refused, and a forged one too', async () => {
  const a = await appPage('ana');
  const ta = await guestToken('Ana', 'conv-expiry');
  await joinChat(a, ta.token, 'conv-expiry');
  assert.deepEqual(await sendFile(a, Buffer.from('just a note\n'), 'note.txt', 'text/plain'), { index: 1 });
  const url = await a.page.evaluate(async () => {
    const page = await window.conversation.getMessages(1);
    return page.items[0].attachedMedia[0].getContentTemporaryUrl();
  });
  const forged = url.replace(/Signature=([0-9a-f])/, (m, c) => `Signature=${c === '0' ? '1' : '0'}`);
  const forgedRes = await fetch(forged);
  assert.equal(forgedRes.status, 403);
  assert.match((await forgedRes.json()).error.explanation, /not one the server made/);
  // Waits (polling, with a deadline) for the link's few seconds to pass.
  const deadline = Date.now() + 30000;
  let res;
  for (;;) {
    res = await fetch(url);
    if (res.status !== 200 || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.equal(res.status, 403);
  assert.equal((await res.json()).error.explanation,
    'This link to a chat attachment has expired: ask for a new one (Media.getContentTemporaryUrl()).');
  // A new one works again.
  const again = await a.page.evaluate(async () => {
    const page = await window.conversation.getMessages(1);
    const res = await fetch(await page.items[0].attachedMedia[0].getContentTemporaryUrl());
    return [res.status, await res.text()];
  });
  assert.deepEqual(again, [200, 'just a note\n']);
  await a.page.close();
});

test('a refused token fails the client, and an unknown room is a clear error', async () => {
  const a = await appPage('ana');
  const good = await guestToken('Ana', 'conv-errors');
  const bad = good.token.slice(0, -2) + (good.token.endsWith('AA') ? 'BB' : 'AA');
  const refused = await a.page.evaluate(async (t) => {
    const { Client } = window.Conversations;
    const client = new Client(t);
    const seen = [];
    client.on('connectionStateChanged', (s) => seen.push(['connectionStateChanged', s]));
    const state = await new Promise((resolve) => client.on('stateChanged', resolve));
    let created;
    try {
      await Client.create(t);
    } catch (err) {
      created = { name: err.name, code: err.code, message: err.message };
    }
    return { state, seen, connectionState: client.connectionState, created };
  }, bad);
  assert.equal(refused.state, 'failed');
  assert.deepEqual(refused.seen, [['connectionStateChanged', 'denied']]);
  assert.equal(refused.connectionState, 'denied');
  assert.equal(refused.created.code, 20101);
  assert.match(refused.created.message, /^The access token was refused \(bad_signature\)/);
  const lookup = (t, room) => a.page.evaluate(async ([token, r]) => {
    const client = await window.Conversations.Client.create(token);
    try {
      await client.getConversationByUniqueName(r);
      return null;
    } catch (err) {
      return { code: err.code, message: err.message };
    } finally {
      await client.shutdown();
    }
  }, [t, room]);
  // A room nobody made (the token server was asked not to create it).
  assert.deepEqual(await lookup((await guestToken('Ana', 'conv-ghost', false)).token, 'conv-ghost'),
    { code: 20404, message: 'There is no room "conv-ghost" in progress.' });
  // A token for one room never learns whether another exists.
  assert.deepEqual(await lookup(good.token, 'conv-ghost'),
    { code: 20403, message: 'The token admits to room "conv-errors", not to "conv-ghost".' });
  await a.page.close();
});

test('after a server restart the clients come back by themselves and the chat goes on', async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'hq-conv-restart-'));
  const env = { HQ_WEB_DIR: path.join(site, 'web') };
  let srv = await startServer(env, { dataDir });
  const listen = new URL(srv.url).host;
  const pages = [];
  try {
    const a = await appPage('ana', srv.url);
    const b = await appPage('ben', srv.url);
    pages.push(a, b);
    const ta = await guestToken('Ana', 'conv-restart', true, srv);
    const tb = await guestToken('Ben', 'conv-restart', true, srv);
    await joinChat(a, ta.token, 'conv-restart');
    await joinChat(b, tb.token, 'conv-restart');
    assert.equal(await a.page.evaluate(() => window.conversation.sendMessage('before')), 1);
    await waitReceived(b, { index: 1, body: 'before' }, 'the message before the restart');

    assert.equal(await srv.stop(), 0);
    for (const p of pages) {
      await waitInPage(p.page, () => window.connectionStates.includes('connecting'), undefined, 30000,
        `${p.label}: connecting`);
    }
    srv = await startServer(env, { dataDir, listen });
    for (const p of pages) {
      await waitInPage(p.page, () => window.connectionStates.at(-1) === 'connected'
        && window.connectionStates.length >= 3, undefined, 30000, `${p.label}: connected again`);
    }
    // The conversation rejoins on its own: ben's send works once it has
    // (a request while it is down fails with 53001), and ana gets it.
    const sent = await b.page.evaluate(async () => {
      const deadline = Date.now() + 30000;
      for (;;) {
        try {
          return await window.conversation.sendMessage('after');
        } catch (err) {
          if (err.code !== 53001 || Date.now() > deadline) return { code: err.code, message: err.message };
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    });
    assert.equal(sent, 2);
    await waitReceived(a, { index: 2, body: 'after', author: tb.identity }, 'the message after the restart');
    assert.deepEqual(await a.page.evaluate(() => window.connectionStates), ['connected', 'connecting', 'connected']);
    for (const p of pages) assert.deepEqual(p.problems, []);
  } finally {
    for (const p of pages) await p.page.close();
    if (srv) await srv.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
