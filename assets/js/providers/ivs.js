// The `ivs` provider: Amazon IVS real-time stages. The host joins the stage named by /host_token
// and publishes the screen and microphone; viewers join the live stage subscribe-only with the
// token from /audience_token and render the host's streams. Sub-300 ms latency, up to 10,000
// viewers per stage. The SDK (amazon-ivs-web-broadcast) is served from /vendor/, copied from
// node_modules by `npm run build`; it defines the global `IVSBroadcastClient`.

import { loadScript } from '../load-script.js';
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

// Host: join the stage and publish the captured screen (and microphone) as local stage streams.
export async function publish({ tokenResponse, videoTrack, audioTrack, onViewerCount, onDisconnected }) {
  const { Stage, LocalStageStream, SubscribeType, StageEvents, StageConnectionState } = await sdk();
  await fitTo720p(videoTrack);
  const video = new LocalStageStream(videoTrack, VIDEO_CONFIG);
  const audio = audioTrack ? new LocalStageStream(audioTrack) : null;
  const strategy = {
    stageStreamsToPublish: () => [video, audio].filter(Boolean),
    shouldPublishParticipant: () => true,
    shouldSubscribeToParticipant: () => SubscribeType.NONE, // the host watches no one
  };
  const stage = new Stage(tokenResponse.token, strategy);

  let leaving = false;
  let ended = false;
  const end = (error) => {
    if (leaving || ended) return;
    ended = true;
    stage.leave();
    if (onDisconnected) onDisconnected(error);
  };

  // Viewer count: the stage's own subscriber count where the SDK reports it, otherwise the
  // remote participants this page has been told about.
  const viewers = new Set();
  let countedByStage = false;
  const report = (count) => onViewerCount && onViewerCount(count);
  if (StageEvents.STAGE_SUBSCRIBER_COUNT_CHANGED) {
    stage.on(StageEvents.STAGE_SUBSCRIBER_COUNT_CHANGED, (count) => {
      countedByStage = true;
      report(count);
    });
  }
  stage.on(StageEvents.STAGE_PARTICIPANT_JOINED, (participant) => {
    if (participant.isLocal) return;
    viewers.add(participant.id);
    if (!countedByStage) report(viewers.size);
  });
  stage.on(StageEvents.STAGE_PARTICIPANT_LEFT, (participant) => {
    if (!viewers.delete(participant.id)) return;
    if (!countedByStage) report(viewers.size);
  });

  stage.on(StageEvents.STAGE_LEFT, (reason) => end(new Error(leftMessage(reason))));
  stage.on(StageEvents.STAGE_CONNECTION_STATE_CHANGED, (state) => {
    if (state === StageConnectionState.ERRORED) end(new Error('Lost the connection to the stage.'));
  });

  try {
    await stage.join();
  } catch (error) {
    leaving = true;
    stage.leave();
    throw asError(error, 'Could not join the stage');
  }

  return {
    async stop() {
      leaving = true;
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
  const { Stage, SubscribeType, StageEvents, StageConnectionState, StreamType } = await sdk();
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
  let finished = false;
  const finish = () => {
    finished = true;
    stage.leave();
    for (const track of remote.getTracks()) remote.removeTrack(track);
    video.srcObject = null;
    video.remove();
  };
  const ended = () => {
    if (finished) return;
    finish();
    if (onStateChange) onStateChange('ended');
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
    if (onStateChange) onStateChange('playing');
  });
  stage.on(StageEvents.STAGE_PARTICIPANT_STREAMS_REMOVED, (participant, streams) => {
    if (participant.id !== hostId) return;
    for (const stream of streams) remote.removeTrack(stream.mediaStreamTrack);
  });
  stage.on(StageEvents.STAGE_PARTICIPANT_LEFT, (participant) => {
    if (participant.id === hostId) ended();
  });
  stage.on(StageEvents.STAGE_LEFT, () => ended()); // stage deleted, or we were disconnected
  stage.on(StageEvents.STAGE_CONNECTION_STATE_CHANGED, (state) => {
    if (finished) return;
    if (state === StageConnectionState.ERRORED) onStateChange && onStateChange('failed');
    else if (onStateChange) onStateChange(state);
  });

  try {
    await stage.join();
  } catch (error) {
    finish();
    throw asError(error, 'Could not join the stream');
  }

  container.appendChild(video);
  return videoPlayback(video, finish);
}
