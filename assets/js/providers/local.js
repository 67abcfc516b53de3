// The `local` provider: the host's browser sends media straight to each viewer's browser over
// WebRTC; the dev server only relays the SDP (see livescreen/devserver/relays/signalling.py), on
// the page's one socket (page-socket.js): the host's channel brings it offers, a viewer's
// channel takes its offer and brings back the answer. The host answers with a plain POST.
// No STUN/TURN servers: host candidates only, which is enough on one machine or a LAN.

import { postJSON } from '../api.js';
import { frameRateFor } from '../encode-budget.js';
import { openChannel } from '../page-socket.js';
import { FAILED, RECONNECTED, RECONNECTING } from '../page-states.js';
import { videoPlayback } from '../playback.js';
import { startRecording } from '../recorder.js';
import { StreamFullError } from '../stream-full.js';
import { iceGatheringComplete } from '../webrtc.js';

// One transport for audio and video (every current browser bundles them), so one set of
// candidates to gather.
/** @type {RTCConfiguration} */
const RTC_CONFIG = { iceServers: [], bundlePolicy: 'max-bundle' };
// How long the host keeps a viewer's connection that has not connected yet.
const PEER_CONNECT_TIMEOUT_MS = 30_000;
// The server gives the host 15 s to answer (then refuses the offer with 504); this is in case
// the server itself never says.
const ANSWER_TIMEOUT_MS = 20_000;

function signallingBase(tokenResponse) {
  return tokenResponse.signalling || '/local';
}

// How `pc` sends the shared screen: at most `frameRate` frames per second (encode-budget.js), and
// text must stay readable, so frames are dropped rather than resolution where the browser allows.
async function sendAtMost(pc, frameRate) {
  if (pc.signalingState === 'closed') return; // the viewer left meanwhile
  for (const sender of pc.getSenders()) {
    if (!sender.track || sender.track.kind !== 'video') continue;
    // a browser that refuses the preference still gets the frame rate
    if (!(await setSending(sender, frameRate, 'maintain-resolution'))) {
      await setSending(sender, frameRate, null);
    }
  }
}

// One setParameters call; false (and a warning) if the browser refused it.
async function setSending(sender, frameRate, preference) {
  const params = sender.getParameters();
  if (preference) params.degradationPreference = preference;
  for (const encoding of params.encodings || []) encoding.maxFramerate = frameRate;
  try {
    await sender.setParameters(params);
    return true;
  } catch (error) {
    console.warn('Could not set how the screen is sent:', error);
    return false;
  }
}

export function isSupported() {
  return typeof RTCPeerConnection === 'function' && typeof WebSocket === 'function';
}

// Host: answer every viewer's offer with a peer connection carrying our tracks.
export async function publish({
  tokenResponse,
  videoTrack,
  audioTrack,
  onViewerCount,
  onDisconnected,
  onStateChange,
}) {
  const base = signallingBase(tokenResponse);
  const token = tokenResponse.token;
  const stream = new MediaStream([videoTrack, audioTrack].filter(Boolean));
  const peers = new Map(); // viewer id -> { pc, timer, sending, ready, connected }
  // the frame rate every viewer is sent now (encode-budget.js): it follows how many viewers the
  // host's browser encodes for, those whose connection has come up (an offer that never
  // connects encodes nothing, so it takes nothing from the others)
  let frameRate = frameRateFor(1);
  // Sends `peer` the current frame rate once its earlier change is done (one at a time).
  const sendCurrentRate = (peer) => {
    peer.sending = peer.sending
      .then(() => sendAtMost(peer.pc, frameRate))
      .catch((error) => console.warn('Could not set how the screen is sent:', error));
    return peer.sending;
  };
  // After a viewer connected or went: every viewer is sent the rate for the new number.
  const shareFrameRate = () => {
    const encoded = [...peers.values()].filter((peer) => peer.connected).length;
    const rate = frameRateFor(encoded);
    if (stopped || rate === frameRate) return;
    frameRate = rate;
    for (const peer of peers.values()) if (peer.ready) sendCurrentRate(peer);
  };
  let stopped = false;
  let recording = null; // what startRecording() returned, while the stream is recorded

  // Forget `viewer`'s connection (only `pc` itself, if given: a newer one may have replaced it).
  const closePeer = (viewer, pc) => {
    const peer = peers.get(viewer);
    if (!peer || (pc && peer.pc !== pc)) return;
    peers.delete(viewer);
    clearTimeout(peer.timer);
    peer.pc.close();
    shareFrameRate();
  };

  const answerOffer = async ({ viewer, sdp }) => {
    if (stopped || peers.has(viewer)) return; // an offer replayed after reconnecting
    const pc = new RTCPeerConnection(RTC_CONFIG);
    // A viewer that never connects (or whose connection dies) must not hold a connection here.
    const timer = setTimeout(() => {
      if (pc.connectionState !== 'connected') closePeer(viewer, pc);
    }, PEER_CONNECT_TIMEOUT_MS);
    // (`ready` once its answer is set: a sender can be changed only from then on)
    const peer = { pc, timer, sending: Promise.resolve(), ready: false, connected: false };
    peers.set(viewer, peer);
    pc.addEventListener('connectionstatechange', () => {
      if (pc.connectionState === 'connected') {
        clearTimeout(timer);
        if (!peer.connected) {
          peer.connected = true;
          shareFrameRate();
        }
      }
      if (pc.connectionState === 'failed' || pc.connectionState === 'closed') closePeer(viewer, pc);
    });
    for (const track of stream.getTracks()) pc.addTrack(track, stream);
    try {
      await pc.setRemoteDescription({ type: 'offer', sdp });
      await pc.setLocalDescription(await pc.createAnswer());
      peer.ready = true;
      await Promise.all([sendCurrentRate(peer), iceGatheringComplete(pc)]);
      if (stopped || peers.get(viewer)?.pc !== pc) return;
      await postJSON(`${base}/answer`, { token, viewer, sdp: pc.localDescription.sdp });
    } catch (error) {
      console.warn('Could not answer a viewer:', error);
      closePeer(viewer, pc);
    }
  };

  let channel = null;
  const shutDown = () => {
    stopped = true;
    if (channel) channel.close();
    for (const viewer of [...peers.keys()]) closePeer(viewer);
  };

  // The channel is subscribed again whenever the socket comes back (offers still unanswered are
  // sent again); it is lost only when the server refuses it (the stream ended meanwhile). While
  // the socket is down, viewers already connected keep their media; new ones cannot join.
  let dropped = false;
  channel = await openChannel('host', { token }, {
    onDrop: () => {
      if (stopped || dropped) return;
      dropped = true;
      onStateChange && onStateChange(RECONNECTING);
    },
    handlers: {
      subscribed: () => {
        if (stopped || !dropped) return;
        dropped = false;
        onStateChange && onStateChange(RECONNECTED);
      },
      offer: answerOffer,
      bye: ({ viewer }) => closePeer(viewer),
      viewers: ({ count }) => onViewerCount && onViewerCount(count),
      ended: ({ reason }) => {
        if (stopped) return;
        // the server ended the stream: it takes no more of the recording
        if (recording) recording.stop({ upload: false });
        shutDown();
        onDisconnected && onDisconnected(new Error(reason || 'The stream ended.'));
      },
    },
    onLost: () => {
      if (stopped) return;
      if (recording) recording.stop({ upload: false });
      shutDown();
      onDisconnected && onDisconnected(new Error('Lost the connection to the server.'));
    },
  });

  return {
    // Record what is published and upload it, when the server records (`recording` in the
    // /host_token reply); call once the stream is live. False when nothing is recorded.
    /** @param {{ onStatus?: (status: { state: string, message: string }) => void }} [options] */
    startRecording({ onStatus } = {}) {
      const where = tokenResponse.recording;
      if (!where || !where.upload || stopped || recording) return false;
      recording = startRecording({ stream, upload: where.upload, token, chunkBytes: where.chunkBytes, onStatus });
      return true;
    },
    async stop() {
      // the last piece of the recording is uploaded while the stream is still live
      if (recording) await recording.stop();
      shutDown();
    },
    setMicEnabled(enabled) {
      if (audioTrack) audioTrack.enabled = enabled;
    },
  };
}

