// The host's view of the audience: while live, the viewers watching now and the peak (POST
// /stream_stats every few seconds; a provider that counts its viewers itself reports the
// current number sooner), and when the stream ends, its summary (from /stream_stop's answer).

import { postJSON } from './api.js';
import { audienceFacts, factsLine, formatDuration } from './audience-numbers.js';

/** While live, the numbers are asked for this often. */
export const STATS_POLL_MS = 5000;

/**
 * @param {{ viewerCount: HTMLElement, peakViewers: HTMLElement, summary: HTMLElement,
 *   summaryTitle: HTMLElement, summaryFacts: HTMLElement }} ui
 */
export function mountAudienceNumbers(ui) {
  let session = null;
  let timer = null;
  let current = null;
  let peak = 0;
  let counted = false; // the provider reports the current number itself: it is the sooner one

  function render() {
    ui.viewerCount.hidden = current === null;
    ui.viewerCount.textContent = current === 1 ? '1 viewer' : `${current} viewers`;
    ui.viewerCount.dataset.value = String(current ?? '');
    // the peak is never below a count seen here (the counting may be a few seconds behind)
    const shown = Math.max(peak, current ?? 0);
    ui.peakViewers.hidden = current === null;
    ui.peakViewers.textContent = `peak ${shown}`;
    ui.peakViewers.dataset.value = String(shown);
  }

  async function poll(mine) {
    try {
      const answer = await postJSON('/stream_stats', { session: mine });
      if (session !== mine || !answer.stream) return;
      peak = Math.max(peak, Number(answer.stream.peakViewers) || 0);
      if (!counted) current = Number(answer.stream.currentViewers) || 0;
      render();
    } catch (error) {
      // the numbers stay as they were until the next ask (store off, or a hiccup)
      if (error.status !== 503) console.warn('Could not read the audience numbers:', error);
    } finally {
      if (session === mine) timer = setTimeout(() => poll(mine), STATS_POLL_MS);
    }
  }

  return {
    /** The stream is live with this host session: count from zero and poll. @param {string} live */
    start(live) {
      session = live;
      current = 0; // a stream that has just gone live has nobody watching yet
      peak = 0;
      counted = false;
      ui.summary.hidden = true;
      render();
      clearTimeout(timer);
      poll(live);
    },
    /** The provider's own count of viewers watching now. @param {number} count */
    viewers(count) {
      if (!session) return;
      counted = true;
      current = count;
      render();
    },
    /** The stream ended: stop polling, show its summary (when the server kept one). @param {any} summary */
    stop(summary) {
      session = null;
      clearTimeout(timer);
      current = null;
      render();
      if (!summary || typeof summary !== 'object') return;
      ui.summaryTitle.textContent = summary.title || '';
      const onAir = { key: 'duration', value: Number(summary.duration) || 0, text: `${formatDuration(summary.duration)} on air` };
      ui.summaryFacts.replaceChildren(factsLine([onAir, ...audienceFacts(summary)]));
      ui.summary.hidden = false;
    },
  };
}
