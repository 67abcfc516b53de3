// The recordings page: the past streams (newest first) by title, with their audience numbers
// and their recordings, then any recording that belongs to no stream, and a player.
// When the list is for the host only, the host password is asked for and kept in this page's
// memory (never stored), so that a refresh can ask again. HLS recordings (ivs) play with the
// vendored hls.js wherever it can play (it recovers from network and media errors, see
// hls-recovery.js), else with the browser's own HLS (browsers with no MediaSource: older
// iPhones); webm and mp4 play in the <video> itself. One player at a time: the latest
// recording chosen is the one that plays.

import { postJSON, withHostDevice } from './js/api.js';
import { audienceFacts, factsLine, formatDuration } from './js/audience-numbers.js';
import { recoverFatalErrors } from './js/hls-recovery.js';
import { loadScript } from './js/load-script.js';

// while a recording is still being written, the list is asked again this often
const REFRESH_MS = 10_000;
// a safety net only: the duration probe ends on the player's own events (see knownDuration)
const DURATION_PROBE_LIMIT_MS = 60_000;

/** @type {(id: string) => any} an element of recordings.html, of the kind it has there */
const $ = (id) => document.getElementById(id);
const ui = {
  error: $('error'),
  loading: $('loading'),
  passwordForm: $('passwordForm'),
  password: $('password'),
  content: $('content'),
  recordingOff: $('recordingOff'),
  empty: $('empty'),
  list: $('list'),
  player: $('player'),
  playerTitle: $('playerTitle'),
  playerHint: $('playerHint'),
  refresh: $('refresh'),
};

let password = null; // the host password, in memory only
let selectedId = null;
let hls = null; // the one hls.js player, while an HLS recording is on the player
let choice = 0; // counts the recordings chosen: a play() whose count is not the latest is stale
let refreshTimer = null;
let loading = false;

const STATUS_BADGES = {
  ready: ['Ready', 'text-bg-success'],
  recording: ['Recording', 'text-bg-danger'],
  processing: ['Processing', 'text-bg-warning'],
};

function showError(message) {
  ui.error.textContent = message;
  ui.error.hidden = !message;
}

function formatStart(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? '' : date.toLocaleString();
}

// The start, in the viewer's own locale and time zone; its datetime attribute says the instant.
function startElement(iso) {
  const start = document.createElement('time');
  start.className = 'recording-start';
  start.textContent = formatStart(iso);
  if (start.textContent) start.dateTime = new Date(iso).toISOString();
  return start;
}

// The length, h:mm:ss; its data-seconds attribute says it in whole seconds ("" when unknown).
function durationElement(seconds) {
  const duration = document.createElement('span');
  duration.className = 'recording-duration';
  duration.textContent = formatDuration(seconds);
  duration.dataset.seconds =
    typeof seconds === 'number' && Number.isFinite(seconds) ? String(Math.round(seconds)) : '';
  return duration;
}

function askForPassword() {
  ui.content.hidden = true;
  ui.refresh.hidden = true;
  ui.passwordForm.hidden = false;
  ui.password.focus();
}

function recordingItem(recording) {
  const item = document.createElement('button');
  item.type = 'button';
  item.className = 'list-group-item list-group-item-action recording-item';
  item.dataset.id = recording.id;
  item.disabled = !recording.playbackUrl;
  item.classList.toggle('active', recording.id === selectedId);

  const top = document.createElement('div');
  top.className = 'd-flex w-100 justify-content-between align-items-baseline gap-2';
  const title = document.createElement('strong');
  title.className = 'text-truncate';
  title.textContent = recording.title || recording.id;
  const [label, style] = STATUS_BADGES[recording.status] || [recording.status, 'text-bg-secondary'];
  const badge = document.createElement('span');
  badge.className = `badge ${style}`;
  badge.textContent = label;
  top.append(title, badge);

  const details = document.createElement('small');
  details.className = 'text-body-secondary';
  details.append(startElement(recording.startedAt), ' · ', durationElement(recording.duration));

  item.append(top, details);
  item.addEventListener('click', () => play(recording));
  return item;
}

