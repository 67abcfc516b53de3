// The `ivs` provider: Amazon IVS real-time stages. The host joins the stage named by /host_token
// and publishes the screen and microphone; viewers join the live stage subscribe-only with the
// token from /audience_token and render the host's streams. Sub-300 ms latency, up to 10,000
// viewers per stage. The SDK (amazon-ivs-web-broadcast) is served from /vendor/, copied from
// node_modules by `npm run build`; it defines the global `IVSBroadcastClient`.

import { loadScript } from '../load-script.js';
import { FAILED, RECONNECTED, RECONNECTING } from '../page-states.js';
import { videoPlayback } from '../playback.js';

const SDK = '/vendor/amazon-ivs-web-broadcast.js';

// IVS real-time publishing tops out at 720p, 30 fps and 2.5 Mbps.
const MAX_WIDTH = 1280;
const MAX_HEIGHT = 720;
const VIDEO_CONFIG = { maxVideoBitrateKbps: 2500, maxFramerate: 30 };

async function sdk() {
  await loadScript(SDK);
  return window.IVSBroadcastClient;
}

export function isSupported() {
  const client = window.IVSBroadcastClient;
  if (client && typeof client.isSupported === 'function') return Boolean(client.isSupported());
  return typeof RTCPeerConnection === 'function' && Boolean(navigator.mediaDevices);
}

// A publish that timed out is the one failure the SDK says to retry (by refreshing the strategy);
// the host gets this many tries, spaced out, before the stream is called off.
const PUBLISH_RETRY_DELAYS_MS = [1000, 3000];
// The SDK reconnects its stage connection by itself; a connection still not back after this long
// is given up (the host goes offline, a viewer looks for the stream again with a fresh token).
const HOST_RECONNECT_GIVE_UP_MS = 30_000;
const VIEWER_RECONNECT_GIVE_UP_MS = 15_000;

function asError(error, fallback) {
  if (error instanceof Error) return error;
  return new Error(error ? `${fallback} (${error})` : fallback);
}

// Why the SDK left the stage (StageLeftReason), in words for the host.
function leftMessage(reason) {
  switch (reason) {
    case 'stage-deleted':
      return 'The stage was deleted.';
    case 'participant-disconnected':
      return 'IVS disconnected this host.';
    case 'token-reused':
      return 'This stream was opened in another tab.';
    default:
      return 'Lost the connection to the stage.';
  }
}

// A StageError the host cannot recover from, in words for the host. `ErrorCode` is the SDK's
// StageErrorCode.
function publishFailedMessage(error, ErrorCode) {
  switch (error && error.code) {
    case ErrorCode.TIMEOUT:
      return 'IVS did not take the stream in time, so nothing is being sent.';
    case ErrorCode.STAGE_AT_CAPACITY:
      return 'The IVS stage is full, so nothing is being sent.';
    case ErrorCode.CODEC_MISMATCH:
      return 'This browser cannot encode video in a format IVS accepts.';
    case ErrorCode.TOKEN_EXPIRED:
    case ErrorCode.TOKEN_MALFORMED:
    case ErrorCode.TOKEN_NOT_ALLOWED:
      return 'IVS refused the stream token, so nothing is being sent.';
    case ErrorCode.STAGE_DELETED:
      return 'The stage was deleted.';
    case ErrorCode.PARTICIPANT_DISCONNECTED:
      return 'IVS disconnected this host.';
    default:
      return 'IVS stopped taking the stream, so nothing is being sent.';
  }
}

// Keep the shared screen within what a stage accepts; the browser scales, the SDK need not.
async function fitTo720p(track) {
  const { width = 0, height = 0 } = track.getSettings ? track.getSettings() : {};
  if (width <= MAX_WIDTH && height <= MAX_HEIGHT) return;
  try {
    await track.applyConstraints({ width: { max: MAX_WIDTH }, height: { max: MAX_HEIGHT } });
  } catch (error) {
    console.warn('Could not scale the shared screen to 720p:', error);
  }
}

