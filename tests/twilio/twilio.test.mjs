// A Twilio Video customer's back-end, written against the official
// `twilio` npm package, run unchanged against hq-server: only the host of
// each request is rewritten (helpers.mjs).  Suite `twilio`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { startServer } from '../browser/hqserver.mjs';
import {
  credentials, client, twilio, callbackReceiver, haveElements, publish, discover, waitFor,
} from './helpers.mjs';

let srv, creds, tw;

before(async () => {
  srv = await startServer({ HQ_CALLBACK_RETRY_MS: '50' });
  creds = credentials(srv.dataDir);
  tw = client(srv.url, creds);
});

after(async () => {
  assert.equal(await srv.stop(), 0, srv.log());
});

// Every refusal reads through err.status, err.code and err.message.
async function rejects(promise, status, code, words) {
  const err = await promise.then(() => null, (e) => e);
  assert.ok(err, 'the call should have failed');
  assert.equal(err.status, status, err.message);
  assert.equal(err.code, code, err.message);
  assert.match(err.message, words);
  assert.match(err.moreInfo, /^https:\/\//);
}

// A request through the SDK's own request client (what a back-end does
// for what the SDK has no method for), failing as the SDK's calls do.
function raw(method, pathname, data) {
  const headers = data ? { 'Content-Type': 'application/x-www-form-urlencoded' } : undefined;
  return tw.request({ method, uri: `${srv.url}${pathname}`, data, headers })
    .then((r) => {
      if (r.statusCode >= 400) throw new twilio.RestException(r);
      return r;
    });
}

test('errors read through err.code and err.message', async () => {
  await rejects(tw.video.v1.rooms('RM00000000000000000000000000000000').fetch(),
    404, 20404, /no room|There is/i);
  await rejects(tw.video.v1.rooms.create({ type: 'no-such-type' }), 400, 20001, /type/i);
  await tw.video.v1.rooms.create({ uniqueName: 'taken' });
  await rejects(tw.video.v1.rooms.create({ uniqueName: 'taken' }), 409, 53113, /in progress/);
  const wrong = client(srv.url, { ...creds, key_secret: 'x'.repeat(32) });
  await rejects(wrong.video.v1.rooms.list(), 401, 20003, /secret is wrong/);
  const stranger = client(srv.url, { ...creds, key_sid: `SK${'0'.repeat(32)}` });
  await rejects(stranger.video.v1.recordings.list(), 401, 20003, /sid or secret is wrong/);
  await rejects(raw('DELETE', '/v1/Rooms'), 405, 20004, /GET|POST/);
  await rejects(raw('GET', '/v1/Nowhere'), 404, 20404, /Nowhere/);
  await rejects(raw('GET', '/v1/Compositions/CJ00000000000000000000000000000000'), 404, 20404,
    /no composition|There is/i);
  await rejects(raw('POST', '/v1/Rooms', { UniqueName: 'x'.repeat(70000) }), 413, 20413,
    /at most 65536/);
  await rejects(tw.video.v1.compositions.create({ roomSid: 'RM00000000000000000000000000000000',
    audioSources: ['*'], trim: false }), 400, 20001, /Trim=false is not served/);
});

test('too many connections: 429 with Twilio\'s error body', async () => {
  const limited = await startServer({ HQ_CONNECTIONS_PER_IP: '1' });
  const net = await import('node:net');
  const held = net.connect(new URL(limited.url).port, '127.0.0.1');
  try {
    await new Promise((resolve, reject) => { held.on('connect', resolve); held.on('error', reject); });
    // The server counts the connection once it has accepted it.
    const http = await import('node:http');
    await waitFor('the held connection counted', () => new Promise((resolve) => {
      http.get(`${limited.url}/healthz`, { agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode === 429);
      }).on('error', () => resolve(false));
    }));
    const c = client(limited.url, credentials(limited.dataDir));
    await rejects(c.video.v1.rooms.list(), 429, 20429, /connections open, the most allowed/);
  } finally {
    held.destroy();
    assert.equal(await limited.stop(), 0, limited.log());
  }
});

