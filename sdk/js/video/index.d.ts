// Type declarations of @hqrooms/video: the names and shapes of
// twilio-video 2.x's public API for what this package implements
// (docs/sdk.md lists what differs and what is not there yet).

type Listener = (...args: any[]) => void;

declare class EventEmitter {
  on(event: string, listener: Listener): this;
  addListener(event: string, listener: Listener): this;
  once(event: string, listener: Listener): this;
  off(event: string, listener: Listener): this;
  removeListener(event: string, listener: Listener): this;
  removeAllListeners(event?: string): this;
  listenerCount(event: string): number;
  listeners(event: string): Listener[];
  eventNames(): string[];
  emit(event: string, ...args: any[]): boolean;
}

export namespace Log {
  interface LogLevel { TRACE: 0; DEBUG: 1; INFO: 2; WARN: 3; ERROR: 4; SILENT: 5 }
  type LogLevelNumbers = LogLevel[keyof LogLevel];
  type LogLevelDesc = LogLevelNumbers | 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent' | keyof LogLevel;
  type LoggingMethod = (...message: any[]) => void;
  type MethodFactory = (methodName: string, level: LogLevelNumbers, loggerName: string | symbol) => LoggingMethod;
  interface Logger {
    readonly levels: LogLevel;
    methodFactory: MethodFactory;
    trace(...msg: any[]): void;
    debug(...msg: any[]): void;
    log(...msg: any[]): void;
    info(...msg: any[]): void;
    warn(...msg: any[]): void;
    error(...msg: any[]): void;
    setLevel(level: LogLevelDesc, persist?: boolean): void;
    getLevel(): LogLevel[keyof LogLevel];
    setDefaultLevel(level: LogLevelDesc): void;
    resetLevel(): void;
    enableAll(persist?: boolean): void;
    disableAll(persist?: boolean): void;
    rebuild(): void;
  }
  interface RootLogger extends Logger {
    noConflict(): any;
    getLogger(name: string | symbol): Logger;
    getLoggers(): { [name: string]: Logger };
  }
}

