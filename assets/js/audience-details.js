// What the audience is told about the stream: while live, its title and description beside the
// player and in the tab's title; while waiting, the next stream's title and planned start (in
// the viewer's own time zone) with a countdown, then "Starting soon…" for a while after it.
// Everything the host typed is shown as text, never as HTML.

import { countdownText, untilNextTick } from './countdown.js';
import { fetchStreamDetails, nextStream } from './stream-details.js';

/** While waiting, the details are asked for this often. */
export const DETAILS_POLL_MS = 30_000;
/** While live, this often: a host may rename the stream while on air. */
export const LIVE_DETAILS_POLL_MS = 60_000;

/**
 * @typedef {object} AudienceDetailsElements
 * @property {HTMLElement} [panel] shown while live: holds the title and description
 * @property {HTMLElement} [title]
 * @property {HTMLElement} [description]
 * @property {HTMLElement} countdown "starts in 1:59", shown while a start is ahead
 * @property {() => void} onWaitingChange the waiting message changed (say it again)
 */

/** @param {AudienceDetailsElements} elements */
export function mountAudienceDetails({ panel, title, description, countdown, onWaitingChange }) {
  const pageTitle = document.title;
  /** @type {import('./stream-details.js').StreamDetails | null} */
  let details = null;
  let live = false;
  let pollTimer = null;
  let tickTimer = null;
  let lastMessage = '';
  let asking = 0; // counts the asks: an answer that is not the latest is stale

  function render() {
    const next = live ? { phase: 'none', text: '', startsAt: null } : nextStream(details, Date.now());
    if (countdown) {
      const ahead = next.phase === 'next';
      countdown.hidden = !ahead;
      countdown.textContent = ahead ? countdownText(next.startsAt - Date.now()) : '';
    }
    if (panel) {
      const shown = live && details !== null;
      panel.hidden = !shown;
      if (title) title.textContent = shown ? details.title : '';
      if (description) {
        description.textContent = shown ? details.description : '';
        description.hidden = !shown || !details.description;
      }
    }
    document.title = live && details ? `${details.title} – Live` : pageTitle;
    if (next.text !== lastMessage) {
      lastMessage = next.text;
      onWaitingChange();
    }
    clearTimeout(tickTimer);
    // the countdown ticks each second; "Starting soon…" ends STARTING_SOON_MS after the start
    if (!live && next.phase !== 'none') {
      tickTimer = setTimeout(render, untilNextTick(Math.abs(next.startsAt - Date.now())));
    }
  }

  async function ask() {
    const mine = ++asking;
    try {
      const answer = await fetchStreamDetails();
      if (mine !== asking) return;
      details = answer.details;
    } catch (error) {
      // nothing new to say: the last details stand until the next ask
      console.warn('Could not read the stream details:', error);
    }
    render();
  }

  function poll() {
    clearTimeout(pollTimer);
    ask();
    pollTimer = setTimeout(poll, live ? LIVE_DETAILS_POLL_MS : DETAILS_POLL_MS);
  }

  poll();

  return {
    /** The waiting stage's message about the next stream ('' when none is planned). */
    waitingMessage: () => (live ? '' : nextStream(details, Date.now()).text),
    /** A stream went live or is no longer live: the details are asked for at once, then
     * every minute while live (a rename shows) and every 30 s while waiting. @param {boolean} value */
    setLive(value) {
      if (value === live) return;
      live = value;
      poll();
      render();
    },
  };
}
