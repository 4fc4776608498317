// @hqrooms/video: twilio-video 2.x's browser API on an hqrooms server.
// docs/sdk.md says what is the same, what differs and what is not there yet.
import { connect, createLocalTracks, createLocalAudioTrack, createLocalVideoTrack } from './lib/connect.js';
import { TwilioError, errors } from './lib/errors.js';
import { rootLogger } from './lib/log.js';
import { Room } from './lib/room.js';
import {
  LocalParticipant, RemoteParticipant, Participant, LocalTrackPublication, RemoteTrackPublication,
} from './lib/participants.js';
import {
  Track, MediaTrack, AudioTrack, VideoTrack, LocalAudioTrack, LocalVideoTrack, LocalDataTrack,
  RemoteAudioTrack, RemoteVideoTrack, RemoteDataTrack,
} from './lib/tracks.js';

export const version = '2.90.0';

export const isSupported = typeof globalThis.RTCPeerConnection === 'function'
  && typeof globalThis.WebSocket === 'function'
  && Boolean(globalThis.navigator?.mediaDevices?.getUserMedia);

export const Logger = rootLogger;

export {
  connect, createLocalTracks, createLocalAudioTrack, createLocalVideoTrack, TwilioError, errors,
  Room, Participant, LocalParticipant, RemoteParticipant, LocalTrackPublication, RemoteTrackPublication,
  Track, MediaTrack, AudioTrack, VideoTrack, LocalAudioTrack, LocalVideoTrack, LocalDataTrack,
  RemoteAudioTrack, RemoteVideoTrack, RemoteDataTrack,
};

export default {
  connect, createLocalTracks, createLocalAudioTrack, createLocalVideoTrack, isSupported, version,
  Logger, LocalAudioTrack, LocalVideoTrack, LocalDataTrack, TwilioError,
};
