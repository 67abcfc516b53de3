// The host page: flip the switch, enter the password, share a screen (or camera) and the
// microphone. Whatever goes wrong, the switch ends up OFFLINE and nothing is left running.
// The chat beside it joins as the host (who can delete messages and disconnect people) once the
// password has given a host session, and stays open when the stream stops. Below the switch: the
// stream's details (host-details-form.js), its audience numbers while live and its summary after
// (host-audience.js), and the Share buttons (share.js).

import { loadProvider, postJSON, rememberHostDevice, withHostDevice } from './js/api.js';
import { captureMedia } from './js/capture.js';
import { mountChat } from './js/chat/panel.js';
import { mountAudienceNumbers } from './js/host-audience.js';
import { mountDetailsForm } from './js/host-details-form.js';
import { RECONNECTED, RECONNECTING } from './js/page-states.js';
import { mountShare } from './js/share.js';

/** @type {(id: string) => any} an element of host.html, of the kind it has there */
const $ = (id) => document.getElementById(id);
const ui = {
  liveSwitch: $('liveSwitch'),
  offlineMessage: $('offlineMessage'),
  pendingMessage: $('pendingMessage'),
  liveMessage: $('liveMessage'),
  error: $('error'),
  notice: $('notice'),
  sourceOptions: $('sourceOptions'),
  passwordForm: $('passwordForm'),
  password: $('password'),
  cancelPassword: $('cancelPassword'),
  liveInfo: $('liveInfo'),
  preview: $('preview'),
  onAir: $('onAir'),
  micButton: $('micButton'),
  recordingBadge: $('recordingBadge'),
  recordingAlert: $('recordingAlert'),
};
const chat = mountChat($('chat'), { role: 'host' });
const audience = mountAudienceNumbers({
  viewerCount: $('viewerCount'),
  peakViewers: $('peakViewers'),
  summary: $('summary'),
  summaryTitle: $('summaryTitle'),
  summaryFacts: $('summaryFacts'),
});
mountShare({
  share: $('shareButton'),
  embed: $('embedButton'),
  status: $('shareStatus'),
  fallback: $('shareFallback'),
  label: $('shareLabel'),
  text: $('shareText'),
});

// offline -> password -> starting -> live -> offline
let state = 'offline';
// the stream being started or on air: { session, handle, tracks, cancelled, startedAt, timer }
let current = null;
// while live, the details are saved with the stream's host session (else with the password)
const detailsForm = mountDetailsForm($('detailsForm'), {
  session: () => (state === 'live' && current && current.session) || null,
});

function render() {
  ui.liveSwitch.checked = state !== 'offline';
  ui.liveSwitch.disabled = state === 'starting';
  ui.offlineMessage.hidden = state !== 'offline' && state !== 'password';
  ui.pendingMessage.hidden = state !== 'starting';
  ui.liveMessage.hidden = state !== 'live';
  ui.passwordForm.hidden = state !== 'password';
  ui.sourceOptions.hidden = state !== 'offline' && state !== 'password';
  ui.liveInfo.hidden = state !== 'live' && state !== 'starting';
  document.body.dataset.state = state;
  chat.setLive(state === 'live');
  detailsForm.render();
}

function showError(message) {
  ui.error.textContent = message;
  ui.error.hidden = false;
}

function showNotice(message) {
  ui.notice.textContent = message;
  ui.notice.hidden = !message;
}

function clearMessages() {
  ui.error.hidden = true;
  showNotice('');
  ui.recordingAlert.hidden = true;
}

// The recording's state from the provider: a badge while it records; a warning when it stopped
// before the stream did (limit reached, refused, unreachable) or could not start.
function showRecording({ state, message }) {
  ui.recordingBadge.hidden = state !== 'recording';
  if (state === 'recording' || state === 'stopped') return;
  ui.recordingAlert.textContent = message;
  ui.recordingAlert.hidden = !message;
}

function selectedSource() {
  return /** @type {HTMLInputElement} */ (document.querySelector('input[name="source"]:checked')).value;
}

