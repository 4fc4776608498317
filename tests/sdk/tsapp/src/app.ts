// The test app (tests/sdk/app/app.js) as a TypeScript app would write it:
// only twilio-video 2.x's documented API and types, imported from
// 'twilio-video' (the package.json points that name at @hqrooms/video).
// It type-checks with `tsc --strict` and is bundled with esbuild
// (tests/sdk/tsapp.test.mjs); window.app is what the test drives.
import Video, {
  ConnectOptions,
  LocalAudioTrack,
  LocalDataTrack,
  LocalTrack,
  LocalTrackPublication,
  LocalVideoTrack,
  NetworkQualityLevel,
  NetworkQualityStats,
  Participant,
  RemoteParticipant,
  RemoteTrack,
  RemoteTrackPublication,
  Room,
  StatsReport,
  Track,
  TwilioError,
  VideoTrack,
} from 'twilio-video';
// Chat as a Twilio app has it: @twilio/conversations (the package.json
// points that name at @hqrooms/conversations).
import { Client as ChatClient, Conversation, Message } from '@twilio/conversations';

type Fields = { [key: string]: string | number | boolean | null };
interface AppEvent extends Fields {
  type: string;
}

const events: AppEvent[] = [];
const frames = new Map<HTMLMediaElement, number>(); // element -> frames presented
let localTracks: LocalTrack[] = [];
let room: Room | null = null;
let screen: MediaStreamTrack | null = null;
let dataTrack: LocalDataTrack | null = null;
let conversation: Conversation | null = null;

function record(type: string, fields: Fields = {}): void {
  events.push({ type, ...fields });
}

function joined(): Room {
  if (!room) throw new Error('not in a room');
  return room;
}

// Counts the frames a <video> really presents (decoded and shown).
function countFrames(el: HTMLMediaElement): void {
  if (!(el instanceof HTMLVideoElement)) return;
  frames.set(el, 0);
  const tick = (): void => {
    const n = frames.get(el);
    if (n === undefined) return;
    frames.set(el, n + 1);
    el.requestVideoFrameCallback(tick);
  };
  el.requestVideoFrameCallback(tick);
}

function trackSubscribed(track: RemoteTrack, publication: RemoteTrackPublication, participant: RemoteParticipant): void {
  record('trackSubscribed', { identity: participant.identity, kind: track.kind, name: track.name, sid: track.sid });
  if (track.kind === 'data') return;
  const el = track.attach();
  el.dataset.identity = participant.identity;
  el.dataset.trackSid = publication.trackSid;
  el.dataset.trackName = publication.trackName;
  if (track.kind === 'video') countFrames(el);
  document.getElementById('remote')?.append(el);
}

function trackUnsubscribed(track: RemoteTrack, publication: RemoteTrackPublication, participant: RemoteParticipant): void {
  record('trackUnsubscribed', { identity: participant.identity, kind: track.kind, sid: publication.trackSid });
  if (track.kind === 'data') return;
  for (const el of track.detach()) {
    frames.delete(el);
    el.remove();
  }
}

function watchQuality(p: Participant): void {
  p.on('networkQualityLevelChanged', (level: NetworkQualityLevel, stats: NetworkQualityStats) => record(
    'networkQualityLevelChanged', { identity: p.identity, level, statsLevel: stats ? stats.level : null }));
}

function wire(r: Room): void {
  r.on('participantConnected', (p: RemoteParticipant) => record('participantConnected', { identity: p.identity }));
  r.on('participantDisconnected', (p: RemoteParticipant) => record('participantDisconnected', { identity: p.identity }));
  r.on('trackSubscribed', trackSubscribed);
  r.on('trackUnsubscribed', trackUnsubscribed);
  for (const ev of ['trackPublished', 'trackUnpublished', 'trackEnabled', 'trackDisabled'] as const) {
    r.on(ev, (publication: RemoteTrackPublication, participant: RemoteParticipant) => record(ev, {
      identity: participant.identity, kind: publication.kind, sid: publication.trackSid,
      enabled: publication.isTrackEnabled,
    }));
  }
  r.on('trackPublishPriorityChanged',
    (priority: Track.Priority, publication: RemoteTrackPublication, participant: RemoteParticipant) => record(
      'trackPublishPriorityChanged',
      { identity: participant.identity, kind: publication.kind, sid: publication.trackSid, priority }));
  r.on('trackMessage', (data: string | ArrayBuffer, track: RemoteTrack, participant: RemoteParticipant) => record(
    'trackMessage', {
      identity: participant.identity, name: track.name,
      text: typeof data === 'string' ? data : null, bytes: typeof data === 'string' ? null : data.byteLength,
    }));
  r.on('dominantSpeakerChanged', (p: RemoteParticipant | null) => record('dominantSpeakerChanged',
    { identity: p ? p.identity : null }));
  r.on('disconnected', (_room: Room, error?: TwilioError) => record('disconnected', { code: error ? error.code : null }));
  r.on('reconnecting', (error: TwilioError) => record('reconnecting', { code: error ? error.code : null }));
  r.on('reconnected', () => record('reconnected'));
  r.on('participantReconnecting', (p: RemoteParticipant) => record('participantReconnecting', { identity: p.identity }));
  r.on('participantReconnected', (p: RemoteParticipant) => record('participantReconnected', { identity: p.identity }));
  watchQuality(r.localParticipant);
  r.participants.forEach(watchQuality);
  r.on('participantConnected', watchQuality);
}