export declare namespace Track {
  type Kind = 'audio' | 'video' | 'data';
  type Priority = 'low' | 'standard' | 'high';
  type ID = string;
  type SID = string;
}
export declare namespace Participant {
  type Identity = string;
  type SID = string;
}
export declare namespace Room {
  type SID = string;
}
export declare namespace VideoTrack {
  interface Dimensions {
    width: number | null;
    height: number | null;
  }
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'off';
export interface LogLevels {
  default: LogLevel;
  media: LogLevel;
  signaling: LogLevel;
  webrtc: LogLevel;
}
export type AudioLevel = number;
export type AudioCodec = 'isac' | 'opus' | 'PCMA' | 'PCMU';
export type VideoCodec = 'H264' | 'VP8' | 'VP9';
export type VideoEncodingMode = 'auto';
export interface AudioCodecSettings { codec: AudioCodec }
export interface OpusCodecSettings extends AudioCodecSettings { codec: 'opus'; dtx?: boolean }
export interface VideoCodecSettings { codec: VideoCodec }
export interface VP8CodecSettings extends VideoCodecSettings { codec: 'VP8'; simulcast?: boolean }
export interface EncodingParameters {
  maxAudioBitrate?: number | null;
  maxVideoBitrate?: number | null;
}

export type NetworkQualityLevel = number;
export type NetworkQualityVerbosity = 0 | 1 | 2 | 3;
export interface NetworkQualityConfiguration {
  local?: NetworkQualityVerbosity;
  remote?: NetworkQualityVerbosity;
}
export declare class NetworkQualityFractionLostStats {
  fractionLost: number | null;
  level: NetworkQualityLevel | null;
}
export declare class NetworkQualityBandwidthStats {
  actual: number | null;
  available: number | null;
  level: NetworkQualityLevel | null;
}
export declare class NetworkQualityLatencyStats {
  jitter: number | null;
  rtt: number | null;
  level: NetworkQualityLevel | null;
}
export declare class NetworkQualitySendOrRecvStats {
  bandwidth: NetworkQualityBandwidthStats | null;
  latency: NetworkQualityLatencyStats | null;
  fractionLost: NetworkQualityFractionLostStats | null;
}
export declare class NetworkQualityMediaStats {
  send: NetworkQualityLevel;
  recv: NetworkQualityLevel;
  sendStats: NetworkQualitySendOrRecvStats | null;
  recvStats: NetworkQualitySendOrRecvStats | null;
}
export declare class NetworkQualityStats {
  level: NetworkQualityLevel;
  audio: NetworkQualityMediaStats | null;
  video: NetworkQualityMediaStats | null;
}

export type TrackSwitchOffMode = 'detected' | 'predicted' | 'disabled';
/** Why the server stopped forwarding a remote video track to this participant. */
export type TrackSwitchOffReason = 'disabled-by-subscriber' | 'disabled-by-publisher'
  | 'max-bandwidth-reached' | 'network-congestion';
export type BandwidthProfileMode = 'grid' | 'collaboration' | 'presentation';
export interface VideoBandwidthProfileOptions {
  contentPreferencesMode?: 'auto' | 'manual';
  dominantSpeakerPriority?: Track.Priority;
  maxSubscriptionBitrate?: number;
  /** Deprecated in twilio-video; 0 (no video) is applied here, as subscribe rules, other values are not. */
  maxTracks?: number;
  mode?: BandwidthProfileMode;
  /** 'auto' (default): tracks not shown in an attached element are switched off. */
  clientTrackSwitchOffControl?: 'auto' | 'manual';
  trackSwitchOffMode?: TrackSwitchOffMode;
}
export interface BandwidthProfileOptions {
  video?: VideoBandwidthProfileOptions;
}

export interface LocalTrackOptions {
  logLevel?: LogLevel | LogLevels;
  name?: string;
  workaroundWebKitBug1208516?: boolean;
}
export interface LocalDataTrackOptions extends LocalTrackOptions {
  maxPacketLifeTime?: number | null;
  maxRetransmits?: number | null;
  ordered?: boolean;
}
export interface LocalTrackPublishOptions {
  priority?: Track.Priority;
}
export interface MediaStreamTrackPublishOptions extends LocalTrackOptions {
  priority?: Track.Priority;
}
export interface CreateLocalTrackOptions extends MediaTrackConstraints {
  logLevel?: LogLevel | LogLevels;
  name?: string;
  workaroundWebKitBug180748?: boolean;
  workaroundWebKitBug1208516?: boolean;
  getUserMedia?: (constraints: MediaStreamConstraints) => Promise<MediaStream>;
}
export interface CreateLocalAudioTrackOptions extends CreateLocalTrackOptions {}
export interface CreateLocalTracksOptions {
  audio?: boolean | CreateLocalTrackOptions | CreateLocalAudioTrackOptions;
  logLevel?: LogLevel | LogLevels;
  loggerName?: string;
  tracks?: LocalTrack[];
  video?: boolean | CreateLocalTrackOptions;
  getUserMedia?: (constraints: MediaStreamConstraints) => Promise<MediaStream>;
}
export interface ConnectOptions {
  audio?: boolean | CreateLocalTrackOptions | CreateLocalAudioTrackOptions;
  automaticSubscription?: boolean;
  bandwidthProfile?: BandwidthProfileOptions;
  dominantSpeaker?: boolean;
  maxAudioBitrate?: number | null;
  maxVideoBitrate?: number | null;
  name?: string | null;
  networkQuality?: boolean | NetworkQualityConfiguration;
  region?: string;
  preferredAudioCodecs?: Array<AudioCodec | AudioCodecSettings | OpusCodecSettings>;
  preferredVideoCodecs?: Array<VideoCodec | VideoCodecSettings | VP8CodecSettings> | VideoEncodingMode;
  logLevel?: LogLevel | LogLevels;
  tracks?: Array<LocalTrack | MediaStreamTrack>;
  video?: boolean | CreateLocalTrackOptions;
  /** STUN and TURN servers; default: the ones the server's join reply
   * names (TURN with time-limited credentials). */
  iceServers?: RTCIceServer[];
  /** 'relay': use TURN relays only. */
  iceTransportPolicy?: RTCIceTransportPolicy;
  rtcConfiguration?: RTCConfiguration;
  /** The hq-server to use: a ws(s):// URL of its /v1/signal, or its
   * http(s):// origin.  Default: the origin that served the page. */
  wsServer?: string;
  /** Extension: called when a waiting-room guest is put in the lobby;
   * connect() stays pending until a host admits or denies it. */
  hqOnWaiting?: (waiting: { participantSid: string }) => void;
  /** Extension: end-to-end encryption in group rooms (docs/e2ee.md):
   * every participant uses the same secret, which never reaches the
   * server (keep it in the invite link's fragment).  VP8 and Opus;
   * needs Chromium's encoded streams. */
  e2ee?: { secret: string };
  /** Extension: how long a failed media connection may take to come back
   * by ICE restart (the room is `reconnecting`, 53405) before the room is
   * disconnected with 53405.  Default 30000 ms. */
  hqMediaRecoveryTimeoutMs?: number;
  [option: string]: any;
}
export interface CancelablePromise<T> extends Promise<T> {
  cancel: () => void;
}

export declare class TrackStats {
  trackId: Track.ID;
  trackSid: Track.SID;
  timestamp: number;
  ssrc: string;
  packetsLost: number | null;
  codec: string | null;
}
export declare class LocalTrackStats extends TrackStats {
  bytesSent: number | null;
  packetsSent: number | null;
  roundTripTime: number | null;
  jitter: number | null;
}
export declare class LocalVideoTrackStats extends LocalTrackStats {
  captureDimensions: VideoTrack.Dimensions | null;
  dimensions: VideoTrack.Dimensions | null;
  captureFrameRate: number | null;
  frameRate: number | null;
}
export declare class LocalAudioTrackStats extends LocalTrackStats {
  audioLevel: AudioLevel | null;
}
export declare class RemoteTrackStats extends TrackStats {
  bytesReceived: number | null;
  packetsReceived: number | null;
}
export declare class RemoteAudioTrackStats extends RemoteTrackStats {
  audioLevel: AudioLevel | null;
  jitter: number | null;
}
export declare class RemoteVideoTrackStats extends RemoteTrackStats {
  dimensions: VideoTrack.Dimensions | null;
  frameRate: number | null;
}
export declare class StatsReport {
  peerConnectionId: string;
  localAudioTrackStats: LocalAudioTrackStats[];
  localVideoTrackStats: LocalVideoTrackStats[];
  remoteAudioTrackStats: RemoteAudioTrackStats[];
  remoteVideoTrackStats: RemoteVideoTrackStats[];
}

export declare class TwilioError extends Error {
  constructor(code: number, message?: string, explanation?: string);
  code: number;
  message: string;
  explanation?: string;
}

export declare class Track extends EventEmitter {
  kind: Track.Kind;
  name: string;
}
export declare class MediaTrack extends Track {
  isStarted: boolean;
  isEnabled: boolean;
  mediaStreamTrack: MediaStreamTrack;
  attach(element?: HTMLMediaElement | string): HTMLMediaElement;
  detach(element: HTMLMediaElement | string): HTMLMediaElement;
  detach(): HTMLMediaElement[];
  on(event: 'disabled' | 'enabled' | 'started', listener: (track: this) => void): this;
  on(event: string, listener: Listener): this;
}
export declare class AudioTrack extends MediaTrack {
  kind: 'audio';
}
export declare class VideoTrack extends MediaTrack {
  dimensions: VideoTrack.Dimensions;
  kind: 'video';
  processor: null;
  processedTrack: MediaStreamTrack | null;
}
/** What local audio and video tracks add (merged into both classes). */
interface LocalMediaTrackMembers {
  id: Track.ID;
  isMuted: boolean;
  isStopped: boolean;
  disable(): this;
  enable(enabled?: boolean): this;
  restart(constraints?: MediaTrackConstraints): Promise<void>;
  stop(): this;
}
export declare class LocalAudioTrack extends AudioTrack {
  constructor(mediaStreamTrack: MediaStreamTrack, options?: LocalTrackOptions);
  on(event: 'disabled' | 'enabled' | 'started' | 'stopped', listener: (track: this) => void): this;
  on(event: string, listener: Listener): this;
}
export interface LocalAudioTrack extends LocalMediaTrackMembers {}
export declare class LocalVideoTrack extends VideoTrack {
  constructor(mediaStreamTrack: MediaStreamTrack, options?: LocalTrackOptions);
  on(event: 'dimensionsChanged', listener: (track: VideoTrack) => void): this;
  on(event: 'disabled' | 'enabled' | 'started' | 'stopped', listener: (track: this) => void): this;
  on(event: string, listener: Listener): this;
}
export interface LocalVideoTrack extends LocalMediaTrackMembers {}
export declare class LocalDataTrack extends Track {
  constructor(options?: LocalDataTrackOptions);
  id: Track.ID;
  kind: 'data';
  maxPacketLifeTime: number | null;
  maxRetransmits: number | null;
  ordered: boolean;
  reliable: boolean;
  /** Peer-to-peer and go rooms (a data channel per connection; docs/sdk.md). */
  send(data: string | Blob | ArrayBuffer | ArrayBufferView): void;
}
/** What remote audio and video tracks add (merged into both classes). */
interface RemoteMediaTrackMembers {
  sid: Track.SID;
  priority: Track.Priority | null;
  isSwitchedOff: boolean;
  /** Why the track is switched off; null while it is on. */
  switchOffReason: TrackSwitchOffReason | null;
  isEnabled: boolean;
  setPriority(priority: Track.Priority | null): this;
}
export declare class RemoteAudioTrack extends AudioTrack {
  on(event: 'disabled' | 'enabled' | 'started' | 'stopped' | 'switchedOff' | 'switchedOn', listener: (track: this) => void): this;
  on(event: string, listener: Listener): this;
}
export interface RemoteAudioTrack extends RemoteMediaTrackMembers {}
export interface VideoContentPreferences {
  renderDimensions?: VideoTrack.Dimensions;
}
export declare class RemoteVideoTrack extends VideoTrack {
  /** Group rooms with bandwidthProfile.video.clientTrackSwitchOffControl 'manual'. */
  switchOn(): this;
  switchOff(): this;
  /** Group rooms with bandwidthProfile.video.contentPreferencesMode 'manual'. */
  setContentPreferences(content: VideoContentPreferences): this;
  on(event: 'dimensionsChanged' | 'disabled' | 'enabled' | 'started' | 'stopped' | 'switchedOn',
    listener: (track: this) => void): this;
  on(event: 'switchedOff', listener: (track: this, reason: TrackSwitchOffReason | null) => void): this;
  on(event: string, listener: Listener): this;
}
export interface RemoteVideoTrack extends RemoteMediaTrackMembers {}
export declare class RemoteDataTrack extends Track {
  isEnabled: boolean;
  isSubscribed: boolean;
  isSwitchedOff: boolean;
  kind: 'data';
  maxPacketLifeTime: number | null;
  maxRetransmits: number | null;
  ordered: boolean;
  priority: Track.Priority | null;
  reliable: boolean;
  sid: Track.SID;
  setPriority(priority: Track.Priority | null): this;
  on(event: 'message', listener: (data: string | ArrayBuffer, track: RemoteDataTrack) => void): this;
  on(event: string, listener: Listener): this;
}

export type LocalTrack = LocalAudioTrack | LocalVideoTrack | LocalDataTrack;
export type RemoteTrack = RemoteAudioTrack | RemoteVideoTrack | RemoteDataTrack;
export type DataTrack = LocalDataTrack | RemoteDataTrack;

export declare class TrackPublication extends EventEmitter {
  isEnabled: boolean;
  kind: Track.Kind;
  trackName: string;
  trackSid: Track.SID;
  on(event: 'trackDisabled' | 'trackEnabled', listener: () => void): this;
  on(event: string, listener: Listener): this;
}
export declare class LocalTrackPublication extends TrackPublication {
  isTrackEnabled: boolean;
  priority: Track.Priority;
  /** Same as priority (hqrooms keeps both names). */
  readonly publishPriority: Track.Priority;
  track: LocalTrack;
  setPriority(priority: Track.Priority): this;
  unpublish(): this;
}
export declare class LocalAudioTrackPublication extends LocalTrackPublication {
  kind: 'audio';
  track: LocalAudioTrack;
}
export declare class LocalVideoTrackPublication extends LocalTrackPublication {
  kind: 'video';
  track: LocalVideoTrack;
}
export declare class LocalDataTrackPublication extends LocalTrackPublication {
  kind: 'data';
  track: LocalDataTrack;
}
export declare class RemoteTrackPublication extends TrackPublication {
  readonly isSubscribed: boolean;
  isTrackEnabled: boolean;
  publishPriority: Track.Priority;
  track: RemoteTrack | null;
  on(event: 'publishPriorityChanged', listener: (priority: Track.Priority) => void): this;
  on(event: 'subscribed' | 'unsubscribed' | 'trackSwitchedOff' | 'trackSwitchedOn',
    listener: (track: RemoteTrack) => void): this;
  on(event: 'trackDisabled' | 'trackEnabled', listener: () => void): this;
  on(event: string, listener: Listener): this;
}
export declare class RemoteAudioTrackPublication extends RemoteTrackPublication {
  kind: 'audio';
  track: RemoteAudioTrack | null;
}
export declare class RemoteVideoTrackPublication extends RemoteTrackPublication {
  kind: 'video';
  track: RemoteVideoTrack | null;
}
export declare class RemoteDataTrackPublication extends RemoteTrackPublication {
  kind: 'data';
  track: RemoteDataTrack | null;
}
export type AudioTrackPublication = LocalAudioTrackPublication | RemoteAudioTrackPublication;
export type DataTrackPublication = LocalDataTrackPublication | RemoteDataTrackPublication;
export type VideoTrackPublication = LocalVideoTrackPublication | RemoteVideoTrackPublication;

export declare class Participant extends EventEmitter {
  audioTracks: Map<Track.SID, AudioTrackPublication>;
  dataTracks: Map<Track.SID, DataTrackPublication>;
  /** Extensions: the name to show people, and the role. */
  hqName: string;
  hqRole: 'host' | 'guest';
  identity: Participant.Identity;
  /** hqrooms extension: the display name (the token's, else the identity). */
  name: string;
  networkQualityLevel: NetworkQualityLevel | null;
  networkQualityStats: NetworkQualityStats | null;
  sid: Participant.SID;
  state: string;
  tracks: Map<Track.SID, TrackPublication>;
  videoTracks: Map<Track.SID, VideoTrackPublication>;
  on(event: 'disconnected' | 'reconnected' | 'reconnecting', listener: (participant: this) => void): this;
  on(event: 'networkQualityLevelChanged',
    listener: (networkQualityLevel: NetworkQualityLevel, networkQualityStats: NetworkQualityStats) => void): this;
  on(event: 'trackDimensionsChanged', listener: (track: VideoTrack) => void): this;
  on(event: 'trackStarted', listener: (track: Track) => void): this;
  on(event: string, listener: Listener): this;
}
export declare class LocalParticipant extends Participant {
  audioTracks: Map<Track.SID, LocalAudioTrackPublication>;
  dataTracks: Map<Track.SID, LocalDataTrackPublication>;
  tracks: Map<Track.SID, LocalTrackPublication>;
  videoTracks: Map<Track.SID, LocalVideoTrackPublication>;
  signalingRegion: string;
  publishTrack(track: LocalTrack, options?: LocalTrackPublishOptions): Promise<LocalTrackPublication>;
  publishTrack(track: MediaStreamTrack, options?: MediaStreamTrackPublishOptions): Promise<LocalTrackPublication>;
  publishTracks(tracks: Array<LocalTrack | MediaStreamTrack>): Promise<LocalTrackPublication[]>;
  setNetworkQualityConfiguration(networkQualityConfiguration: NetworkQualityConfiguration): this;
  setParameters(encodingParameters?: EncodingParameters | null): this;
  unpublishTrack(track: LocalTrack | MediaStreamTrack): LocalTrackPublication | null;
  unpublishTracks(tracks: Array<LocalTrack | MediaStreamTrack>): LocalTrackPublication[];
  on(event: 'disconnected', listener: (participant: this) => void): this;
  on(event: 'trackDimensionsChanged', listener: (track: LocalVideoTrack) => void): this;
  on(event: 'trackDisabled' | 'trackEnabled' | 'trackStarted' | 'trackStopped', listener: (track: LocalTrack) => void): this;
  on(event: 'trackPublicationFailed', listener: (error: TwilioError, track: LocalTrack) => void): this;
  on(event: 'trackPublished', listener: (publication: LocalTrackPublication) => void): this;
  on(event: 'networkQualityLevelChanged',
    listener: (networkQualityLevel: NetworkQualityLevel, networkQualityStats: NetworkQualityStats) => void): this;
  on(event: string, listener: Listener): this;
}
export declare class RemoteParticipant extends Participant {
  audioTracks: Map<Track.SID, RemoteAudioTrackPublication>;
  dataTracks: Map<Track.SID, RemoteDataTrackPublication>;
  tracks: Map<Track.SID, RemoteTrackPublication>;
  videoTracks: Map<Track.SID, RemoteVideoTrackPublication>;
  on(event: 'disconnected' | 'reconnected' | 'reconnecting', listener: (participant: this) => void): this;
  on(event: 'trackDimensionsChanged', listener: (track: RemoteVideoTrack) => void): this;
  on(event: 'trackDisabled' | 'trackEnabled' | 'trackPublished' | 'trackUnpublished',
    listener: (publication: RemoteTrackPublication) => void): this;
  on(event: 'trackPublishPriorityChanged', listener: (priority: Track.Priority, publication: RemoteTrackPublication) => void): this;
  on(event: 'trackStarted', listener: (track: RemoteTrack) => void): this;
  on(event: 'trackSubscribed' | 'trackUnsubscribed' | 'trackSwitchedOff' | 'trackSwitchedOn',
    listener: (track: RemoteTrack, publication: RemoteTrackPublication) => void): this;
  on(event: 'trackSubscriptionFailed', listener: (error: TwilioError, publication: RemoteTrackPublication) => void): this;
  on(event: 'networkQualityLevelChanged',
    listener: (networkQualityLevel: NetworkQualityLevel, networkQualityStats: NetworkQualityStats) => void): this;
  on(event: string, listener: Listener): this;
}

/** Extensions (docs/sdk.md): someone in the waiting room, or a participant
 * named in a recording notice. */
export interface HqParticipantRef {
  sid: Participant.SID;
  identity: Participant.Identity;
  name: string;
}
/** Extension: what the room records and on whose decision. */
export interface HqRecording {
  source: 'host' | 'rules';
  by: HqParticipantRef | null;
  participants: HqParticipantRef[];
}
/** Extension: the room's recording rules, as REST shows them. */
export interface HqRecordingRules {
  room_sid: Room.SID;
  rules: Array<{ type: 'include' | 'exclude'; all?: true; kind?: 'audio' | 'video'; publisher?: string; track?: string }>;
  date_created: string | null;
  date_updated: string | null;
}

export declare class Room extends EventEmitter {
  dominantSpeaker: RemoteParticipant | null;
  /** Extension: null while nothing is recorded. */
  hqRecording: HqRecording | null;
  /** Extension: how long the server keeps a participant whose connection
   * dropped, ms. */
  hqReconnectGraceMs: number;
  /** Extension (hosts): who waits in the waiting room, by identity. */
  hqLobby: Map<Participant.Identity, HqParticipantRef>;
  isRecording: boolean;
  localParticipant: LocalParticipant;
  mediaRegion: string;
  name: string;
  participants: Map<Participant.SID, RemoteParticipant>;
  sid: Room.SID;
  state: string;
  disconnect(): Room;
  getStats(): Promise<StatsReport[]>;
  refreshInactiveMedia(): void;
  /** Extensions, hosts only (docs/sdk.md, "Extensions"). */
  hqAdmit(identity: Participant.Identity | Participant.SID): Promise<void>;
  hqDeny(identity: Participant.Identity | Participant.SID, reason?: string): Promise<void>;
  hqMute(participant: RemoteParticipant | Participant.Identity | Participant.SID,
    track?: RemoteTrackPublication | Track.SID): Promise<void>;
  hqRemove(participant: RemoteParticipant | Participant.Identity | Participant.SID, reason?: string): Promise<void>;
  hqStartRecording(rules?: HqRecordingRules['rules']): Promise<HqRecordingRules>;
  hqStopRecording(): Promise<HqRecordingRules>;
  hqEndRoom(): Promise<void>;
  on(event: 'participantWaiting', listener: (waiting: HqParticipantRef) => void): this;
  on(event: 'hqLobbyChanged', listener: (lobby: HqParticipantRef[]) => void): this;
  on(event: 'hqRecordingChanged', listener: (recording: HqRecording | null) => void): this;
  on(event: 'hqServerDraining', listener: (drain: { deadline: Date; seconds: number }) => void): this;
  on(event: 'disconnected', listener: (room: Room, error: TwilioError) => void): this;
  on(event: 'dominantSpeakerChanged', listener: (dominantSpeaker: RemoteParticipant) => void): this;
  on(event: 'participantConnected' | 'participantDisconnected' | 'participantReconnected' | 'participantReconnecting',
    listener: (participant: RemoteParticipant) => void): this;
  on(event: 'reconnected' | 'recordingStarted' | 'recordingStopped', listener: () => void): this;
  on(event: 'reconnecting', listener: (error: TwilioError) => void): this;
  on(event: 'trackDimensionsChanged', listener: (track: RemoteVideoTrack, participant: RemoteParticipant) => void): this;
  on(event: 'trackDisabled' | 'trackEnabled' | 'trackPublished' | 'trackUnpublished',
    listener: (publication: RemoteTrackPublication, participant: RemoteParticipant) => void): this;
  on(event: 'trackPublishPriorityChanged',
    listener: (priority: Track.Priority, publication: RemoteTrackPublication, participant: RemoteParticipant) => void): this;
  on(event: 'trackStarted', listener: (track: RemoteTrack, participant: RemoteParticipant) => void): this;
  on(event: 'trackSubscribed' | 'trackUnsubscribed' | 'trackSwitchedOff' | 'trackSwitchedOn',
    listener: (track: RemoteTrack, publication: RemoteTrackPublication, participant: RemoteParticipant) => void): this;
  on(event: 'trackSubscriptionFailed',
    listener: (error: TwilioError, publication: RemoteTrackPublication, participant: RemoteParticipant) => void): this;
  on(event: string, listener: Listener): this;
}

/** TwilioError subclasses by name (AccessTokenInvalidError, RoomNotFoundError, ...; docs/sdk.md). */
export declare const errors: { [name: string]: { new (message?: string, explanation?: string): TwilioError; code: number } };

export declare const isSupported: boolean;
export declare const version: string;
export declare const Logger: Log.RootLogger;
export declare function connect(token: string, options?: ConnectOptions): CancelablePromise<Room>;
export declare function createLocalAudioTrack(options?: CreateLocalTrackOptions | CreateLocalAudioTrackOptions): Promise<LocalAudioTrack>;
export declare function createLocalTracks(options?: CreateLocalTracksOptions): Promise<LocalTrack[]>;
export declare function createLocalVideoTrack(options?: CreateLocalTrackOptions): Promise<LocalVideoTrack>;

declare const Video: {
  connect: typeof connect;
  createLocalAudioTrack: typeof createLocalAudioTrack;
  createLocalTracks: typeof createLocalTracks;
  createLocalVideoTrack: typeof createLocalVideoTrack;
  isSupported: boolean;
  version: string;
  Logger: Log.RootLogger;
  LocalAudioTrack: typeof LocalAudioTrack;
  LocalVideoTrack: typeof LocalVideoTrack;
  LocalDataTrack: typeof LocalDataTrack;
  TwilioError: typeof TwilioError;
};
export default Video;
