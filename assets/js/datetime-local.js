// An <input type="datetime-local"> holds a wall-clock time with no zone ("2030-05-01T18:30"):
// it is read and written in the host's own time zone, and sent as ISO 8601 with that zone's
// offset at that moment ("2030-05-01T18:30:00+05:45").

const pad = (n) => String(n).padStart(2, '0');

/** `date` as its local wall-clock time with the local offset. @param {Date} date */
export function localIsoString(date) {
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  const zone = `${sign}${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`;
  const day = `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
  const time = `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
  return `${day}T${time}${zone}`;
}

/** An input's value as ISO 8601 with the offset, or null when empty or not a time. @param {string} value */
export function isoFromInput(value) {
  const match = /^(\d{4,})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?/.exec(value || '');
  if (!match) return null;
  const [, y, mo, d, h, mi, s] = match.map(Number);
  return localIsoString(new Date(y, mo - 1, d, h, mi, s || 0));
}

/** An ISO 8601 time as an input's value, in the host's zone ('' when none). @param {string | null} iso */
export function inputFromIso(iso) {
  const date = iso ? new Date(iso) : null;
  if (!date || Number.isNaN(date.getTime())) return '';
  return localIsoString(date).slice(0, 16);
}