function videoTrack(): LocalVideoTrack | undefined {
  return localTracks.find((t): t is LocalVideoTrack => t.kind === 'video');
}

function ownTrack(kind: 'audio' | 'video'): LocalAudioTrack | LocalVideoTrack | undefined {
  const pub = [...joined().localParticipant.tracks.values()].find((p) => p.kind === kind);
  const track = pub ? pub.track : localTracks.find((t) => t.kind === kind);
  return track && track.kind !== 'data' ? track : undefined;
}

const app = {
  events,
  get room(): Room | null {
    return room;
  },

  // Pre-join: capture and preview.
  async preview(): Promise<string[]> {
    localTracks = await Video.createLocalTracks({ audio: true, video: { width: 640, height: 480 } });
    const video = videoTrack();
    if (!video) throw new Error('no camera track');
    const el = video.attach();
    el.id = 'preview';
    el.muted = true;
    countFrames(el);
    document.getElementById('local')?.append(el);
    return localTracks.map((t) => t.kind).sort();
  },

  // Joins with the previewed tracks (only those of `kinds` when given),
  // or (own) with tracks connect() captures.
  async join(token: string, name: string, own = false, kinds: Track.Kind[] | null = null,
    extra: ConnectOptions = {}): Promise<Fields> {
    const options: ConnectOptions = { name, dominantSpeaker: true, networkQuality: { local: 1, remote: 1 }, ...extra };
    if (own) Object.assign(options, { audio: true, video: { width: 640, height: 480 } });
    else options.tracks = localTracks.filter((t) => !kinds || kinds.includes(t.kind));
    const r = await Video.connect(token, options);
    room = r;
    const early = [...r.participants.values()].flatMap((p) => [...p.tracks.values()])
      .filter((pub) => pub.isSubscribed).length;
    record('connected', { participants: r.participants.size, early });
    wire(r);
    return {
      sid: r.sid, name: r.name, state: r.state, identity: r.localParticipant.identity,
      participantSid: r.localParticipant.sid,
    };
  },

  // Frames presented by the video elements of `identity`'s tracks.
  remoteVideo(identity: string, name: string | null = null) {
    const els = [...document.querySelectorAll<HTMLVideoElement>(`#remote video[data-identity="${identity}"]`)]
      .filter((el) => name === null || el.dataset.trackName === name);
    return {
      elements: els.length,
      sids: els.map((el) => el.dataset.trackSid),
      frames: els.map((el) => frames.get(el) || 0),
      width: Math.min(...els.map((el) => el.videoWidth)),
      time: els.map((el) => el.currentTime),
    };
  },

  // Who is in the room and what they publish, by sid.
  sids() {
    const r = joined();
    return {
      room: r.sid,
      local: r.localParticipant.sid,
      localTracks: [...r.localParticipant.tracks.keys()].sort(),
      remote: [...r.participants.values()].map((p) => ({ sid: p.sid, identity: p.identity,
        tracks: [...p.tracks.keys()].sort() })),
    };
  },

  previewFrames() {
    const el = document.getElementById('preview') as HTMLVideoElement;
    return { frames: frames.get(el) || 0, width: el.videoWidth };
  },

  setEnabled(kind: 'audio' | 'video', enabled: boolean): boolean {
    const track = ownTrack(kind);
    if (!track) throw new Error(`no ${kind} track`);
    if (enabled) track.enable();
    else track.disable();
    return track.isEnabled;
  },

  cameraOff() {
    const r = joined();
    const track = videoTrack();
    const pub = track ? r.localParticipant.unpublishTrack(track) : null;
    return { unpublished: pub ? pub.trackSid : null, left: r.localParticipant.videoTracks.size };
  },

  async cameraOn() {
    const r = joined();
    const track = videoTrack();
    if (!track) throw new Error('no camera track');
    const pub: LocalTrackPublication = await r.localParticipant.publishTrack(track, { priority: 'high' });
    return { sid: pub.trackSid, kind: pub.kind, priority: pub.priority, videoTracks: r.localParticipant.videoTracks.size };
  },

  setCameraPriority(priority: Track.Priority): Track.Priority {
    const pub = [...joined().localParticipant.videoTracks.values()].find((p) => p.trackName !== 'screen');
    if (!pub) throw new Error('no camera publication');
    return pub.setPriority(priority).priority;
  },

  received() {
    const r = joined();
    const pubs = [...r.participants.values()].flatMap((p) => [...p.tracks.values()]);
    return {
      participants: r.participants.size,
      publications: pubs.length,
      subscribed: pubs.filter((p) => p.isSubscribed).length,
      events: events.filter((e) => e.type === 'trackSubscribed').length,
    };
  },

  async publishData(name: string) {
    const r = joined();
    dataTrack = new Video.LocalDataTrack({ name });
    try {
      const pub = await r.localParticipant.publishTrack(dataTrack);
      return { kind: pub.kind, name: pub.trackName, dataTracks: r.localParticipant.dataTracks.size };
    } catch (error) {
      const e = error as TwilioError;
      return { code: e.code, message: e.message };
    }
  },

  sendText(text: string): void {
    dataTrack?.send(text);
  },

  async shareScreen() {
    const r = joined();
    const stream = await navigator.mediaDevices.getDisplayMedia({ video: true });
    [screen] = stream.getVideoTracks();
    const pub = await r.localParticipant.publishTrack(screen, { name: 'screen', priority: 'high' });
    return { name: pub.trackName, kind: pub.kind, priority: pub.priority, videoTracks: r.localParticipant.videoTracks.size };
  },

  stopScreen() {
    const r = joined();
    if (!screen) throw new Error('no screen share');
    const pub = r.localParticipant.unpublishTrack(screen);
    screen.stop();
    return { name: pub ? pub.trackName : null, videoTracks: r.localParticipant.videoTracks.size };
  },

  async restartCamera(width: number, height: number) {
    const track = ownTrack('video');
    if (!track || track.kind !== 'video') throw new Error('no camera track');
    const started = new Promise<VideoTrack.Dimensions>((resolve) => {
      track.once('started', () => resolve(track.dimensions));
    });
    const before = track.mediaStreamTrack;
    await track.restart({ width, height });
    return { dimensions: await started, oldCapture: before.readyState, same: before === track.mediaStreamTrack };
  },

  async stats() {
    const reports: StatsReport[] = await joined().getStats();
    const sum = (list: Array<number | null>): number => list.reduce<number>((n, v) => n + (v || 0), 0);
    return {
      reports: reports.length,
      bytesSent: sum(reports.flatMap((r) => r.localVideoTrackStats).map((s) => s.bytesSent)),
      bytesReceived: sum(reports.flatMap((r) => r.remoteVideoTrackStats).map((s) => s.bytesReceived)),
      audioStats: reports.flatMap((r) => r.localAudioTrackStats).length,
    };
  },

  disconnect() {
    const r = joined();
    const own = [...r.localParticipant.tracks.values()].map((p) => p.track)
      .filter((t): t is LocalAudioTrack | LocalVideoTrack => t.kind !== 'data')
      .map((t) => t.mediaStreamTrack);
    r.disconnect();
    return { state: r.state, captures: own.map((t) => t.readyState) };
  },

  async tryConnect(token: string, name?: string) {
    try {
      const r = await Video.connect(token, { name, tracks: [] });
      r.disconnect();
      return { connected: true };
    } catch (error) {
      const e = error as TwilioError;
      return {
        connected: false, code: e.code, name: e.name, message: e.message,
        isTwilioError: error instanceof Video.TwilioError,
      };
    }
  },

  about() {
    return { version: Video.version, isSupported: Video.isSupported };
  },

  // Forgets what was recorded so far, so later waits see only what comes.
  clearEvents(): void {
    events.length = 0;
  },

  // The room's chat, found by the room's name as the reference app does.
  async chat(token: string, roomName: string) {
    const client = await ChatClient.create(token);
    const c = await client.getConversationByUniqueName(roomName);
    c.on('messageAdded', (m: Message) => record('messageAdded', {
      author: m.author, body: m.body, index: m.index,
    }));
    conversation = c;
    return { sid: c.sid, uniqueName: c.uniqueName };
  },

  async say(text: string): Promise<number> {
    if (!conversation) throw new Error('no chat');
    return conversation.sendMessage(text);
  },
};

declare global {
  interface Window {
    app: typeof app;
    appReady: boolean;
  }
}

Video.Logger.setLevel('warn');
window.app = app;
window.appReady = true;