test('a configured key without an auth token still signs callbacks', async () => {
  const key = {
    account_sid: `AC${'1'.repeat(32)}`, key_sid: `SK${'2'.repeat(32)}`, key_secret: 's'.repeat(32),
  };
  const env = { HQ_ACCOUNT_SID: key.account_sid, HQ_API_KEY_SID: key.key_sid,
    HQ_API_KEY_SECRET: key.key_secret };
  for (const own of [null, 'f'.repeat(32)]) {
    const other = await startServer(own ? { ...env, HQ_AUTH_TOKEN: own } : env);
    const hook = await callbackReceiver();
    try {
      const c = client(other.url, key);
      await c.video.v1.rooms.create({ uniqueName: 'signed', statusCallback: hook.url });
      const cb = await hook.until((x) => x.params.StatusCallbackEvent === 'room-created', 'room-created');
      assert.ok(cb.signature, 'no X-Twilio-Signature');
      // The token the server made for this account, kept in
      // credentials.conf (or the one configured).
      const made = credentials(other.dataDir)[key.account_sid];
      assert.equal(made === undefined, own !== null);
      assert.ok(twilio.validateRequest(own ?? made, cb.signature, cb.url, cb.params));
      assert.match(own ?? made, /^[0-9a-f]{32}$/);
    } finally {
      await hook.close();
      assert.equal(await other.stop(), 0, other.log());
    }
  }
});

test('pages: next_page_url carries a PageToken; the SDK follows it', async () => {
  const made = [];
  for (const n of ['page-a', 'page-b', 'page-c'])
    made.push((await tw.video.v1.rooms.create({ uniqueName: n })).sid);
  const first = await tw.video.v1.rooms.page({ pageSize: 1, uniqueName: 'page-b' });
  assert.deepEqual(first.instances.map((r) => r.sid), [made[1]]);
  assert.equal(first.nextPageUrl, undefined);
  const p0 = await tw.video.v1.rooms.page({ pageSize: 2, status: 'in-progress' });
  assert.match(p0.nextPageUrl, /[?&]PageToken=PT2(&|$)/);
  assert.match(p0.nextPageUrl, /[?&]Status=in-progress(&|$)/);
  const p1 = await p0.nextPage();
  assert.equal(p1.instances.length, 2);
  assert.ok(p1.instances.every((r) => !p0.instances.some((q) => q.sid === r.sid)));
  assert.match(p1.previousPageUrl, /[?&]Page=0&/);
  // A back-end that kept the token asks for the same page again.
  const again = await tw.video.v1.rooms.page({ pageSize: 2, pageNumber: 1, pageToken: 'PT2',
    status: 'in-progress' });
  assert.deepEqual(again.instances.map((r) => r.sid), p1.instances.map((r) => r.sid));
  await rejects(tw.video.v1.rooms.page({ pageSize: 2, pageNumber: 3, pageToken: 'PT2' }),
    400, 20001, /PageToken PT2 does not go with Page 3/);
  await rejects(tw.video.v1.rooms.page({ pageToken: 'PAgarbage' }), 400, 20001,
    /PageToken PAgarbage is not one this server made/);
  // Every room, one per page, through the tokens.
  const all = await tw.video.v1.rooms.list({ pageSize: 1, status: 'in-progress' });
  for (const sid of made) assert.ok(all.some((r) => r.sid === sid), sid);
});

