// The `twilio` provider. The host publishes the screen and microphone into a Twilio Video group
// room with twilio-video. Viewers either join that same room without publishing anything
// (`audience: "video"` in the /audience_token reply, the default), or, for the retired Twilio
// Live flow (`audience: "live"`, or no `audience` in a reply from before it existed), play the Live stream made from the room with the Live Player
// SDK. Both SDKs are served from /vendor/ (copied from node_modules by `npm run build`).

import { loadScript } from '../load-script.js';
import { FAILED, RECONNECTED, RECONNECTING } from '../page-states.js';
import { videoPlayback } from '../playback.js';
import { StreamFullError } from '../stream-full.js';

const VIDEO_SDK = '/vendor/twilio-video.min.js';
const PLAYER_SDK = '/vendor/twilio-live-player.min.js';
// The player fetches its wasm worker (.js) and .wasm from this folder.
const PLAYER_ASSETS = '/vendor';

// Twilio error codes this module acts on. A viewer cannot get in:
// 53105 RoomMaxParticipantsExceededError (twilio-video-errors.js in the SDK): the room already
// holds MaxParticipants (the host and TWILIO_MAX_VIEWERS viewers);
// 53206 "The Participant concurrency quota was exceeded" (Twilio's error reference): the account's
// rooms together hold as many participants as it may have. Either way, trying later may work.
const FULL = new Set([53105, 53206]);
// RoomCompletedError: the room was ended (the host stopped, or the server ended it).
const ROOM_COMPLETED = 53118;
// How long a viewer stays in a room its host is not in before leaving it (see watchRoom).
const HOST_WAIT_MS = 8000;

async function videoSdk() {
  await loadScript(VIDEO_SDK);
  return window.Twilio.Video;
}

async function playerSdk() {
  await loadScript(PLAYER_SDK);
  return window.Twilio.Live.Player;
}

export class UnsupportedBrowserError extends Error {
  constructor() {
    super('This browser cannot play the stream. Try a recent Chrome, Edge, Firefox or Safari.');
    this.name = 'UnsupportedBrowserError';
  }
}

// `tokenResponse` is the /host_token or /audience_token reply. The host, and a viewer who joins
// the room, need WebRTC; a viewer of the Live flow needs the Live Player.
export function isSupported(tokenResponse = {}) {
  if (tokenResponse.session || tokenResponse.audience === 'video') {
    return typeof RTCPeerConnection === 'function';
  }
  const Player = window.Twilio && window.Twilio.Live && window.Twilio.Live.Player;
  if (Player) return Boolean(Player.isSupported);
  return typeof WebAssembly === 'object' && typeof Worker === 'function';
}

// Host: join the room named by /host_token with the captured screen and microphone tracks.
// Everyone else in the room is a viewer: their number is the viewer count.
export async function publish({ tokenResponse, videoTrack, audioTrack, onViewerCount, onDisconnected }) {
  const Video = await videoSdk();
  const localVideo = new Video.LocalVideoTrack(videoTrack, { name: 'screen' });
  const localAudio = audioTrack ? new Video.LocalAudioTrack(audioTrack, { name: 'microphone' }) : null;
  const room = await Video.connect(tokenResponse.token, {
    name: tokenResponse.room,
    tracks: [localVideo, localAudio].filter(Boolean),
  });
  let leaving = false;
  const host = room.localParticipant && room.localParticipant.identity;
  const countViewers = () => {
    if (leaving || !onViewerCount) return;
    let viewers = 0;
    for (const participant of room.participants.values()) {
      if (participant.identity !== host) viewers += 1;
    }
    onViewerCount(viewers);
  };
  room.on('participantConnected', countViewers);
  room.on('participantDisconnected', countViewers);
  room.on('disconnected', (_room, error) => {
    if (!leaving && onDisconnected) onDisconnected(error || new Error('Disconnected from the room.'));
  });
  countViewers();
  return {
    async stop() {
      leaving = true;
      room.disconnect();
      localVideo.stop();
      if (localAudio) localAudio.stop();
    },
    setMicEnabled(enabled) {
      if (localAudio) {
        if (enabled) localAudio.enable();
        else localAudio.disable();
      }
    },
  };
}

// Viewer: the reply from /audience_token says which audience this is.
export async function play(options) {
  if (options.tokenResponse.audience === 'video') return watchRoom(options);
  return playLive(options);
}

