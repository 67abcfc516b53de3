// The stream's details as the server keeps them (title, description, planned start): reading
// them (GET /stream_details, public), saving them (POST /stream_details, host only), and what a
// waiting audience is told about the next stream.

import { ApiError, postJSON } from './api.js';
import { formatStartTime } from './countdown.js';

/**
 * @typedef {object} StreamDetails
 * @property {string} title
 * @property {string} description
 * @property {string | null} plannedStart ISO 8601, or null when no start is planned
 * @property {string | null} updatedAt
 */

/** @typedef {{ store: boolean, details: StreamDetails | null }} DetailsAnswer */

/** After the planned start, how long the audience is told "Starting soon…". */
export const STARTING_SOON_MS = 15 * 60 * 1000;

export const STARTING_SOON = 'Starting soon…';

/** @param {any} value @returns {StreamDetails | null} */
function detailsOf(value) {
  if (!value || typeof value !== 'object' || typeof value.title !== 'string') return null;
  return {
    title: value.title,
    description: typeof value.description === 'string' ? value.description : '',
    plannedStart: typeof value.plannedStart === 'string' && value.plannedStart ? value.plannedStart : null,
    updatedAt: typeof value.updatedAt === 'string' ? value.updatedAt : null,
  };
}

/** @param {any} data @returns {DetailsAnswer} */
export function detailsAnswer(data) {
  return { store: Boolean(data && data.store === true), details: detailsOf(data && data.details) };
}

/** GET /stream_details. @returns {Promise<DetailsAnswer>} */
export async function fetchStreamDetails() {
  let response;
  try {
    response = await fetch('/stream_details', { cache: 'no-store' });
  } catch {
    throw new ApiError('The server is unreachable. Check your connection and try again.', { unreachable: true });
  }
  const data = await response.json().catch(() => null);
  if (!response.ok || !data || typeof data !== 'object') {
    const message = data && typeof data.error === 'string' ? data.error : `Request failed (HTTP ${response.status})`;
    throw new ApiError(message, { status: response.status, unreachable: response.status >= 502 });
  }
  return detailsAnswer(data);
}

/**
 * POST /stream_details: `auth` is `{ session }` or `{ password, device? }`.
 * @param {{ title: string, description: string, plannedStart: string | null }} details
 * @param {object} auth
 * @returns {Promise<DetailsAnswer>}
 */
export async function saveStreamDetails(details, auth) {
  return detailsAnswer(await postJSON('/stream_details', { ...auth, ...details }));
}

/**
 * What the waiting audience page says about the next stream at `now` (ms since the epoch):
 * `phase` "next" (a start ahead: "Next: <title>, <start>"), "soon" (the start passed less than
 * STARTING_SOON_MS ago) or "none" (nothing planned: the page says its usual text).
 * @param {StreamDetails | null} details
 * @param {number} now
 * @returns {{ phase: 'next' | 'soon' | 'none', text: string, startsAt: number | null }}
 */
export function nextStream(details, now) {
  const startsAt = details && details.plannedStart ? Date.parse(details.plannedStart) : NaN;
  if (!details || !Number.isFinite(startsAt)) return { phase: 'none', text: '', startsAt: null };
  if (startsAt > now) {
    return { phase: 'next', text: `Next: ${details.title}, ${formatStartTime(startsAt)}`, startsAt };
  }
  if (now - startsAt < STARTING_SOON_MS) return { phase: 'soon', text: STARTING_SOON, startsAt };
  return { phase: 'none', text: '', startsAt: null };
}