test('a room keeps what it was created with, as Twilio shows it', async () => {
  const hook = await callbackReceiver();
  try {
    const room = await tw.video.v1.rooms.create({
      uniqueName: 'params', type: 'group-small', statusCallback: hook.url,
      statusCallbackMethod: 'POST', maxParticipants: 4, emptyRoomTimeout: 3,
      unusedRoomTimeout: 2, maxParticipantDuration: 600, recordParticipantsOnConnect: true,
      enableTurn: true, mediaRegion: 'gll', videoCodecs: 'VP8',
    });
    const got = await tw.video.v1.rooms('params').fetch();
    assert.equal(got.sid, room.sid);
    assert.equal((await tw.video.v1.rooms(room.sid).fetch()).uniqueName, 'params');
    assert.equal(got.type, 'group-small');
    assert.equal(got.maxParticipants, 4);
    assert.equal(got.emptyRoomTimeout, 3);
    assert.equal(got.unusedRoomTimeout, 2);
    assert.equal(got.maxParticipantDuration, 600);
    assert.equal(got.recordParticipantsOnConnect, true);
    assert.equal(got.statusCallback, hook.url);
    assert.equal(got.statusCallbackMethod, 'POST');
    assert.equal(got.maxConcurrentPublishedTracks, null);
    assert.equal(got.url, `${srv.url}/v1/Rooms/${room.sid}`);
    assert.equal(got.links.participants, `${got.url}/Participants`);
    assert.equal(got.links.recordings, `${got.url}/Recordings`);
    assert.equal(got.links.recording_rules, `${got.url}/RecordingRules`);
    const created = await hook.until((c) => c.params.StatusCallbackEvent === 'room-created'
      && c.params.RoomSid === room.sid, 'room-created');
    assert.equal(created.params.RoomName, 'params');
    assert.equal(created.params.RoomType, 'group-small');
    assert.equal(created.params.AccountSid, creds.account_sid);
    assert.ok(twilio.validateRequest(creds.auth_token, created.signature, created.url,
      created.params));
    await rejects(tw.video.v1.rooms.create({ statusCallbackMethod: 'GET' }), 400, 20001,
      /StatusCallbackMethod must be POST/);
    await rejects(tw.video.v1.rooms.create({ enableTurn: false }), 400, 20001, /EnableTurn/);
    await rejects(tw.video.v1.rooms.create({ largeRoom: true }), 400, 20001, /LargeRoom/);
    await rejects(tw.video.v1.rooms.create({ videoCodecs: ['VP9'] }), 400, 20001, /VideoCodecs/);
  } finally {
    await hook.close();
  }
});

test('filters: honoured, or refused with a 400 that names them', async () => {
  const a = await tw.video.v1.rooms.create({ uniqueName: 'filter-a', type: 'group' });
  const rooms = await tw.video.v1.rooms.list({ uniqueName: 'filter-a' });
  assert.deepEqual(rooms.map((r) => r.sid), [a.sid]);
  const future = new Date(Date.now() + 3600e3);
  assert.deepEqual(await tw.video.v1.rooms.list({ dateCreatedAfter: future }), []);
  const before = await tw.video.v1.rooms.list({ dateCreatedBefore: future, status: 'in-progress' });
  assert.ok(before.some((r) => r.sid === a.sid));
  await rejects(tw.video.v1.rooms.list({ status: 'sleeping' }), 400, 20001, /Status must be one of/);
  await rejects(tw.request({ method: 'GET', uri: `${srv.url}/v1/Rooms?Colour=blue` })
    .then((r) => { if (r.statusCode >= 400) throw new twilio.RestException(r); }),
  400, 20001, /Colour is not a filter/);
  await rejects(tw.video.v1.recordings.list({ mediaType: 'smell' }), 400, 20001, /MediaType/);
  assert.deepEqual(await tw.video.v1.compositions.list({ dateCreatedAfter: new Date() }), []);
  await rejects(raw('GET', '/v1/Compositions?DateCreatedAfter=yesterday'), 400, 20001,
    /DateCreatedAfter must be an ISO 8601/);
  await rejects(raw('GET', '/v1/Recordings?DateCreatedBefore=soon'), 400, 20001,
    /DateCreatedBefore must be an ISO 8601/);
  await rejects(tw.video.v1.rooms.create({ audioOnly: true }), 400, 20001, /AudioOnly/);
  await rejects(tw.video.v1.rooms.create({ mediaRegion: 'de1' }), 400, 20001, /MediaRegion/);
  const room = await tw.video.v1.rooms.create({ videoCodecs: ['VP8', 'H264'] });
  assert.deepEqual(room.videoCodecs, ['VP8', 'H264']);
  assert.equal(room.accountSid, creds.account_sid);
  assert.equal(room.mediaRegion, 'gll');
  assert.equal(room.audioOnly, false);
  assert.equal(room.largeRoom, false);
  assert.equal(room.enableTurn, true);
  assert.match(room.links.recordings, /\/Recordings$/);
});