// Join the host's room with no local tracks (the server disconnects a viewer that publishes
// anyway) and render the host's screen and microphone in one <video>, muted until clicked.
async function watchRoom({ tokenResponse, container, onEnded, onStateChange }) {
  const Video = await videoSdk();
  let room;
  try {
    room = await Video.connect(tokenResponse.token, {
      name: tokenResponse.room,
      audio: false,
      video: false,
      tracks: [],
    });
  } catch (error) {
    if (error && FULL.has(error.code)) throw new StreamFullError();
    throw error;
  }

  const video = document.createElement('video');
  video.autoplay = true;
  video.playsInline = true;
  video.muted = true; // browsers only autoplay muted media
  // The host is named by /audience_token; a reply without `hostIdentity` gets the first
  // participant whose track this viewer is subscribed to (the server lets only the host's through).
  let hostIdentity = tokenResponse.hostIdentity || null;
  const isHost = (participant) => participant.identity === hostIdentity;
  let hostSeen = false;
  const attached = new Set();
  const report = (state) => onStateChange && onStateChange(state);

  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    for (const track of attached) track.detach(video);
    attached.clear();
    room.disconnect();
    video.srcObject = null;
    video.remove();
  };
  const ended = () => {
    if (finished) return;
    finish();
    if (onEnded) onEnded();
  };
  // The connection is gone for good: the page asks for a fresh token and joins again.
  const failed = () => {
    if (finished) return;
    finish();
    report(FAILED);
  };

  const attach = (track, participant) => {
    if (hostIdentity === null) hostIdentity = participant.identity;
    if (isHost(participant)) hostSeen = true;
    if (finished || !isHost(participant)) return;
    if (track.kind !== 'video' && track.kind !== 'audio') return;
    track.attach(video);
    attached.add(track);
    video.play().catch(() => {});
  };

  room.on('trackSubscribed', (track, _publication, participant) => attach(track, participant));
  room.on('trackUnsubscribed', (track) => {
    if (attached.delete(track) && track.kind !== 'data') track.detach(video);
  });
  room.on('participantDisconnected', (participant) => {
    if (isHost(participant)) ended();
  });
  // The SDK reconnects by itself first: 'reconnecting' (error 53001 signaling, 53405 media),
  // then 'reconnected', or 'disconnected' with the error that made it give up.
  room.on('reconnecting', () => {
    if (!finished) report(RECONNECTING);
  });
  room.on('reconnected', () => {
    if (!finished) report(RECONNECTED);
  });
  room.on('disconnected', (_room, error) => {
    if (!error || error.code === ROOM_COMPLETED) ended();
    else failed();
  });

  // Tracks subscribed before the listeners above were added.
  for (const participant of room.participants.values()) {
    for (const publication of participant.tracks.values()) {
      if (publication.track) attach(publication.track, participant);
    }
  }
  if (room.state === 'disconnected') {
    finish();
    throw new Error('The room ended while joining it.');
  }
  // The server names this room only while its host is connected. A room whose host does not
  // show up is one that has just ended (another server's lookup can lag a few seconds) or one
  // this token's connect created anew: leave it, so no viewer sits in an empty, billed room,
  // and the page asks again.
  hostSeen = hostSeen || [...room.participants.values()].some(isHost);
  room.on('participantConnected', (participant) => {
    if (isHost(participant)) hostSeen = true;
  });
  if (tokenResponse.hostIdentity && !hostSeen) {
    setTimeout(() => {
      if (!hostSeen) failed();
    }, HOST_WAIT_MS);
  }

  container.appendChild(video);
  return videoPlayback(video, finish);
}

// The Live flow: connect the Live Player with the playback token from /audience_token.
// The player's states reach the page in the page's words: `buffering` once the stream has
// played is 'reconnecting' (the player catches up by itself), `playing` after that
// 'reconnected'; an end is onEnded, an error 'failed'.
async function playLive({ tokenResponse, container, onEnded, onStateChange }) {
  const Player = await playerSdk();
  if (!Player.isSupported) throw new UnsupportedBrowserError();
  const player = await Player.connect(tokenResponse.token, { playerWasmAssetsPath: PLAYER_ASSETS });
  // Kept here because the SDK lets go of it: once the player has ended (by itself, or with an
  // error) its inner player is deleted and `player.videoElement` is undefined.
  const video = player.videoElement;
  player.isMuted = true; // browsers only autoplay muted media
  let finished = false;
  // The SDK releases the player as it reports `ended` (an error is reported as `ended` too);
  // disconnecting a released player throws from inside the SDK.
  let released = false;
  let started = false;
  let played = false;
  let stalled = false;
  const report = (state) => onStateChange && onStateChange(state);
  // Safe at any time and more than once.
  const finish = () => {
    if (finished) return;
    finished = true;
    if (!released) {
      try {
        player.disconnect();
      } catch (error) {
        console.warn('Disconnecting the Live player failed:', error);
      }
    }
    video.remove();
  };
  // play() has no effect before the player is ready (the SDK says so), so wait for it.
  const startWhenReady = () => {
    if (started || finished || player.state !== Player.State.Ready) return;
    started = true;
    player.play();
  };
  // The player's only failure report: it moves to `ended` and emits `error` right after, in
  // the same turn. That is no end of the stream: the page asks for a fresh token and retries.
  player.on(Player.Event.Error, (error) => {
    if (finished) return;
    console.warn('The Live player failed:', error);
    finish();
    report(FAILED);
  });
  player.on(Player.Event.StateChanged, (state) => {
    if (state === Player.State.Ended) released = true;
    if (finished) return;
    if (state === Player.State.Ended) {
      // Let an `error` that comes with this `ended` be seen first.
      queueMicrotask(() => {
        if (finished) return;
        finish();
        if (onEnded) onEnded();
      });
      return;
    }
    if (state === Player.State.Ready) startWhenReady();
    else if (state === Player.State.Buffering && played && !stalled) {
      stalled = true;
      report(RECONNECTING);
    } else if (state === Player.State.Playing) {
      played = true;
      if (stalled) report(RECONNECTED);
      stalled = false;
    }
  });
  container.appendChild(video);
  startWhenReady();
  return {
    videoElement: video,
    async stop() {
      finish();
    },
    setMuted(muted) {
      // the SDK warns about, and ignores, calls on a released player
      if (!released && !finished) player.isMuted = muted;
    },
    get muted() {
      return released || finished ? true : player.isMuted;
    },
  };
}