function formatDuration(ms) {
  const total = Math.floor(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = String(Math.floor((total % 3600) / 60)).padStart(2, '0');
  const s = String(total % 60).padStart(2, '0');
  return `${h}:${m}:${s}`;
}

function setMicEnabled(enabled) {
  if (!current || !current.handle) return;
  current.handle.setMicEnabled(enabled);
  current.micEnabled = enabled;
  ui.micButton.textContent = enabled ? 'Mute microphone' : 'Unmute microphone';
  ui.micButton.setAttribute('aria-pressed', String(!enabled));
}

class Cancelled extends Error {}

async function start(password) {
  clearMessages();
  const attempt = { session: null, handle: null, tracks: [], cancelled: false, micEnabled: true };
  current = attempt;
  state = 'starting';
  render();
  const check = () => {
    if (attempt.cancelled) throw new Cancelled();
  };
  try {
    const grant = await postJSON('/host_token', withHostDevice({ password }));
    rememberHostDevice(grant);
    attempt.session = grant.session;
    chat.setHostSession(grant.session);
    check();
    const provider = await loadProvider(grant);
    if (!provider.isSupported(grant)) {
      throw new Error('This browser cannot publish a stream. Try a recent Chrome, Edge or Firefox.');
    }
    const { video, audio } = await captureMedia(selectedSource(), attempt.tracks);
    check();
    video.addEventListener('ended', () => stop('Sharing stopped, so the stream has ended.'));
    ui.preview.srcObject = new MediaStream([video]);
    attempt.handle = await provider.publish({
      tokenResponse: grant,
      videoTrack: video,
      audioTrack: audio,
      onViewerCount: (count) => current === attempt && audience.viewers(count),
      // the provider cannot recover: it has left, so go offline and stop the rest
      onDisconnected: (error) => stop(`The stream has ended: ${error.message}`),
      // nothing reaches viewers while the provider gets its connection back by itself
      onStateChange: (providerState) => {
        if (current !== attempt) return;
        if (providerState === RECONNECTING) showNotice('Connection lost. Reconnecting…');
        else if (providerState === RECONNECTED) showNotice('');
      },
    });
    check();
    await postJSON('/stream_start', { session: grant.session });
    check();
    if (attempt.handle.startRecording) attempt.handle.startRecording({ onStatus: showRecording });
  } catch (error) {
    if (current === attempt) current = null;
    await teardown(attempt);
    if (!(error instanceof Cancelled)) {
      state = 'offline';
      render();
      showError(error.message || String(error));
    }
    return;
  }
  // time on air, on the page's monotonic clock: setting the computer's clock does not change it
  attempt.startedAt = performance.now();
  attempt.timer = setInterval(() => {
    ui.onAir.textContent = formatDuration(performance.now() - attempt.startedAt);
  }, 500);
  ui.onAir.textContent = formatDuration(0);
  state = 'live';
  render();
  audience.start(attempt.session);
}

async function stopProvider(attempt) {
  const handle = attempt.handle;
  attempt.handle = null;
  if (!handle) return;
  try {
    await handle.stop();
  } catch (error) {
    console.warn('Provider stop failed:', error);
  }
}

// Undo whatever part of `start` happened: provider connection, capture, server-side stream.
async function teardown(attempt) {
  attempt.cancelled = true;
  if (attempt.tornDown) {
    // A connection or capture that finished opening after the first teardown is closed too.
    await stopProvider(attempt);
    for (const track of attempt.tracks) track.stop();
    return;
  }
  attempt.tornDown = true;
  clearInterval(attempt.timer);
  await stopProvider(attempt);
  for (const track of attempt.tracks) track.stop();
  if (ui.preview.srcObject) ui.preview.srcObject = null;
  audience.stop(null);
  ui.micButton.textContent = 'Mute microphone';
  ui.micButton.setAttribute('aria-pressed', 'false');
  if (attempt.session) {
    try {
      const stopped = await postJSON('/stream_stop', { session: attempt.session });
      audience.stop(stopped.summary);
    } catch (error) {
      showError(`Could not tell the server to stop the stream: ${error.message}`);
    }
  }
}

async function stop(notice = '') {
  const attempt = current;
  if (!attempt) return;
  current = null;
  state = 'offline';
  render();
  showNotice(notice);
  await teardown(attempt);
}

ui.liveSwitch.addEventListener('change', () => {
  if (ui.liveSwitch.checked && state === 'offline') {
    clearMessages();
    state = 'password';
    render();
    ui.password.focus();
  } else if (!ui.liveSwitch.checked && state === 'password') {
    state = 'offline';
    render();
  } else if (!ui.liveSwitch.checked && state === 'live') {
    stop();
  } else {
    render();
  }
});

ui.passwordForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const password = ui.password.value;
  ui.password.value = '';
  start(password);
});

ui.cancelPassword.addEventListener('click', () => {
  ui.password.value = '';
  state = 'offline';
  render();
});

ui.passwordForm.addEventListener('keydown', (event) => {
  if (event.key === 'Escape') ui.cancelPassword.click();
});

ui.micButton.addEventListener('click', () => {
  if (current) setMicEnabled(current.micEnabled === false);
});

// Closing or leaving the tab: stop the stream with a request that outlives the page.
window.addEventListener('pagehide', () => {
  const attempt = current;
  if (!attempt) return;
  current = null;
  attempt.cancelled = true;
  for (const track of attempt.tracks) track.stop();
  if (attempt.session) {
    const body = new Blob([JSON.stringify({ session: attempt.session })], { type: 'application/json' });
    navigator.sendBeacon('/stream_stop', body);
  }
});

// A page restored from the back/forward cache had its stream stopped on pagehide.
window.addEventListener('pageshow', (event) => {
  if (event.persisted && state !== 'offline') {
    state = 'offline';
    render();
  }
});

render();
