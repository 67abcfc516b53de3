// The audience page: the player (audience-player.js), what the audience is told about the stream
// (audience-details.js: its title and description while live, the next one's start while
// waiting) and the chat beside it, which works either way. No reload needed at any point.

import { mountAudienceDetails } from './js/audience-details.js';
import { startAudiencePlayer } from './js/audience-player.js';
import { mountChat } from './js/chat/panel.js';

const $ = (id) => document.getElementById(id);
const statusLine = $('status');
const soundHint = $('soundHint');
const recordingsLink = $('recordingsLink');
const chat = mountChat($('chat'), { role: 'viewer' });

function showStatus(message) {
  statusLine.textContent = message;
  statusLine.hidden = !message;
  document.body.dataset.status = message;
}

function showSound(muted) {
  soundHint.hidden = muted === null;
  soundHint.textContent = muted === false ? 'Sound on · click to mute' : 'Muted · click to unmute';
  soundHint.classList.toggle('is-on', muted === false);
}

let player = null;
const details = mountAudienceDetails({
  panel: $('details'),
  title: $('detailsTitle'),
  description: $('detailsDescription'),
  countdown: $('countdown'),
  onWaitingChange: () => player && player.refreshWaiting(),
});
player = startAudiencePlayer({
  container: $('player'),
  onStatus: showStatus,
  onSound: showSound,
  waitingMessage: details.waitingMessage,
  onLive: (live) => {
    chat.setLive(live);
    details.setLive(live);
  },
  // the recordings of past streams are linked only when anyone may list them
  onGrant: (grant) => {
    recordingsLink.hidden = grant.recordingsPublic !== true;
  },
});
soundHint.addEventListener('click', () => player.toggleMute());
