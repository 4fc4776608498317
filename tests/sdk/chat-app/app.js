// The chat test app: what a Twilio consultation app imports, nothing
// else.  The test (../conversations.test.mjs) drives these modules with
// code written against @twilio/conversations' and twilio-video's APIs.
import { Client } from '/sdk/conversations.js';
import * as Video from '/sdk/video.js';

window.Conversations = { Client };
window.Video = Video;
window.appReady = true;
