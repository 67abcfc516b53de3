// The audience page: waits for a stream, plays it (muted until clicked), says when it ends,
// then waits for the next one. No reload needed at any point. The chat beside it works either way.

import { loadProvider, postJSON } from './js/api.js';
import { mountChat } from './js/chat/panel.js';
import { FAILED, RECONNECTED, RECONNECTING } from './js/page-states.js';

const POLL_MS = 2000;
// after "this stream is full", how long until the next try
const FULL_RETRY_MS = 5000;

const playerDiv = document.getElementById('player');
const statusLine = document.getElementById('status');
const soundHint = document.getElementById('soundHint');
const recordingsLink = document.getElementById('recordingsLink');
const chat = mountChat(document.getElementById('chat'), { role: 'viewer' });

// the stream being watched: { stream, handle }
let watching = null;
// the stream that ended here (its room, or its token when the reply names no room);
// /audience_token may still hand it out briefly
let spentStream = null;
let unsupported = false;
let full = false;

const streamOf = (grant) => grant.room || grant.token;

function setStatus(message) {
  statusLine.textContent = message;
  statusLine.hidden = !message;
  document.body.dataset.status = message;
}

function renderSound() {
  const muted = !watching || watching.handle.muted;
  soundHint.hidden = !watching;
  soundHint.textContent = muted ? 'Muted · click to unmute' : 'Sound on · click to mute';
  soundHint.classList.toggle('is-on', !muted);
}

function toggleMute() {
  if (!watching) return;
  watching.handle.setMuted(!watching.handle.muted);
  const video = watching.handle.videoElement;
  if (video.paused) video.play().catch(() => {});
  renderSound();
}

async function leave(message, { ended }) {
  const current = watching;
  if (!current) return;
  watching = null;
  chat.setLive(false);
  if (ended) spentStream = current.stream;
  renderSound();
  setStatus(message);
  try {
    await current.handle.stop();
  } catch (error) {
    console.warn('Stopping playback failed:', error);
  }
}

async function watch(grant) {
  const provider = await loadProvider(grant);
  if (!provider.isSupported(grant)) {
    unsupported = true;
    setStatus('This browser cannot play the stream. Try a recent Chrome, Edge, Firefox or Safari.');
    return;
  }
  const current = { stream: streamOf(grant), handle: null };
  const handle = await provider.play({
    tokenResponse: grant,
    container: playerDiv,
    onEnded: () => {
      if (watching === current) leave('The stream has ended.', { ended: true });
    },
    // the page states every provider reports (page-states.js)
    onStateChange: (state) => {
      if (watching !== current) return;
      // the provider cannot get it back: no dead player left on screen; `run` looks for the
      // stream again with a fresh token
      if (state === FAILED) leave('Reconnecting…', { ended: false });
      // the provider is getting its connection back by itself; the picture stays meanwhile
      else if (state === RECONNECTING) setStatus('Reconnecting…');
      else if (state === RECONNECTED) setStatus('');
    },
  });
  current.handle = handle;
  watching = current;
  chat.setLive(true);
  handle.videoElement.addEventListener('click', toggleMute);
  setStatus('');
  renderSound();
}

async function check() {
  let grant;
  try {
    grant = await postJSON('/audience_token', {});
  } catch (error) {
    if (statusLine.textContent !== 'The stream has ended.') setStatus('Waiting for the server…');
    return;
  }
  // the recordings of past streams are linked only when anyone may list them
  recordingsLink.hidden = grant.recordingsPublic !== true;
  if (!grant.token || streamOf(grant) === spentStream) {
    chat.setLive(false);
    if (statusLine.textContent !== 'The stream has ended.') setStatus('Not currently streaming.');
    return;
  }
  try {
    await watch(grant);
  } catch (error) {
    if (error.name === 'UnsupportedBrowserError') {
      unsupported = true;
      setStatus(error.message);
    } else if (error.name === 'StreamFullError') {
      full = true;
      chat.setLive(true); // live, only not watchable from here yet
      setStatus(error.message);
    } else {
      console.warn('Could not join the stream:', error);
    }
  }
}

async function run() {
  while (!unsupported) {
    full = false;
    if (!watching) await check();
    await new Promise((resolve) => setTimeout(resolve, full ? FULL_RETRY_MS : POLL_MS));
  }
}

soundHint.addEventListener('click', toggleMute);
run();
