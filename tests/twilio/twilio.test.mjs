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

test('errors read through err.code and err.message', async () => {
  await rejects(tw.video.v1.rooms('RM00000000000000000000000000000000').fetch(),
    404, 20404, /no room|There is/i);
  await rejects(tw.video.v1.rooms.create({ type: 'no-such-type' }), 400, 20001, /type/i);
  await tw.video.v1.rooms.create({ uniqueName: 'taken' });
  await rejects(tw.video.v1.rooms.create({ uniqueName: 'taken' }), 409, 53113, /in progress/);
  const wrong = client(srv.url, { ...creds, key_secret: 'x'.repeat(32) });
  await rejects(wrong.video.v1.rooms.list(), 401, 20003, /secret is wrong/);
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
  await rejects(tw.video.v1.compositions.list({ dateCreatedAfter: new Date() }), 400, 20001,
    /DateCreatedAfter is not a filter/);
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

    const published = await waitFor('published tracks', async () => {
      const got = await tw.video.v1.rooms(room.sid).participants('dr-ana').publishedTracks.list();
      return got.length === 2 && got;
    });
    assert.deepEqual(published.map((t) => t.kind).sort(), ['audio', 'video']);
    const one = await tw.video.v1.rooms(room.sid).participants(ana.sid)
      .publishedTracks(published[0].sid).fetch();
    assert.equal(one.name, published[0].name);
    const subscribed = await tw.video.v1.rooms(room.sid).participants('pat-bo').subscribedTracks.list();
    assert.deepEqual(subscribed.map((t) => t.sid).sort(), published.map((t) => t.sid).sort());
    assert.ok(subscribed.every((t) => t.publisherSid === ana.sid));

    // Subscribe rules: pat-bo stops receiving video.
    await tw.video.v1.rooms(room.sid).participants('pat-bo').subscribeRules.update({
      rules: [{ type: 'include', all: true }, { type: 'exclude', kind: 'video' }],
    });
    const audioOnly = await tw.video.v1.rooms(room.sid).participants('pat-bo').subscribedTracks.list();
    assert.deepEqual(audioOnly.map((t) => t.kind), ['audio']);

    // Recording rules: video too from now on.
    await tw.video.v1.rooms(room.sid).recordingRules.update({ rules: [{ type: 'include', all: true }] });
    await hook.until((c) => c.params.StatusCallbackEvent === 'recording-started'
      && c.params.SourceSid && published.some((t) => t.sid === c.params.SourceSid)
      && published.find((t) => t.sid === c.params.SourceSid).kind === 'video', 'recording-started (video)');

    // The recorder has all four tracks (its own log says so).
    await waitFor('the recorder taking all tracks', () => srv.events()
      .filter((e) => e.event === 'recorder' && e.what === 'output' && /"event":"track"/.test(e.detail))
      .length >= 4);

    // Remove the patient by identity.
    const gone = await tw.video.v1.rooms(room.sid).participants('pat-bo').update({ status: 'disconnected' });
    assert.equal(gone.status, 'disconnected');
    await hook.until((c) => c.params.StatusCallbackEvent === 'participant-disconnected'
      && c.params.ParticipantIdentity === 'pat-bo', 'participant-disconnected');

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

    assert.deepEqual(srv.events().filter((e) => e.event === 'recorder' && e.what === 'exited')
      .map((e) => e.detail), ['exited with status 0']);
    // Offsets from the room's start, as the recorder's clock saw the
    // tracks start (not when the server started the child).
    // Offsets: from the room's start to when each track's media reached
    // the recorder child (the server logs the child's "track" line as it
    // comes), however long the child took to start and join.
    const evs = srv.events();
    const started = Date.parse(evs.find((e) => e.room_sid === room.sid && e.what === 'room-created').ts);
    // Always: not before the child joined, not after the server heard of
    // the media.  Within 100 ms of the latter where the server reads the
    // child's output promptly (not under sanitizers on a loaded machine).
    const joined = Date.parse(evs.find((e) => e.event === 'recorder' && e.room_sid === room.sid
      && e.what === 'joined').ts) - started;
    for (const r of recs) {
      const line = evs.find((e) => e.event === 'recorder' && e.what === 'output'
        && e.detail.includes(`"track_sid":"${r.sourceSid}"`));
      const seen = Date.parse(line.ts) - started;
      const what = `offset ${r.offset} ms, recorder joined at ${joined} ms, media at ${seen} ms`;
      assert.ok(r.offset >= joined - 100 && r.offset <= seen + 100, what);
      if (!process.env.HQ_TEST_GST_PRELOAD)
        assert.ok(Math.abs(r.offset - seen) <= 100, what);
    }

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
    assert.deepEqual((await tw.video.v1.compositions.list({ roomSid: room.sid, status: 'completed' }))
      .map((c) => c.sid), [comp.sid]);

    // Every callback verifies with Twilio's own code.
    assert.ok(hook.received.length >= 5);
    for (const c of hook.received)
      assert.ok(twilio.validateRequest(creds.auth_token, c.signature, c.url, c.params),
        `callback ${c.params.StatusCallbackEvent} does not verify`);
    assert.ok(!twilio.validateRequest('0'.repeat(32), hook.received[0].signature,
      hook.received[0].url, hook.received[0].params));
  } catch (e) {
    // What the server and its recorder said, for whoever reads the failure.
    console.log(srv.events().filter((x) => /record|room/.test(x.event))
      .map((x) => JSON.stringify(x)).join('\n'));
    for (const p of pubs) console.log(p.log().slice(-2000));
    throw e;
  } finally {
    for (const p of pubs) p.kill('SIGINT');
    await Promise.all(pubs.map((p) => p.exited));
    await hook.close();
  }
});