// Viewer: offer to receive audio and video, wait for the host's answer, show what arrives.
export async function play({ tokenResponse, container, onEnded, onStateChange }) {
  const token = tokenResponse.token;
  const pc = new RTCPeerConnection(RTC_CONFIG);
  pc.addTransceiver('video', { direction: 'recvonly' });
  pc.addTransceiver('audio', { direction: 'recvonly' });

  const video = document.createElement('video');
  video.autoplay = true;
  video.playsInline = true;
  video.muted = true; // browsers only autoplay muted media
  const remote = new MediaStream();
  video.srcObject = remote;
  pc.addEventListener('track', (event) => {
    remote.addTrack(event.track);
    video.play().catch(() => {});
  });

  let channel = null;
  let finished = false;
  const finish = () => {
    finished = true;
    if (channel) channel.close();
    pc.close();
    video.srcObject = null;
    video.remove();
  };

  // The peer connection's own states, in the page's vocabulary (page-states.js): ICE gets a
  // short drop back by itself ('disconnected' -> 'connected'); 'failed' it cannot.
  let lostTimer = null;
  let lost = false;
  const report = (state) => {
    if (!finished && onStateChange) onStateChange(state);
  };
  pc.addEventListener('connectionstatechange', () => {
    const state = pc.connectionState;
    if (finished) return;
    clearTimeout(lostTimer);
    if (state === 'disconnected') {
      if (!lost) report(RECONNECTING);
      lost = true;
      // give ICE a moment to recover from a short drop before calling it lost
      lostTimer = setTimeout(() => {
        if (pc.connectionState !== 'connected') report(FAILED);
      }, 4000);
    } else if (state === 'connected' && lost) {
      lost = false;
      report(RECONNECTED);
    } else if (state === 'failed') {
      report(FAILED);
    }
  });

  try {
    await pc.setLocalDescription(await pc.createOffer());
    await iceGatheringComplete(pc);
    // The offer goes to the host at once; its answer comes back on the same channel. The
    // viewer keeps its place while the channel stays open: a lost socket is a lost place.
    let answered;
    const answer = new Promise((resolve, reject) => {
      answered = { resolve, reject };
    });
    const gone = (error) => {
      if (finished) return;
      answered.reject(error);
      report(FAILED);
    };
    try {
      channel = await openChannel('viewer', { token, sdp: pc.localDescription.sdp }, {
        resume: false,
        handlers: {
          answer: (data) => answered.resolve(data),
          ended: () => {
            answered.reject(new Error('The stream has ended.'));
            if (finished) return;
            finish();
            onEnded && onEnded();
          },
        },
        onLost: gone,
      });
    } catch (error) {
      if (error.status === 429) throw new StreamFullError(error.message);
      throw error;
    }
    const timer = setTimeout(() => gone(new Error('The host did not answer in time.')), ANSWER_TIMEOUT_MS);
    try {
      const { sdp } = await answer;
      await pc.setRemoteDescription({ type: 'answer', sdp });
    } finally {
      clearTimeout(timer);
    }
  } catch (error) {
    finish();
    throw error;
  }

  container.appendChild(video);
  return videoPlayback(video, finish);
}