// One stream: its title, when and how long, its numbers, and its recordings to play.
function streamItem(stream, recordings) {
  const item = document.createElement('section');
  item.className = 'stream-item card';
  item.dataset.streamId = stream.id;
  const body = document.createElement('div');
  body.className = 'card-body';

  const top = document.createElement('div');
  top.className = 'd-flex w-100 justify-content-between align-items-baseline gap-2';
  const title = document.createElement('h2');
  title.className = 'stream-title h6 mb-1 text-truncate';
  title.textContent = stream.title || stream.id;
  top.append(title);
  if (stream.live) {
    const badge = document.createElement('span');
    badge.className = 'badge text-bg-danger';
    badge.textContent = 'Live';
    top.append(badge);
  }

  const when = document.createElement('p');
  when.className = 'small text-body-secondary mb-1';
  when.append(startElement(stream.startedAt), ' · ', durationElement(stream.duration));

  const numbers = document.createElement('p');
  numbers.className = 'small mb-2';
  numbers.append(factsLine(audienceFacts(stream)));

  body.append(top, when, numbers);
  if (recordings.length) {
    const list = document.createElement('div');
    list.className = 'list-group';
    list.append(...recordings.map(recordingItem));
    body.append(list);
  } else {
    const none = document.createElement('p');
    none.className = 'small text-body-secondary mb-0';
    none.textContent = 'Not recorded.';
    body.append(none);
  }
  item.append(body);
  return item;
}

function render(data) {
  ui.passwordForm.hidden = true;
  ui.content.hidden = false;
  ui.refresh.hidden = false;
  const recordings = Array.isArray(data.recordings) ? data.recordings : [];
  const streams = Array.isArray(data.streams) ? data.streams : [];
  const byId = new Map(recordings.map((recording) => [recording.id, recording]));
  const inStreams = new Set();
  const streamItems = streams.map((stream) => {
    const ids = Array.isArray(stream.recordingIds) ? stream.recordingIds : [];
    const own = ids.map((id) => byId.get(id)).filter(Boolean);
    for (const recording of own) inStreams.add(recording.id);
    return streamItem(stream, own);
  });
  const others = recordings.filter((recording) => !inStreams.has(recording.id));
  ui.recordingOff.hidden = data.recording !== false;
  ui.empty.hidden = recordings.length + streams.length > 0;
  ui.empty.textContent =
    data.recording === false
      ? 'No recordings yet, and recording is off: streams are not recorded.'
      : 'No recordings yet. Every stream is recorded while it is live; it appears here.';
  const items = [...streamItems];
  if (others.length) {
    const list = document.createElement('div');
    list.className = 'list-group other-recordings';
    list.append(...others.map(recordingItem));
    if (streamItems.length) {
      const heading = document.createElement('h2');
      heading.className = 'h6 mt-2 mb-0';
      heading.textContent = 'Other recordings';
      items.push(heading);
    }
    items.push(list);
  }
  ui.list.replaceChildren(...items);
  document.body.dataset.recordings = String(recordings.length);
  document.body.dataset.streams = String(streams.length);
  if (recordings.some((recording) => recording.status !== 'ready')) {
    refreshTimer = setTimeout(load, REFRESH_MS);
  }
}

function explain(error) {
  if (error.status === 429) {
    const wait = error.retryAfter ? ` (wait ${error.retryAfter} s)` : '';
    return `${error.message}${wait}.`;
  }
  if (error.unreachable || error.status >= 500) {
    return `The recordings could not be loaded: ${error.message} Try again with Refresh.`;
  }
  return error.message || String(error);
}

async function load() {
  if (loading) return;
  loading = true;
  clearTimeout(refreshTimer);
  try {
    const data = await postJSON('/recordings', password ? withHostDevice({ password }) : {});
    showError('');
    render(data);
  } catch (error) {
    if (error.status === 401) {
      if (password) showError(error.message || 'Invalid password');
      password = null;
      askForPassword();
    } else {
      showError(explain(error));
      if (error.status === 429 && password) {
        password = null;
        askForPassword();
      }
    }
  } finally {
    loading = false;
    ui.loading.hidden = true;
  }
}

function stopPlayer() {
  if (hls) {
    hls.destroy();
    hls = null;
  }
  ui.player.pause();
  ui.player.removeAttribute('src');
  delete ui.player.dataset.duration;
  ui.player.load();
}

// Says on the player (data-duration, in seconds, or "unknown") that the probe is over: what a
// person sees on the seek bar from then on.
function announceDuration(video) {
  video.dataset.duration = Number.isFinite(video.duration) ? String(video.duration) : 'unknown';
}

