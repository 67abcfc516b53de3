// A stream's audience numbers as a person reads them (the host's summary, the recordings list):
// the same words and formats on every page.

/**
 * @typedef {object} StreamRecord what the server says of one stream (StreamRecord.to_json)
 * @property {string} id
 * @property {string} title
 * @property {string} description
 * @property {string | null} startedAt
 * @property {string | null} endedAt
 * @property {number | null} duration seconds, null while live
 * @property {boolean} live
 * @property {number} currentViewers
 * @property {number} peakViewers
 * @property {number} viewers
 * @property {number} viewerMinutes
 * @property {number} chatMessages
 * @property {string[]} [recordingIds]
 */

/** Seconds as h:mm:ss ('–' when unknown). @param {number | null | undefined} seconds */
export function formatDuration(seconds) {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds)) return '–';
  const total = Math.round(seconds);
  const h = Math.floor(total / 3600);
  const m = String(Math.floor((total % 3600) / 60)).padStart(2, '0');
  const s = String(total % 60).padStart(2, '0');
  return `${h}:${m}:${s}`;
}

const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;
const number = (value) => (typeof value === 'number' && Number.isFinite(value) ? value : 0);

/**
 * The numbers of a stream, each with the key a test or stylesheet can find it by.
 * @param {StreamRecord} record
 * @returns {{ key: string, value: number, text: string }[]}
 */
export function audienceFacts(record) {
  const peak = number(record.peakViewers);
  const viewers = number(record.viewers);
  const minutes = number(record.viewerMinutes);
  const messages = number(record.chatMessages);
  const minutesText = minutes.toLocaleString(undefined, { maximumFractionDigits: 1 });
  return [
    { key: 'peak', value: peak, text: `peak ${peak}` },
    { key: 'viewers', value: viewers, text: plural(viewers, 'viewer', 'viewers') },
    { key: 'viewer-minutes', value: minutes, text: `${minutesText} viewer-minute${minutes === 1 ? '' : 's'}` },
    { key: 'chat-messages', value: messages, text: plural(messages, 'chat message', 'chat messages') },
  ];
}

/**
 * A line of facts: <span data-fact="peak" data-value="3">peak 3</span> · …
 * @param {{ key: string, value: number, text: string }[]} facts
 */
export function factsLine(facts) {
  const line = document.createElement('span');
  line.className = 'audience-facts';
  facts.forEach((fact, index) => {
    if (index) line.append(' · ');
    const span = document.createElement('span');
    span.dataset.fact = fact.key;
    span.dataset.value = String(fact.value);
    span.textContent = fact.text;
    line.append(span);
  });
  return line;
}
