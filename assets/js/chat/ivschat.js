// The `ivschat` chat: Amazon IVS Chat, through the pinned `amazon-ivs-chat-messaging` SDK that the
// build copies to /vendor/ (ES modules). The page talks to IVS over a WebSocket; our back end only
// hands out tokens (/chat_token), whose attributes carry the sender's display name and role.

// IVS Chat relays messages as they are sent and keeps none for people who join later.
export const keepsHistory = false;

// The SDK settles a request only when IVS answers it: a request whose socket drops is never
// settled. So each request also fails when the room starts reconnecting or disconnects, and
// after this long without an answer (a socket that died without closing).
const REQUEST_TIMEOUT_MS = 10000;
// After a dropped socket the SDK asks the token provider for a token at once, and again at
// once when that fails. A crowd that lost its sockets together would all ask /chat_token (and
// IVS Chat's CreateChatToken, 200 a second per account) in the same instant: each reconnect
// waits a random time up to a ceiling that doubles from RECONNECT_BASE_MS to RECONNECT_MAX_MS
// ("full jitter"), and a room gives up (the panel offers Rejoin) after RECONNECT_ATTEMPTS.
export const RECONNECT_BASE_MS = 2000;
export const RECONNECT_MAX_MS = 30000;
const RECONNECT_ATTEMPTS = 6;
// /chat_token answers that no retry can change (a bad name, an expired host session, a
// refused identity ticket or a banned address): the room stops reconnecting at once.
const FINAL_STATUSES = [400, 401, 403];

// How long reconnect number `attempt` (0 for the first) waits before asking for a token.
export function reconnectDelay(attempt, random = Math.random) {
  return Math.floor(random() * Math.min(RECONNECT_MAX_MS, RECONNECT_BASE_MS * 2 ** attempt));
}

const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// What the SDK reads from the token provider. It opens its next connection (with a renewed
// token, while the current one stays open, so nothing is missed) a minute before
// `tokenExpirationTime` (half a minute for a token of a minute or less); it does nothing with
// `sessionExpirationTime`, after which IVS closes the connection. So the SDK is told the
// earlier of the two.
function tokenFor(grant) {
  const ends = [grant.tokenExpiresAt, grant.expiresAt].filter((end) => typeof end === 'number' && end > 0);
  const soonest = ends.length ? new Date(Math.min(...ends) * 1000) : undefined;
  return {
    token: grant.token,
    tokenExpirationTime: soonest,
    sessionExpirationTime: grant.expiresAt ? new Date(grant.expiresAt * 1000) : undefined,
  };
}

export class ChatError extends Error {
  constructor(message, status = 0) {
    super(message);
    this.name = 'ChatError';
    this.status = status;
  }
}

// The SDK rejects a request with a ChatError object ({ errorCode, errorMessage }), not an Error.
function asError(error, fallback) {
  if (error instanceof Error) return error;
  if (error && typeof error.errorCode === 'number') {
    return new ChatError(error.errorMessage || fallback, error.errorCode);
  }
  return new ChatError(fallback);
}

function toMessage(message) {
  const attributes = (message.sender && message.sender.attributes) || {};
  const sent = message.sendTime instanceof Date ? message.sendTime : new Date(message.sendTime);
  return {
    id: message.id,
    text: message.content,
    sentAt: sent.getTime(),
    sender: {
      id: message.sender ? message.sender.userId : '',
      name: attributes.displayName || 'Someone',
      role: attributes.role === 'host' ? 'host' : 'viewer',
    },
  };
}