// Follows the stage connection as the SDK reports it and tells `report` only when it is lost
// after having been up (RECONNECTING) and when it is back (RECONNECTED). The SDK goes
// connected -> errored -> connecting -> connected by itself; `onGiveUp` runs when it has not
// come back within `giveUpMs`.
function followConnection({ StageConnectionState, report, giveUpMs, onGiveUp }) {
  let connected = false;
  let lost = false;
  let giveUpTimer = null;
  const stopWaiting = () => {
    clearTimeout(giveUpTimer);
    giveUpTimer = null;
  };
  return {
    onState(state) {
      if (state === StageConnectionState.CONNECTED) {
        connected = true;
        if (lost) {
          lost = false;
          stopWaiting();
          report(RECONNECTED);
        }
      } else if (state === StageConnectionState.CONNECTING || state === StageConnectionState.ERRORED) {
        if (!connected || lost) return;
        lost = true;
        report(RECONNECTING);
        giveUpTimer = setTimeout(onGiveUp, giveUpMs);
      }
    },
    stop: stopWaiting,
  };
}

// Host: join the stage and publish the captured screen (and microphone) as local stage streams.
export async function publish({
  tokenResponse,
  videoTrack,
  audioTrack,
  onViewerCount,
  onDisconnected,
  onStateChange,
}) {
  const { Stage, LocalStageStream, SubscribeType, StageEvents, StageConnectionState, StageErrorCode, StageErrorCategory } =
    await sdk();
  await fitTo720p(videoTrack);
  const video = new LocalStageStream(videoTrack, VIDEO_CONFIG);
  const audio = audioTrack ? new LocalStageStream(audioTrack) : null;
  const strategy = {
    stageStreamsToPublish: () => [video, audio].filter(Boolean),
    shouldPublishParticipant: () => true,
    shouldSubscribeToParticipant: () => SubscribeType.NONE, // the host watches no one
  };
  const stage = new Stage(tokenResponse.token, strategy);

  let joined = false;
  let leaving = false;
  let ended = false;
  let retryTimer = null;
  let publishRetries = 0;
  let retrying = false;
  const report = (state) => onStateChange && onStateChange(state);
  const connection = followConnection({
    StageConnectionState,
    report,
    giveUpMs: HOST_RECONNECT_GIVE_UP_MS,
    onGiveUp: () => end(new Error('Lost the connection to IVS and could not get it back.')),
  });
  // The stage is left, so nothing is sent and IVS bills nothing more for this participant; the
  // page then stops the rest (capture, the server-side stream).
  const end = (error) => {
    if (leaving || ended) return;
    ended = true;
    clearTimeout(retryTimer);
    connection.stop();
    stage.leave();
    if (onDisconnected) onDisconnected(error);
  };

  // Viewer count: the stage's own subscriber count where the SDK reports it, otherwise the
  // remote participants this page has been told about.
  const viewers = new Set();
  let countedByStage = false;
  const reportCount = (count) => onViewerCount && onViewerCount(count);
  if (StageEvents.STAGE_SUBSCRIBER_COUNT_CHANGED) {
    stage.on(StageEvents.STAGE_SUBSCRIBER_COUNT_CHANGED, (count) => {
      countedByStage = true;
      reportCount(count);
    });
  }
  stage.on(StageEvents.STAGE_PARTICIPANT_JOINED, (participant) => {
    if (participant.isLocal) return;
    viewers.add(participant.id);
    if (!countedByStage) reportCount(viewers.size);
  });
  stage.on(StageEvents.STAGE_PARTICIPANT_LEFT, (participant) => {
    if (!viewers.delete(participant.id)) return;
    if (!countedByStage) reportCount(viewers.size);
  });
  // A retried publish that went through: the host is sending again.
  stage.on(StageEvents.STAGE_PARTICIPANT_PUBLISH_STATE_CHANGED, (participant, state) => {
    if (!participant.isLocal || state !== 'published' || !retrying) return;
    retrying = false;
    publishRetries = 0;
    report(RECONNECTED);
  });

  stage.on(StageEvents.ERROR, (error) => {
    if (leaving || ended) return;
    // a failed join rejects join() itself, which the caller reports
    if (error.category === StageErrorCategory.JOIN_ERROR && !joined) return;
    if (error.category === StageErrorCategory.PUBLISH_ERROR && error.code === StageErrorCode.TIMEOUT) {
      if (publishRetries < PUBLISH_RETRY_DELAYS_MS.length) {
        const delay = PUBLISH_RETRY_DELAYS_MS[publishRetries];
        publishRetries += 1;
        if (!retrying) report(RECONNECTING);
        retrying = true;
        clearTimeout(retryTimer);
        retryTimer = setTimeout(() => {
          if (!leaving && !ended) stage.refreshStrategy();
        }, delay);
        return;
      }
    }
    if (error.category === StageErrorCategory.SUBSCRIBE_ERROR) return; // the host subscribes to no one
    console.warn('IVS stage error:', error);
    end(new Error(publishFailedMessage(error, StageErrorCode)));
  });
  stage.on(StageEvents.STAGE_LEFT, (reason) => end(new Error(leftMessage(reason))));
  stage.on(StageEvents.STAGE_CONNECTION_STATE_CHANGED, (state) => {
    if (!leaving && !ended) connection.onState(state);
  });

  try {
    await stage.join();
    joined = true;
  } catch (error) {
    leaving = true;
    connection.stop();
    stage.leave();
    throw asError(error, 'Could not join the stage');
  }

  return {
    async stop() {
      leaving = true;
      clearTimeout(retryTimer);
      connection.stop();
      stage.leave();
    },
    setMicEnabled(enabled) {
      if (audio) audio.setMuted(!enabled);
    },
  };
}