const MEDIA = haveElements('hqroomsink', 'hqroomsrc', 'hqrecorder');

function token(identity, room, alg) {
  const { AccessToken } = twilio.jwt;
  const t = new AccessToken(creds.account_sid, creds.key_sid, creds.key_secret,
    { identity, ttl: 600 });
  t.addGrant(new AccessToken.VideoGrant({ room }));
  return t.toJwt(alg);
}

test('a consultation back-end, end to end', { skip: !MEDIA && 'the hqrooms elements are not built' }, async () => {
  const hook = await callbackReceiver();
  const pubs = [];
  try {
    const room = await tw.video.v1.rooms.create({
      uniqueName: 'consult-1', type: 'group', statusCallback: hook.url,
      recordingRules: { rules: [{ type: 'include', kind: 'audio' }] },
    });
    assert.equal(room.status, 'in-progress');
    assert.deepEqual((await tw.video.v1.rooms(room.sid).recordingRules.fetch()).rules
      .map((r) => ({ type: r.type, kind: r.kind })), [{ type: 'include', kind: 'audio' }]);

    // Tokens minted by twilio-node, HS256 and HS384.
    pubs.push(publish(srv.url, 'consult-1', 'dr-ana', token('dr-ana', 'consult-1')));
    pubs.push(publish(srv.url, 'consult-1', 'pat-bo', token('pat-bo', 'consult-1', 'HS384')));
    const parts = await waitFor('both participants', async () => {
      const got = await tw.video.v1.rooms(room.sid).participants.list({ status: 'connected' });
      return got.length === 2 && got;
    });
    assert.deepEqual(parts.map((p) => p.identity).sort(), ['dr-ana', 'pat-bo']);
    const ana = await tw.video.v1.rooms(room.sid).participants('dr-ana').fetch();
    assert.equal(ana.identity, 'dr-ana');
    assert.equal(ana.accountSid, creds.account_sid);
    assert.deepEqual((await tw.video.v1.rooms(room.sid).participants.list({ identity: 'dr-ana' }))
      .map((p) => p.sid), [ana.sid]);
    assert.deepEqual(await tw.video.v1.rooms(room.sid).participants
      .list({ dateCreatedAfter: new Date(Date.now() + 3600e3) }), []);
    assert.deepEqual((await tw.video.v1.rooms(room.sid).participants
      .list({ dateCreatedBefore: new Date(Date.now() + 3600e3), identity: 'pat-bo' }))
      .map((p) => p.identity), ['pat-bo']);
    assert.deepEqual(await tw.video.v1.rooms(room.sid).participants
      .list({ dateCreatedBefore: new Date(Date.now() - 3600e3) }), []);
    assert.equal(ana.url, `${srv.url}/v1/Rooms/${room.sid}/Participants/${ana.sid}`);
    assert.equal(ana.links.published_tracks, `${ana.url}/PublishedTracks`);
    assert.equal(ana.links.subscribed_tracks, `${ana.url}/SubscribedTracks`);
    assert.equal(ana.links.subscribe_rules, `${ana.url}/SubscribeRules`);

    const published = await waitFor('published tracks', async () => {
      const got = await tw.video.v1.rooms(room.sid).participants('dr-ana').publishedTracks.list();
      return got.length === 2 && got;
    });
    assert.deepEqual(published.map((t) => t.kind).sort(), ['audio', 'video']);
    const one = await tw.video.v1.rooms(room.sid).participants(ana.sid)
      .publishedTracks(published[0].sid).fetch();
    assert.equal(one.name, published[0].name);
    // Room callbacks with Twilio's fields.
    const audioTrack = published.find((t) => t.kind === 'audio');
    const added = await hook.until((c) => c.params.StatusCallbackEvent === 'track-added'
      && c.params.TrackSid === audioTrack.sid, 'track-added');
    assert.deepEqual([added.params.AccountSid, added.params.RoomSid, added.params.RoomName,
      added.params.RoomType, added.params.RoomStatus, added.params.ParticipantSid,
      added.params.ParticipantIdentity, added.params.ParticipantStatus, added.params.TrackName,
      added.params.TrackKind],
    [creds.account_sid, room.sid, 'consult-1', 'group', 'in-progress', ana.sid, 'dr-ana',
      'connected', audioTrack.name, 'audio']);
    assert.ok(Number(added.params.SequenceNumber) > 0);
    assert.ok(!Number.isNaN(Date.parse(added.params.Timestamp)));
    // Only audio is recorded until the rules change (the rules given at
    // creation are applied, not just stored).
    await hook.until((c) => c.params.StatusCallbackEvent === 'recording-started'
      && c.params.SourceSid === audioTrack.sid, 'recording-started (audio)');
    assert.deepEqual(hook.received.filter((c) => c.params.StatusCallbackEvent === 'recording-started')
      .map((c) => c.params.Type).filter((t) => t !== 'audio'), []);
    const subscribed = await tw.video.v1.rooms(room.sid).participants('pat-bo').subscribedTracks.list();
    assert.deepEqual(subscribed.map((t) => t.sid).sort(), published.map((t) => t.sid).sort());
    assert.ok(subscribed.every((t) => t.publisherSid === ana.sid));

    // Subscribe rules: pat-bo stops receiving video.
    await tw.video.v1.rooms(room.sid).participants('pat-bo').subscribeRules.update({
      rules: [{ type: 'include', all: true }, { type: 'exclude', kind: 'video' }],
    });
    const audioOnly = await tw.video.v1.rooms(room.sid).participants('pat-bo').subscribedTracks.list();
    assert.deepEqual(audioOnly.map((t) => t.kind), ['audio']);
    const rulesNow = await tw.video.v1.rooms(room.sid).participants('pat-bo').subscribeRules.fetch();
    assert.deepEqual(rulesNow.rules.map((r) => [r.type, r.all ?? null, r.kind ?? null]),
      [['include', true, null], ['exclude', null, 'video']]);

    // Recording rules: video too from now on.
    await tw.video.v1.rooms(room.sid).recordingRules.update({ rules: [{ type: 'include', all: true }] });
    await hook.until((c) => c.params.StatusCallbackEvent === 'recording-started'
      && c.params.SourceSid && published.some((t) => t.sid === c.params.SourceSid)
      && published.find((t) => t.sid === c.params.SourceSid).kind === 'video', 'recording-started (video)');

    // The media of all four tracks has reached the recorder (its own log
    // says so).
    await waitFor('the recorder receiving all tracks', () => srv.events()
      .filter((e) => e.event === 'recorder' && e.what === 'output' && /"event":"media"/.test(e.detail))
      .length >= 4);

    // Remove the patient by identity.
    const gone = await tw.video.v1.rooms(room.sid).participants('pat-bo').update({ status: 'disconnected' });
    assert.equal(gone.status, 'disconnected');
    const left = await hook.until((c) => c.params.StatusCallbackEvent === 'participant-disconnected'
      && c.params.ParticipantIdentity === 'pat-bo', 'participant-disconnected');
    assert.equal(left.params.ParticipantStatus, 'disconnected');
    assert.ok(Number(left.params.ParticipantDuration) >= 0);

    // Ending the room ends the recordings: completed, the recorder child
    // exits 0.
    await tw.video.v1.rooms(room.sid).update({ status: 'completed' });
    let all = [];
    const recs = await waitFor('completed recordings', async () => {
      const got = await tw.video.v1.recordings.list({ groupingSid: [room.sid], status: 'completed' });
      all = await tw.video.v1.recordings.list({ groupingSid: [room.sid] });
      return got.length > 0 && got.length === all.length && got;
    }).catch((e) => { throw new Error(`${e.message}: ${JSON.stringify(all.map((r) => [r.status, r.type]))}\n${srv.log().split('\n').filter((l) => /recorder|record/.test(l)).slice(-15).join('\n')}`); });
    for (const r of recs) {
      assert.equal(r.accountSid, creds.account_sid);
      assert.equal(r.url, `${srv.url}/v1/Recordings/${r.sid}`);
      assert.equal(r.links.media, `${r.url}/Media`);
      assert.equal(r.status, 'completed');
      assert.ok(['VP8', 'OPUS'].includes(r.codec), r.codec);
      assert.equal(r.containerFormat, r.type === 'audio' ? 'mka' : 'mkv');
      assert.equal(r.groupingSids.room_sid, room.sid);
      assert.ok(r.size > 0 && r.duration >= 0);
    }
    const audio = recs.filter((r) => r.type === 'audio');
    assert.deepEqual((await tw.video.v1.recordings.list({ mediaType: 'audio', groupingSid: [room.sid] }))
      .map((r) => r.sid), audio.map((r) => r.sid));
    assert.deepEqual((await tw.video.v1.recordings.list({ sourceSid: recs[0].sourceSid }))
      .map((r) => r.sid), [recs[0].sid]);
    assert.deepEqual(await tw.video.v1.recordings.list({ groupingSid: ['RM00000000000000000000000000000000'] }), []);
    // Two grouping sids: the room's and dr-ana's; paged one by one, so
    // the SDK follows next_page_url with both kept.
    const anas = await tw.video.v1.recordings.list({ groupingSid: [room.sid, ana.sid], pageSize: 1 });
    assert.deepEqual(anas.map((r) => r.sid).sort(),
      recs.filter((r) => r.groupingSids.participant_sid === ana.sid).map((r) => r.sid).sort());
    assert.equal(anas.length, 2);
    const viaRoom = await tw.video.v1.rooms(room.sid).recordings(recs[0].sid).fetch();
    assert.equal(viaRoom.sid, recs[0].sid);
    assert.equal(viaRoom.roomSid, room.sid);
    assert.equal(viaRoom.accountSid, creds.account_sid);
    assert.equal(viaRoom.containerFormat, recs[0].containerFormat);
    assert.equal(viaRoom.url, `${srv.url}/v1/Rooms/${room.sid}/Recordings/${recs[0].sid}`);
    assert.equal(viaRoom.links.media, `${viaRoom.url}/Media`);
    const hour = 3600e3;
    assert.equal((await tw.video.v1.recordings.list({ groupingSid: [room.sid],
      dateCreatedAfter: new Date(Date.now() - hour), dateCreatedBefore: new Date(Date.now() + hour) }))
      .length, recs.length);
    assert.deepEqual(await tw.video.v1.recordings.list({ groupingSid: [room.sid],
      dateCreatedAfter: new Date(Date.now() + hour) }), []);
    assert.deepEqual(await tw.video.v1.rooms(room.sid).recordings.list({
      dateCreatedBefore: new Date(Date.now() - hour) }), []);
    assert.equal((await tw.video.v1.rooms(room.sid).recordings.list({ status: 'completed',
      sourceSid: recs[0].sourceSid })).length, 1);
    // recording-completed callbacks say where the media is.
    for (const r of recs) {
      const done = await hook.until((c) => c.params.StatusCallbackEvent === 'recording-completed'
        && c.params.RecordingSid === r.sid, `recording-completed ${r.sid}`);
      assert.equal(done.params.MediaUri, `/v1/Recordings/${r.sid}/Media`);
      assert.equal(done.params.RecordingUri, `/v1/Recordings/${r.sid}`);
      assert.equal(done.params.SourceSid, r.sourceSid);
      assert.equal(done.params.Codec, r.codec);
      assert.equal(done.params.Container, r.containerFormat);
      assert.equal(Number(done.params.Offset), r.offset);
      assert.equal(done.params.TrackName, r.trackName);
      assert.equal(done.params.RecordingStatus, 'completed');
      assert.equal(Number(done.params.RecordingDuration), r.duration);
      assert.equal(Number(done.params.RecordingSize), r.size);
    }
    const ended = await hook.until((c) => c.params.StatusCallbackEvent === 'room-ended', 'room-ended');
    assert.equal(ended.params.RoomStatus, 'completed');
    assert.ok(Number(ended.params.RoomDuration) >= 0);

    // Media the Twilio way: {redirect_to}, then the file without credentials.
    const media = await tw.request({ method: 'GET', uri: `${srv.url}/v1/Rooms/${room.sid}/Recordings/${audio[0].sid}/Media` });
    assert.equal(media.statusCode, 200);
    const link = (typeof media.body === 'string' ? JSON.parse(media.body) : media.body).redirect_to;
    const file = await fetch(link);
    assert.equal(file.status, 200);
    const { writeFileSync, mkdtempSync } = await import('node:fs');
    const dir = mkdtempSync(`${srv.dataDir}/dl-`);
    writeFileSync(`${dir}/a.mka`, Buffer.from(await file.arrayBuffer()));
    assert.match(discover(`${dir}/a.mka`), /audio|Opus/i);
    const forged = await fetch(link.replace(/Signature=[0-9a-f]{4}/, 'Signature=0000'));
    assert.equal(forged.status, 403);

    // The recorder child exits 0 when the room completes.
    assert.deepEqual(srv.events().filter((e) => e.event === 'recorder' && e.what === 'exited')
      .map((e) => e.detail), ['exited with status 0']);
    // Offsets: from the room's start to each file's first media, as the
    // recorder measured it on the first packet it kept, however long the
    // child took to start and join.  Bounds from events that must come
    // before and after that packet: the recorder joined and the track was
    // published before the SFU could send it anything (both logged when the
    // server handled them); the recorder reports the packet after keeping
    // it.  (The SFU's own "recorder-first-packet" line is printed for the
    // record only: the worker's line reaches the log after the send, so it
    // is no lower bound.)  Before the fix the offset came from when the
    // child started, which is before it joined.
    const evs = srv.events();
    const at = (e) => Date.parse(e.ts) - started;
    const started = Date.parse(evs.find((e) => e.room_sid === room.sid && e.what === 'room-created').ts);
    const joinedEv = evs.find((e) => e.event === 'recorder' && e.room_sid === room.sid
      && e.what === 'joined');
    const offsets = recs.map((r) => {
      const published = evs.find((e) => e.room_sid === room.sid && e.what === 'track-added'
        && e.track_sid === r.sourceSid);
      const sent = evs.find((e) => e.event === 'sfu' && e.what === 'recorder-first-packet'
        && e.participant_sid === joinedEv.detail && e.track_sid === r.sourceSid);
      const kept = evs.find((e) => e.event === 'recorder' && e.what === 'output'
        && e.detail.includes('"event":"media"') && e.detail.includes(`"track_sid":"${r.sourceSid}"`));
      assert.ok(published && kept, `no track-added or media line for ${r.sourceSid}`);
      return { type: r.type, offset: r.offset, from: Math.max(at(joinedEv), at(published)),
        sent: sent ? at(sent) : null, kept: at(kept) };
    });
    const what = `recorder joined at ${at(joinedEv)} ms; ${JSON.stringify(offsets)}`;
    console.log(`offsets: ${what}`);
    // Log lines carry millisecond times: allow that rounding.
    for (const o of offsets)
      assert.ok(o.offset >= o.from - 1 && o.offset <= o.kept + 1, what);

    // A composition of both audio tracks in a grid, once the room is over.
    const comp = await tw.video.v1.compositions.create({
      roomSid: room.sid, audioSources: audio.map((r) => r.sid),
      videoLayout: { grid: { video_sources: ['*'] } }, format: 'webm', statusCallback: hook.url,
    });
    assert.equal(comp.audioSources.length, audio.length);
    assert.deepEqual(comp.audioSourcesExcluded, []);
    await hook.until((c) => c.params.StatusCallbackEvent === 'composition-available'
      || c.params.StatusCallbackEvent === 'composition-failed', 'composition done');
    const done = await tw.video.v1.compositions(comp.sid).fetch();
    assert.equal(done.status, 'completed');
    assert.equal(done.accountSid, creds.account_sid);
    assert.equal(done.resolution, '640x480');
    assert.equal(done.format, 'webm');
    assert.equal(done.trim, true);
    assert.deepEqual(done.videoLayout, { grid: { video_sources: ['*'] } });
    assert.equal(done.url, `${srv.url}/v1/Compositions/${comp.sid}`);
    assert.ok(done.size > 0 && done.duration >= 0);
    assert.deepEqual((await tw.video.v1.compositions.list({ roomSid: room.sid, status: 'completed' }))
      .map((c) => c.sid), [comp.sid]);
    assert.deepEqual((await tw.video.v1.compositions.list({ roomSid: room.sid,
      dateCreatedAfter: new Date(Date.now() - hour), dateCreatedBefore: new Date(Date.now() + hour) }))
      .map((c) => c.sid), [comp.sid]);
    assert.deepEqual(await tw.video.v1.compositions.list({ dateCreatedAfter: new Date(Date.now() + hour) }), []);
    assert.deepEqual(await tw.video.v1.compositions.list({ roomSid: room.sid,
      dateCreatedBefore: new Date(Date.now() - hour) }), []);
    const available = await hook.until((c) => c.params.StatusCallbackEvent === 'composition-available',
      'composition-available');
    assert.equal(available.params.CompositionSid, comp.sid);
    assert.equal(available.params.MediaUri, `/v1/Compositions/${comp.sid}/Media`);
    assert.equal(Number(available.params.Duration), done.duration);
    assert.equal(Number(available.params.Size), done.size);
    assert.equal(available.params.CompositionUri, `/v1/Compositions/${comp.sid}`);
    assert.equal(available.params.RoomSid, room.sid);
    assert.deepEqual(hook.received.filter((c) => c.params.CompositionSid === comp.sid)
      .map((c) => c.params.StatusCallbackEvent),
    ['composition-enqueued', 'composition-started', 'composition-available']);
    // Its media the Twilio way too, and it plays.
    const cmedia = await tw.request({ method: 'GET', uri: `${srv.url}/v1/Compositions/${comp.sid}/Media` });
    assert.equal(cmedia.statusCode, 200);
    const clink = (typeof cmedia.body === 'string' ? JSON.parse(cmedia.body) : cmedia.body).redirect_to;
    const cfile = await fetch(clink);
    assert.equal(cfile.status, 200);
    writeFileSync(`${dir}/c.webm`, Buffer.from(await cfile.arrayBuffer()));
    assert.match(discover(`${dir}/c.webm`), /Opus/i);
    // Another with one source excluded: shown as given.
    const comp2 = await tw.video.v1.compositions.create({
      roomSid: room.sid, audioSources: ['*'], audioSourcesExcluded: [audio[0].sid],
      resolution: '320x240', format: 'mp4',
    });
    assert.deepEqual(comp2.audioSources, ['*']);
    assert.deepEqual(comp2.audioSourcesExcluded, [audio[0].sid]);
    assert.equal(comp2.resolution, '320x240');
    assert.equal(comp2.format, 'mp4');

    // Every callback verifies with Twilio's own code.
    assert.ok(hook.received.length >= 5);
    for (const c of hook.received)
      assert.ok(twilio.validateRequest(creds.auth_token, c.signature, c.url, c.params),
        `callback ${c.params.StatusCallbackEvent} does not verify`);
    assert.ok(!twilio.validateRequest('0'.repeat(32), hook.received[0].signature,
      hook.received[0].url, hook.received[0].params));
  } catch (e) {
    // What the server and its recorder said, for whoever reads the failure.
    console.log(srv.events().filter((x) => /record|room|sfu|transport|subscribe/.test(x.event))
      .map((x) => JSON.stringify(x)).join('\n'));
    for (const p of pubs) console.log(p.log().slice(-2000));
    throw e;
  } finally {
    for (const p of pubs) p.kill('SIGINT');
    await Promise.all(pubs.map((p) => p.exited));
    await hook.close();
  }
});
