// The embeddable player (embed.html): the audience's player alone, for an <iframe> on a site
// EMBED_ORIGINS allows. No chat and no links: it waits for a stream, plays it muted (browsers
// only autoplay muted media) with an "Unmute" button, and picks up the next stream by itself.

import { startAudiencePlayer } from './js/audience-player.js';

const playerMain = document.getElementById('player');
const statusLine = document.getElementById('status');
const soundButton = document.getElementById('soundButton');

function showStatus(message) {
  statusLine.textContent = message;
  statusLine.hidden = !message;
  document.body.dataset.status = message;
}

function showSound(muted) {
  soundButton.hidden = muted === null;
  soundButton.textContent = muted === false ? 'Mute' : 'Unmute';
  soundButton.setAttribute('aria-pressed', String(muted === false));
  soundButton.classList.toggle('is-on', muted === false);
}

const player = startAudiencePlayer({
  container: playerMain,
  onStatus: showStatus,
  onSound: showSound,
  onLive: (live) => {
    document.body.dataset.live = String(live);
  },
});
soundButton.addEventListener('click', () => player.toggleMute());
