// The audience's player loop: waits for a stream, plays it (muted until the viewer asks for
// sound), says when it ends, then waits for the next one, with no reload at any point. It loads
// only the module of the provider /audience_token names (api.js loadProvider). The page that
// uses it says the words and draws the buttons: embed.html (the player alone, for other sites'
// frames) and the audience page (index.js) both do. While nothing plays, the page may say
// something of its own about the next stream (`waitingMessage`: the audience page's
// "Next: <title>, <start>"), instead of the usual words.

import { loadProvider, postJSON } from './api.js';
import { FAILED, RECONNECTED, RECONNECTING } from './page-states.js';

const POLL_MS = 2000;
// after "this stream is full", how long until the next try
const FULL_RETRY_MS = 5000;

export const NOT_STREAMING = 'Not currently streaming.';
export const ENDED = 'The stream has ended.';
export const RECONNECTING_TEXT = 'Reconnecting…';
export const WAITING_FOR_SERVER = 'Waiting for the server…';

/**
 * Starts the loop. Hooks (each optional):
 *  - onStatus(message): the line to show over the player ('' while the picture speaks for itself);
 *  - onLive(live): whether a stream is live right now (playing, or live but full here);
 *  - onSound(muted): after every change of what plays; `muted` is null when nothing plays;
 *  - onGrant(grant): every /audience_token reply, as it arrives;
 *  - waitingMessage(): while nothing plays, what to say instead of the usual words ('' for them).
 * Returns { toggleMute(), refreshWaiting() } (refreshWaiting: the waiting message changed).
 * @param {{ container: HTMLElement, onStatus?: (message: string) => void,
 *   onLive?: (live: boolean) => void, onSound?: (muted: boolean | null) => void,
 *   onGrant?: (grant: any) => void, waitingMessage?: () => string }} options
 */
export function startAudiencePlayer({ container, onStatus, onLive, onSound, onGrant, waitingMessage }) {
  // the stream being watched: { stream, handle }
  let watching = null;
  // the stream that ended here (its room, or its token when the reply names no room);
  // /audience_token may still hand it out briefly
  let spentStream = null;
  let unsupported = false;
  let full = false;
  // a stream ended here, and nothing has played since
  let sawEnd = false;
  // while nothing plays: why ('waiting', 'ended', 'unreachable'); null otherwise
  let waiting = null;

  const streamOf = (grant) => grant.room || grant.token;
  const setStatus = (message) => {
    waiting = null;
    if (onStatus) onStatus(message);
  };
  const USUAL = { waiting: NOT_STREAMING, ended: ENDED, unreachable: WAITING_FOR_SERVER };
  // Nothing plays: the page's word on the next stream, else the usual words for `why`.
  const showWaiting = (why) => {
    const planned = waitingMessage ? waitingMessage() : '';
    setStatus(planned || USUAL[why]);
    waiting = why;
  };
  const setLive = (live) => onLive && onLive(live);
  const renderSound = () => onSound && onSound(watching ? watching.handle.muted : null);

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
    setLive(false);
    if (ended) spentStream = current.stream;
    renderSound();
    if (ended) {
      sawEnd = true;
      showWaiting('ended');
    } else {
      setStatus(message);
    }
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
      container,
      onEnded: () => {
        if (watching === current) leave(ENDED, { ended: true });
      },
      // the page states every provider reports (page-states.js)
      onStateChange: (state) => {
        if (watching !== current) return;
        // the provider cannot get it back: no dead player left on screen; the loop looks for
        // the stream again with a fresh token
        if (state === FAILED) leave(RECONNECTING_TEXT, { ended: false });
        // the provider is getting its connection back by itself; the picture stays meanwhile
        else if (state === RECONNECTING) setStatus(RECONNECTING_TEXT);
        else if (state === RECONNECTED) setStatus('');
      },
    });
    current.handle = handle;
    watching = current;
    sawEnd = false;
    setLive(true);
    handle.videoElement.addEventListener('click', toggleMute);
    setStatus('');
    renderSound();
  }

  async function check() {
    let grant;
    try {
      grant = await postJSON('/audience_token', {});
    } catch {
      showWaiting(sawEnd ? 'ended' : 'unreachable');
      return;
    }
    if (onGrant) onGrant(grant);
    if (!grant.token || streamOf(grant) === spentStream) {
      setLive(false);
      showWaiting(sawEnd ? 'ended' : 'waiting');
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
        setLive(true); // live, only not watchable from here yet
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

  showWaiting('waiting');
  run();
  return {
    toggleMute,
    refreshWaiting() {
      if (waiting) showWaiting(waiting);
    },
  };
}
