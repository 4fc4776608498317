// connect() and the local-track factories.
import { errors } from './errors.js';
import { log, setLogLevel } from './log.js';
import { Room } from './room.js';
import { Signal, signalUrl } from './signal.js';
import { LocalAudioTrack, LocalVideoTrack, LocalDataTrack, bandwidthProfileMessage } from './tracks.js';

const TRACK_OPTION_KEYS = ['name', 'logLevel', 'workaroundWebKitBug180748',
  'workaroundWebKitBug1208516', 'getUserMedia', 'enumerateDevices', 'MediaStream',
  'mapMediaElement', 'disposeMediaElement', 'noiseCancellationOptions', 'defaultDeviceCaptureMode'];

// Splits CreateLocalTrackOptions into the track's name and the
// MediaTrackConstraints given to getUserMedia.
function splitTrackOptions(options) {
  if (options === true || options === undefined) return { name: undefined, constraints: true };
  const constraints = {};
  for (const [k, v] of Object.entries(options)) {
    if (!TRACK_OPTION_KEYS.includes(k)) constraints[k] = v;
  }
  return { name: options.name, constraints: Object.keys(constraints).length ? constraints : true };
}

export async function createLocalTracks(options = {}) {
  if (options.logLevel) setLogLevel(options.logLevel);
  if (options.tracks) return options.tracks;
  const audio = options.audio ?? true;
  const video = options.video ?? true;
  if (!audio && !video) return [];
  const a = audio ? splitTrackOptions(audio) : null;
  const v = video ? splitTrackOptions(video) : null;
  const gum = options.getUserMedia || ((c) => navigator.mediaDevices.getUserMedia(c));
  const stream = await gum({ audio: a ? a.constraints : false, video: v ? v.constraints : false });
  return stream.getTracks().map((t) => {
    const o = t.kind === 'audio' ? a : v;
    const opts = { name: o.name, constraints: o.constraints === true ? {} : o.constraints };
    return t.kind === 'audio' ? new LocalAudioTrack(t, opts) : new LocalVideoTrack(t, opts);
  });
}

export async function createLocalAudioTrack(options = {}) {
  const [track] = await createLocalTracks({ audio: options, video: false });
  return track;
}

export async function createLocalVideoTrack(options = {}) {
  const [track] = await createLocalTracks({ audio: false, video: options });
  return track;
}

// The part of `bandwidthProfile` that becomes subscribe rules:
// `maxTracks: 0` (no video track on) receives audio and data only.  The
// rest goes to the server as `bandwidth_profile` (tracks.js); what it has
// no field for is logged.
function bandwidthRules(profile) {
  const video = profile?.video;
  if (!video || typeof video !== 'object') return null;
  if (video.renderDimensions !== undefined) {
    log.info('bandwidthProfile.video.renderDimensions is not applied (deprecated in twilio-video; '
      + 'the sizes of the attached elements are used)');
  }
  if (video.maxTracks === 0) return [{ type: 'include', kind: 'audio' }, { type: 'include', kind: 'data' }];
  if (video.maxTracks !== undefined) {
    log.info('bandwidthProfile.video.maxTracks other than 0 is not applied (deprecated in twilio-video; '
      + 'tracks that are not shown are switched off)');
  }
  return null;
}

function toLocalTrack(t) {
  if (t instanceof LocalAudioTrack || t instanceof LocalVideoTrack || t instanceof LocalDataTrack) return t;
  if (typeof MediaStreamTrack !== 'undefined' && t instanceof MediaStreamTrack) {
    return t.kind === 'audio' ? new LocalAudioTrack(t) : new LocalVideoTrack(t);
  }
  throw new errors.TrackInvalidError('tracks must be LocalTracks or MediaStreamTracks');
}

// Joins the room the token (or options.name) names, publishes the tracks
// and resolves with the Room.  A CancelablePromise: cancel() before it
// settles leaves and rejects.
export function connect(token, options = {}) {
  let canceled = false;
  let signal = null;
  let sdkTracks = [];
  const cleanup = () => {
    signal?.send({ type: 'leave' });
    signal?.close();
    for (const t of sdkTracks) t.stop();
  };
  const run = async () => {
    if (options.logLevel) setLogLevel(options.logLevel);
    if (typeof token !== 'string' || token === '') {
      throw new errors.AccessTokenInvalidError('connect() needs an access token (a string)');
    }
    // Extension: end-to-end encryption (docs/e2ee.md) needs a secret.
    if (options.e2ee !== undefined && (typeof options.e2ee?.secret !== 'string' || !options.e2ee.secret)) {
      throw new TypeError('options.e2ee must be {secret: a non-empty string}');
    }
    let tracks;
    if (options.tracks) tracks = options.tracks.map(toLocalTrack);
    else {
      tracks = await createLocalTracks({ audio: options.audio ?? true, video: options.video ?? true });
      sdkTracks = tracks;
      for (const t of tracks) t._createdBySdk = true;
    }
    if (canceled) throw new Error('Canceled');
    const url = signalUrl(options.wsServer);
    // A guest of a waiting room hears `waiting`; connect() stays pending
    // until a host admits it (or rejects with RoomConnectFailedError when
    // a host denies it).  Extension: options.hqOnWaiting tells the app.
    signal = new Signal(url, (msg) => {
      if (msg.type !== 'waiting' || typeof options.hqOnWaiting !== 'function') return;
      try {
        options.hqOnWaiting({ participantSid: msg.participant_sid });
      } catch (err) {
        log.warn('hqOnWaiting threw:', err);
      }
    }, () => {});
    await signal.open();
    if (canceled) throw new Error('Canceled');
    const join = { token };
    if (options.name) join.room = options.name;
    const rules = options.automaticSubscription === false ? [] : bandwidthRules(options.bandwidthProfile);
    if (rules) join.subscribe_rules = rules;
    const profile = bandwidthProfileMessage(options.bandwidthProfile);
    if (profile) join.bandwidth_profile = profile;
    const joined = await signal.request('join', join);
    if (canceled) throw new Error('Canceled');
    const p2p = ['peer-to-peer', 'go'].includes(joined.room.type);
    const room = new Room(signal, joined, { token, url, options, sdkTracks, p2p });
    signal = null; // the room owns it now
    try {
      // Network quality and the dominant speaker come from the SFU: group
      // rooms only.
      if (options.networkQuality && !p2p) {
        const nq = typeof options.networkQuality === 'object' ? options.networkQuality : {};
        await room._configureNetworkQuality(nq);
      }
      await room.localParticipant._publishAll(tracks);
    } catch (err) {
      room.disconnect();
      throw err;
    }
    if (canceled) {
      room.disconnect();
      throw new Error('Canceled');
    }
    // The app's code after `await connect()` runs first and adds its
    // listeners; then the room tells what happened meanwhile.
    setTimeout(() => room._release(), 0);
    return room;
  };
  let rejectNow;
  const promise = new Promise((resolve, reject) => {
    rejectNow = reject;
    run().then(resolve, (err) => {
      cleanup();
      reject(err instanceof Error ? err : new errors.RoomConnectFailedError(String(err)));
    });
  });
  // Leaves at once, also from a waiting room's lobby (the join request
  // is still pending there).
  promise.cancel = () => {
    canceled = true;
    rejectNow(new Error('Canceled'));
    cleanup();
  };
  return promise;
}
