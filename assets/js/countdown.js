// Times as the audience reads them: a planned start in the viewer's own time zone and locale,
// and the time left until it ("starts in 1:59").

const startFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** A moment (ms since the epoch) in the viewer's own zone and locale. @param {number} ms */
export function formatStartTime(ms) {
  return startFormat.format(new Date(ms));
}

/**
 * The time left, counted down in whole seconds: "starts in 0:05", "starts in 1:59",
 * "starts in 2:03:04", or in days when more than two are left.
 * @param {number} ms
 */
export function countdownText(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const days = Math.floor(total / 86_400);
  if (days >= 2) return `starts in ${days} days`;
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `starts in ${h}:${String(m).padStart(2, '0')}:${s}` : `starts in ${m}:${s}`;
}

/** How long until the countdown's text next changes (the next whole second). @param {number} ms */
export function untilNextTick(ms) {
  const rest = ms % 1000;
  return rest > 0 ? rest : 1000;
}
