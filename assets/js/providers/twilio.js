// The `twilio` provider: the host publishes into a Twilio Video room with twilio-video; viewers
// play the Twilio Live stream made from that room with the Live Player SDK. Both SDKs are
// served from /vendor/ (copied from node_modules by `npm run build`).

import { loadScript } from '../load-script.js';

const VIDEO_SDK = '/vendor/twilio-video.min.js';
const PLAYER_SDK = '/vendor/twilio-live-player.min.js';
// The player fetches its wasm worker (.js) and .wasm from this folder.
const PLAYER_ASSETS = '/vendor';

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

export function isSupported() {
  const Player = window.Twilio && window.Twilio.Live && window.Twilio.Live.Player;
  if (Player) return Boolean(Player.isSupported);
  return typeof WebAssembly === 'object' && typeof Worker === 'function';
}

// Host: join the room named by /host_token with the captured screen and microphone tracks.
export async function publish({ tokenResponse, videoTrack, audioTrack, onDisconnected }) {
  const Video = await videoSdk();
  const localVideo = new Video.LocalVideoTrack(videoTrack, { name: 'screen' });
  const localAudio = audioTrack ? new Video.LocalAudioTrack(audioTrack, { name: 'microphone' }) : null;
  const room = await Video.connect(tokenResponse.token, {
    name: tokenResponse.room,
    tracks: [localVideo, localAudio].filter(Boolean),
  });
  let leaving = false;
  room.on('disconnected', (_room, error) => {
    if (!leaving && onDisconnected) onDisconnected(error || new Error('Disconnected from the room.'));
  });
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

// Viewer: connect the Live Player with the playback token from /audience_token.
export async function play({ tokenResponse, container, onEnded, onStateChange }) {
  const Player = await playerSdk();
  if (!Player.isSupported) throw new UnsupportedBrowserError();
  const player = await Player.connect(tokenResponse.token, { playerWasmAssetsPath: PLAYER_ASSETS });
  player.isMuted = true; // browsers only autoplay muted media
  let finished = false;
  player.on('stateChanged', (state) => {
    if (finished) return;
    onStateChange && onStateChange(state);
    if (state === 'ended') {
      finished = true;
      player.videoElement.remove();
      onEnded && onEnded();
    }
  });
  player.play();
  container.appendChild(player.videoElement);
  return {
    videoElement: player.videoElement,
    async stop() {
      finished = true;
      player.disconnect();
      player.videoElement.remove();
    },
    setMuted(muted) {
      player.isMuted = muted;
    },
    get muted() {
      return player.isMuted;
    },
  };
}