// Connects with a /chat_token grant; `renew()` fetches a fresh grant (for the same identity: the
// panel presents its identity ticket) when the SDK needs a new token: a refresh ahead of the
// token's expiry, or a reconnect after the socket dropped. `on` as in local.js.
export async function connect({ grant, renew, on }) {
  // Imported by its literal URL, which the pages' type check maps to the SDK's own types.
  const { ChatRoom, SendMessageRequest, DeleteMessageRequest, DisconnectUserRequest } = await import(
    '/vendor/amazon-ivs-chat-messaging/index.js'
  );
  let current = grant;
  let used = false;
  let attempt = 0; // tries for a token since the room last connected (or last refreshed)
  let refusal = null; // a /chat_token answer no retry can change
  let connected = false; // as the room last said (the token provider cannot ask the room: its
  // type would then depend on itself, and the type check would see an untyped room)

  let ready = false;
  let over = false;
  let kicked = null;

  const tokenProvider = async () => {
    if (!used) {
      used = true;
      return tokenFor(current);
    }
    if (refusal) throw refusal;
    if (over) throw new ChatError('The chat was closed');
    // While connected, the first try is a refresh ahead of expiry, which does not wait (the
    // current connection has a minute left). Anything else, a reconnect or a refresh tried
    // again, waits its turn: a failed refresh makes the SDK drop the room, so it is spread too.
    if (connected && attempt === 0) attempt = 1;
    else {
      await wait(reconnectDelay(attempt));
      attempt += 1;
    }
    if (over) throw new ChatError('The chat was closed');
    try {
      current = await renew();
      if (connected) attempt = 0; // a refresh went through: nothing to back off from
    } catch (error) {
      if (FINAL_STATUSES.includes(error.status)) refusal = error;
      else if (error.retryAfter) await wait(error.retryAfter * 1000);
      throw error;
    }
    return tokenFor(current);
  };
  const room = new ChatRoom({ regionOrUrl: grant.endpoint, tokenProvider, maxReconnectAttempts: RECONNECT_ATTEMPTS });
  room.logLevel = 'error';

  // Requests sent and not yet answered: each fails when its connection is gone.
  const pending = new Set();
  const failPending = (why) => {
    for (const request of [...pending]) request.fail(why);
  };

  const end = (kind, reason) => {
    if (!ready || over) return;
    over = true;
    failPending('the chat connection ended');
    on.ended({ kind, reason });
  };

  room.addListener('connecting', () => {
    connected = false;
    failPending('the connection to the chat dropped');
    on.state('connecting');
  });
  room.addListener('connect', () => {
    connected = true;
    attempt = 0;
    on.state('connected');
  });
  room.addListener('message', (message) => on.message(toMessage(message)));
  room.addListener('messageDelete', (event) => on.remove(event.messageId));
  room.addListener('userDisconnect', (event) => {
    if (event.userId !== current.identity) return;
    // Whatever the socket does next, this page does not come back on its own.
    kicked = event.reason || 'The host disconnected you';
    end('disconnected', kicked);
    room.disconnect();
  });
  room.addListener('disconnect', (reason) => {
    connected = false;
    failPending('the connection to the chat dropped');
    if (reason === 'clientDisconnect') return;
    if (kicked) end('disconnected', kicked);
    else if (refusal) end('lost', refusal.message);
    else if (current.expiresAt && Date.now() >= current.expiresAt * 1000 - 5000) {
      end('expired', 'Your chat session has expired');
    } else end('lost', 'Lost the connection to the chat');
  });

  // `send()` makes the SDK request; the answer, an SDK error, a dropped connection or the
  // timeout settles it, whichever comes first.
  const call = (send, fallback) =>
    new Promise((resolve, reject) => {
      if (room.state !== 'connected') {
        reject(new ChatError(`${fallback}: the chat is reconnecting, try again in a moment`));
        return;
      }
      const request = {
        fail(why) {
          settle();
          reject(new ChatError(`${fallback}: ${why}. Try again.`));
        },
      };
      const timer = setTimeout(() => request.fail('the chat did not answer'), REQUEST_TIMEOUT_MS);
      const settle = () => {
        clearTimeout(timer);
        pending.delete(request);
      };
      pending.add(request);
      let sent;
      try {
        sent = send();
      } catch (error) {
        settle();
        reject(asError(error, fallback));
        return;
      }
      sent.then(
        (value) => {
          if (!pending.has(request)) return;
          settle();
          resolve(value);
        },
        (error) => {
          if (!pending.has(request)) return;
          settle();
          reject(asError(error, fallback));
        },
      );
    });

  const opened = new Promise((resolve, reject) => {
    const stopOk = room.addListener('connect', () => {
      stopOk();
      stopFail();
      resolve();
    });
    const stopFail = room.addListener('disconnect', () => {
      stopOk();
      stopFail();
      reject(refusal || new ChatError('Could not connect to the chat'));
    });
  });
  room.connect();
  await opened;
  ready = true;

  return {
    get identity() {
      return current.identity;
    },
    async send(text) {
      const message = await call(() => room.sendMessage(new SendMessageRequest(text)), 'The message was not sent');
      return toMessage(message);
    },
    async deleteMessage(id) {
      await call(() => room.deleteMessage(new DeleteMessageRequest(id)), 'The message was not deleted');
    },
    async disconnectUser(identity) {
      await call(
        () => room.disconnectUser(new DisconnectUserRequest(identity, 'Disconnected by the host')),
        'Could not disconnect that person',
      );
    },
    close() {
      over = true;
      failPending('the chat was closed');
      room.disconnect();
    },
  };
}