// Viewer: join subscribe-only and show the first participant that publishes (only the host can:
// audience tokens carry no PUBLISH capability).
export async function play({ tokenResponse, container, onEnded, onStateChange }) {
  const { Stage, SubscribeType, StageEvents, StageConnectionState, StreamType, StageErrorCategory } = await sdk();
  const video = document.createElement('video');
  video.autoplay = true;
  video.playsInline = true;
  video.muted = true; // browsers only autoplay muted media
  const remote = new MediaStream();
  video.srcObject = remote;

  const strategy = {
    stageStreamsToPublish: () => [],
    shouldPublishParticipant: () => false,
    shouldSubscribeToParticipant: () => SubscribeType.AUDIO_VIDEO,
  };
  const stage = new Stage(tokenResponse.token, strategy);

  let hostId = null;
  let joined = false;
  let finished = false;
  const report = (state) => {
    if (!finished && onStateChange) onStateChange(state);
  };
  const connection = followConnection({
    StageConnectionState,
    report,
    giveUpMs: VIEWER_RECONNECT_GIVE_UP_MS,
    onGiveUp: () => report(FAILED),
  });
  const finish = () => {
    finished = true;
    connection.stop();
    stage.leave();
    for (const track of remote.getTracks()) remote.removeTrack(track);
    video.srcObject = null;
    video.remove();
  };
  const ended = () => {
    if (finished) return;
    finish();
    if (onEnded) onEnded();
  };

  stage.on(StageEvents.STAGE_PARTICIPANT_STREAMS_ADDED, (participant, streams) => {
    if (finished || participant.isLocal) return;
    if (hostId === null) hostId = participant.id;
    if (participant.id !== hostId) return;
    for (const stream of streams) {
      if (stream.streamType !== StreamType.VIDEO && stream.streamType !== StreamType.AUDIO) continue;
      for (const old of remote.getTracks()) {
        if (old.kind === stream.mediaStreamTrack.kind) remote.removeTrack(old);
      }
      remote.addTrack(stream.mediaStreamTrack);
    }
    video.play().catch(() => {});
  });
  stage.on(StageEvents.STAGE_PARTICIPANT_STREAMS_REMOVED, (participant, streams) => {
    if (participant.id !== hostId) return;
    for (const stream of streams) remote.removeTrack(stream.mediaStreamTrack);
  });
  stage.on(StageEvents.STAGE_PARTICIPANT_LEFT, (participant) => {
    if (participant.id === hostId) ended();
  });
  stage.on(StageEvents.STAGE_LEFT, () => ended()); // stage deleted, or we were disconnected
  // A StageError is one the SDK will not recover from. Receiving the host's media failed (or the
  // connection could not be got back): the player would stay black, so the page is told it
  // failed; it removes the player and joins again with a fresh token, which is the retry the SDK
  // documents ("leave and rejoin the stage").
  stage.on(StageEvents.ERROR, (error) => {
    if (finished) return;
    if (error.category === StageErrorCategory.JOIN_ERROR && !joined) return; // join() rejects with it
    console.warn('IVS stage error:', error);
    report(FAILED);
  });
  stage.on(StageEvents.STAGE_CONNECTION_STATE_CHANGED, (state) => {
    if (!finished) connection.onState(state);
  });

  try {
    await stage.join();
    joined = true;
  } catch (error) {
    finish();
    throw asError(error, 'Could not join the stream');
  }

  container.appendChild(video);
  return videoPlayback(video, finish);
}
