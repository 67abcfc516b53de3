// Calls to the back end's JSON endpoints, with errors a person can act on.

export class ApiError extends Error {
  constructor(message, { status = 0, unreachable = false, retryAfter = 0 } = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.unreachable = unreachable;
    // seconds the server asked to wait (Retry-After on a 429 or 503), 0 when it did not say
    this.retryAfter = retryAfter;
  }
}

const UNREACHABLE = 'The server is unreachable. Check your connection and try again.';

// POST `body` as JSON to `path`; resolves to the parsed JSON reply, rejects with ApiError.
/** @param {string} path @param {object} [body] @param {{ signal?: AbortSignal }} [options] */
export async function postJSON(path, body = {}, { signal } = {}) {
  let response;
  try {
    response = await fetch(path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
      cache: 'no-store',
      signal,
    });
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    throw new ApiError(UNREACHABLE, { unreachable: true });
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    // a proxy or a crashed server answered with something other than JSON
  }
  if (!response.ok) {
    const message =
      (data && typeof data.error === 'string' && data.error) ||
      (response.status >= 500 ? UNREACHABLE : `Request failed (HTTP ${response.status})`);
    const retryAfter = Number.parseInt(response.headers.get('Retry-After') || '', 10);
    throw new ApiError(message, {
      status: response.status,
      unreachable: response.status >= 502,
      retryAfter: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : 0,
    });
  }
  if (data === null || typeof data !== 'object') {
    throw new ApiError('The server sent an unexpected reply.', { status: response.status });
  }
  return data;
}

// The device token /host_token hands the browser that signed in: sent back with the password,
// it gives this browser a throttle of its own, so others' wrong guesses from the same address
// cannot lock the host out. Kept in this site's localStorage (it is not a credential).
const DEVICE_KEY = 'livescreen.hostDevice';

export function withHostDevice(body) {
  let device = null;
  try {
    device = window.localStorage.getItem(DEVICE_KEY);
  } catch {
    // storage disabled: sign in with the address's throttle
  }
  return device ? { ...body, device } : body;
}

export function rememberHostDevice(answer) {
  if (!answer || typeof answer.device !== 'string' || !answer.device) return;
  try {
    window.localStorage.setItem(DEVICE_KEY, answer.device);
  } catch {
    // storage disabled or full: the next sign-in uses the address's throttle
  }
}

// The browser module of the provider named by a token response (only ever /js/providers/*.js).
export async function loadProvider(tokenResponse) {
  const name = tokenResponse && tokenResponse.provider;
  if (typeof name !== 'string' || !/^[a-z][a-z0-9_-]*$/.test(name)) {
    throw new ApiError('The server did not say which streaming provider to use.');
  }
  return import(`/js/providers/${name}.js`);
}

// The browser module of the chat provider named by a /chat_token reply (only ever /js/chat/*.js).
export async function loadChat(chatTokenResponse) {
  const name = chatTokenResponse && chatTokenResponse.chat;
  if (typeof name !== 'string' || !/^[a-z][a-z0-9_-]*$/.test(name)) {
    throw new ApiError('The server did not say which chat to use.');
  }
  return import(`/js/chat/${name}.js`);
}
