// TwilioError and the subclasses hqrooms raises, with twilio-video's codes
// (docs/sdk.md has the table of when each happens here).
export class TwilioError extends Error {
  constructor(code, message, explanation) {
    super(message);
    this.name = 'TwilioError';
    this.code = code;
    if (explanation) this.explanation = explanation;
  }

  toString() {
    return `${this.name} ${this.code}: ${this.message}`;
  }
}

const CLASSES = {
  AccessTokenInvalidError: [20101, 'Invalid Access Token'],
  AccessTokenExpiredError: [20104, 'Access Token expired or expiration date invalid'],
  AccessTokenNotYetValidError: [20105, 'Access Token not yet valid'],
  AccessTokenGrantsInvalidError: [20106, 'Invalid Access Token grants'],
  AccessTokenSignatureInvalidError: [20107, 'Invalid Access Token signature'],
  SignalingConnectionError: [53000, 'Signaling connection error'],
  SignalingConnectionDisconnectedError: [53001, 'Signaling connection disconnected'],
  SignalingConnectionTimeoutError: [53002, 'Signaling connection timed out'],
  SignalingIncomingMessageInvalidError: [53003, 'Client received an invalid signaling message'],
  SignalingOutgoingMessageInvalidError: [53004, 'Client sent an invalid signaling message'],
  SignalingServerBusyError: [53006, 'Video server is busy'],
  RoomNameInvalidError: [53100, 'Room name is invalid'],
  RoomConnectFailedError: [53104, 'Unable to connect to Room'],
  RoomMaxParticipantsExceededError: [53105, 'Room contains too many Participants'],
  RoomNotFoundError: [53106, 'Room not found'],
  RoomCompletedError: [53118, 'Room completed'],
  ParticipantNotFoundError: [53204, 'Participant not found'],
  ParticipantMaxTracksExceededError: [53203, 'Participant has too many Tracks'],
  ParticipantDuplicateIdentityError: [53205, 'Participant disconnected because of duplicate identity'],
  TrackInvalidError: [53300, 'Track is invalid'],
  TrackNameInvalidError: [53301, 'Track name is invalid'],
  TrackNameIsDuplicatedError: [53304, 'Track name is duplicated'],
  MediaClientLocalDescFailedError: [53400, 'Client is unable to create or apply a local media description'],
  MediaServerLocalDescFailedError: [53401, 'Server is unable to create or apply a local media description'],
  MediaClientRemoteDescFailedError: [53402, 'Client is unable to apply a remote media description'],
  MediaServerRemoteDescFailedError: [53403, 'Server is unable to apply a remote media description'],
  MediaNoSupportedCodecError: [53404, 'No supported codec'],
  MediaConnectionError: [53405, 'Media connection failed'],
  MediaDTLSTransportFailedError: [53407, 'Media connection failed due to DTLS handshake failure'],
};

export const errors = {};
for (const [name, [code, defaultMessage]] of Object.entries(CLASSES)) {
  const cls = class extends TwilioError {
    constructor(message, explanation) {
      super(code, message || defaultMessage, explanation);
      this.name = name;
    }
  };
  Object.defineProperty(cls, 'name', { value: name });
  cls.code = code;
  errors[name] = cls;
}

// The error a failed request of the signalling protocol (docs/protocol.md,
// "Error codes") means in Twilio's terms; the server's message is kept.
export function errorFromSignal(reply) {
  const m = reply.message || reply.code;
  switch (reply.code) {
    case 'invalid_token':
      // The server names the check that failed: "refused (expired): ...".
      if (/\(expired\)/.test(m)) return new errors.AccessTokenExpiredError(m);
      if (/\(not_yet_valid\)/.test(m)) return new errors.AccessTokenNotYetValidError(m);
      if (/\(bad_signature\)/.test(m)) return new errors.AccessTokenSignatureInvalidError(m);
      if (/\((no_identity|identity_too_long|no_video_grant|bad_role)\)/.test(m)) {
        return new errors.AccessTokenGrantsInvalidError(m);
      }
      return new errors.AccessTokenInvalidError(m);
    case 'room_not_granted':
      return new errors.AccessTokenGrantsInvalidError(m);
    case 'room_not_found':
      return new errors.RoomNotFoundError(m);
    case 'room_completed':
      return new errors.RoomCompletedError(m);
    case 'room_full':
      return new errors.RoomMaxParticipantsExceededError(m);
    case 'invalid_sdp':
      return new errors.MediaServerRemoteDescFailedError(m);
    case 'not_found':
      return new errors.ParticipantNotFoundError(m);
    case 'not_host':
    case 'forbidden':
      return new TwilioError(20403, m);
    case 'rate_limited':
      return new TwilioError(20429, m);
    case 'server_draining':
      return new errors.SignalingServerBusyError(m);
    case 'message_too_big':
      return new errors.TrackInvalidError(m);
    case 'malformed_json':
    case 'bad_message':
    case 'unknown_type':
      return new errors.SignalingOutgoingMessageInvalidError(m);
    case 'invalid_field':
      if (/publishes at most/.test(m)) return new errors.ParticipantMaxTracksExceededError(m);
      if (/name/.test(m) && /unique|already|duplicate/.test(m)) return new errors.TrackNameIsDuplicatedError(m);
      if (/name/.test(m)) return new errors.TrackNameInvalidError(m);
      return new errors.SignalingOutgoingMessageInvalidError(m);
    default:
      return new errors.SignalingConnectionError(m);
  }
}

// The error a signalling connection closed by the server (docs/protocol.md,
// "Close codes") ends the room with; null when the close was ours.
// `said`: the sentence of the `removed` or `room_completed` event that came
// before a 4001 or 4004.
export function errorFromClose(code, reason, said) {
  switch (code) {
    case 1000:
      return null;
    case 4001:
      return new errors.ParticipantNotFoundError(said || 'Participant removed from the Room');
    case 4002:
      return new errors.ParticipantDuplicateIdentityError();
    case 4003:
      return new errors.RoomConnectFailedError('Denied entry to the Room by a host');
    case 4004:
      return new errors.RoomCompletedError(said || undefined);
    case 4005:
      return new TwilioError(53216, 'Participant session length exceeded');
    case 4000:
      return new errors.SignalingConnectionTimeoutError();
    default:
      return new errors.SignalingConnectionDisconnectedError(
        reason ? `Signaling connection disconnected: ${reason}` : undefined);
  }
}
