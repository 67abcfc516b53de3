// Keeps an hls.js player going through the errors hls.js reports as fatal, as hls.js's own
// documentation advises: a fatal media error is recovered with recoverMediaError() (a bounded
// number of times: a recording the decoder keeps refusing will not play on the next try), a
// fatal network error with startLoad() after a growing delay (hls.js has already retried the
// request itself). Any other fatal error, or one that outlasts the tries, is final: the caller
// is told once, and destroys the player.

// how many fatal media errors one player recovers from
export const MEDIA_RECOVERIES = 3;
// the waits before each startLoad() after a fatal network error, in a row; a fragment that
// loads again starts the count afresh
export const NETWORK_RETRY_DELAYS_MS = [1_000, 2_000, 4_000, 8_000];

// Watches `player` (an Hls made from the class `Hls`, playing `url`); calls `onFinal(data)`
// with hls.js's error data when it gives up. The watch ends when the player is destroyed.
/**
 * @param {import('hls.js').default} player
 * @param {typeof import('hls.js').default} Hls
 * @param {string} url
 * @param {(data: import('hls.js').ErrorData) => void} onFinal
 */
export function recoverFatalErrors(player, Hls, url, onFinal) {
  let mediaRecoveries = 0;
  let networkRetries = 0;
  let retryTimer = null;

  player.on(Hls.Events.DESTROYING, () => clearTimeout(retryTimer));
  player.on(Hls.Events.FRAG_LOADED, () => {
    networkRetries = 0;
  });
  player.on(Hls.Events.ERROR, (_event, data) => {
    if (!data.fatal) return; // hls.js deals with those itself
    if (data.type === Hls.ErrorTypes.MEDIA_ERROR && mediaRecoveries < MEDIA_RECOVERIES) {
      mediaRecoveries += 1;
      player.recoverMediaError();
    } else if (
      data.type === Hls.ErrorTypes.NETWORK_ERROR &&
      networkRetries < NETWORK_RETRY_DELAYS_MS.length
    ) {
      clearTimeout(retryTimer);
      // with no playlist loaded yet there is nothing for startLoad() to go on from
      const manifest = data.details === Hls.ErrorDetails.MANIFEST_LOAD_ERROR ||
        data.details === Hls.ErrorDetails.MANIFEST_LOAD_TIMEOUT;
      const retry = manifest ? () => player.loadSource(url) : () => player.startLoad();
      retryTimer = setTimeout(retry, NETWORK_RETRY_DELAYS_MS[networkRetries]);
      networkRetries += 1;
    } else {
      clearTimeout(retryTimer);
      onFinal(data);
    }
  });
}