// A webm written by MediaRecorder has no duration in its header (the <video> says Infinity and
// cannot seek): asking for a time past its end makes the browser read to the end and learn it.
// The probe ends on the player's events, however long the reading takes: a finite
// 'durationchange', or the end of that seek ('seeked') or an 'error' (the duration stays
// unknown, and the video still plays). Then it goes back to the start.
function knownDuration(video) {
  return new Promise((resolve) => {
    if (video.duration !== Infinity) {
      resolve();
      return;
    }
    const events = ['durationchange', 'seeked', 'error'];
    const finish = () => {
      clearTimeout(limit);
      for (const name of events) video.removeEventListener(name, changed);
      video.currentTime = 0;
      resolve();
    };
    const changed = (event) => {
      if (event.type !== 'durationchange' || Number.isFinite(video.duration)) finish();
    };
    const limit = setTimeout(finish, DURATION_PROBE_LIMIT_MS);
    for (const name of events) video.addEventListener(name, changed);
    video.currentTime = Number.MAX_SAFE_INTEGER;
  });
}

function loaded(video) {
  return new Promise((resolve, reject) => {
    if (video.readyState >= HTMLMediaElement.HAVE_METADATA) {
      resolve();
      return;
    }
    video.addEventListener('loadedmetadata', () => resolve(), { once: true });
    video.addEventListener('error', () => reject(new Error('The recording could not be loaded.')), { once: true });
  });
}

// What a person is told when hls.js gives up on a recording.
function hlsFailure(data, Hls) {
  if (data.type === Hls.ErrorTypes.NETWORK_ERROR) {
    return 'The recording stopped loading: its server did not answer. Choose it again to retry.';
  }
  if (data.type === Hls.ErrorTypes.MEDIA_ERROR) {
    return 'This browser could not play the recording (its video could not be decoded).';
  }
  return `The recording could not be played (${data.details}).`;
}

// hls.js first, even where the browser plays HLS itself (Chromium now does): hls.js is the
// one that retries and recovers. `isLatest` says whether this recording is still the one
// chosen; a stale attach (another was chosen while hls.min.js loaded) makes no player.
async function attachHls(video, url, isLatest) {
  await loadScript('/vendor/hls.min.js').catch((error) => {
    if (!video.canPlayType('application/vnd.apple.mpegurl')) throw error;
  });
  if (!isLatest()) return;
  const Hls = window.Hls;
  if (Hls && Hls.isSupported()) {
    const player = new Hls();
    hls = player;
    recoverFatalErrors(player, Hls, url, (data) => {
      if (hls !== player) return;
      stopPlayer();
      showError(hlsFailure(data, Hls));
    });
    player.loadSource(url);
    player.attachMedia(video);
  } else if (video.canPlayType('application/vnd.apple.mpegurl')) {
    video.src = url;
  } else {
    throw new Error('This browser cannot play HLS recordings.');
  }
}

async function play(recording) {
  if (!recording.playbackUrl) return;
  const mine = ++choice;
  const isLatest = () => mine === choice;
  selectedId = recording.id;
  for (const item of ui.list.querySelectorAll('.recording-item')) {
    item.classList.toggle('active', item.dataset.id === selectedId);
  }
  showError('');
  stopPlayer();
  const video = ui.player;
  video.hidden = false;
  ui.playerHint.hidden = true;
  ui.playerTitle.hidden = false;
  ui.playerTitle.textContent = `${recording.title} · ${formatStart(recording.startedAt)}`;
  try {
    if (recording.format === 'hls') {
      await attachHls(video, recording.playbackUrl, isLatest);
    } else {
      video.src = recording.playbackUrl;
      await loaded(video);
      if (isLatest() && recording.format === 'webm') await knownDuration(video);
    }
    if (!isLatest()) return; // another one was chosen meanwhile: it owns the player now
    if (recording.format !== 'hls') announceDuration(video);
    await video.play().catch(() => {
      // autoplay refused: the controls are there to start it
    });
  } catch (error) {
    if (isLatest()) showError(error.message || String(error));
  }
}

ui.passwordForm.addEventListener('submit', (event) => {
  event.preventDefault();
  password = ui.password.value;
  ui.password.value = '';
  showError('');
  load();
});

ui.refresh.addEventListener('click', () => load());

load();
