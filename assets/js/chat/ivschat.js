// The `ivschat` chat: Amazon IVS Chat, through the pinned `amazon-ivs-chat-messaging` SDK that the
// build copies to /vendor/ (ES modules). The page talks to IVS over a WebSocket; our back end only
// hands out tokens (/chat_token), whose attributes carry the sender's display name and role.

const SDK = '/vendor/amazon-ivs-chat-messaging/index.js';

// IVS Chat relays messages as they are sent and keeps none for people who join later.
export const keepsHistory = false;

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

// Connects with a /chat_token grant; `renew()` fetches a fresh grant when the SDK needs a new
// token (a reconnect after the first). `on` as in local.js.
export async function connect({ grant, renew, on }) {
  const { ChatRoom, SendMessageRequest, DeleteMessageRequest, DisconnectUserRequest } = await import(SDK);
  let current = grant;
  let used = false;
  const tokenProvider = async () => {
    if (used) current = await renew();
    used = true;
    return {
      token: current.token,
      sessionExpirationTime: current.expiresAt ? new Date(current.expiresAt * 1000) : undefined,
    };
  };
  const room = new ChatRoom({ regionOrUrl: grant.endpoint, tokenProvider });
  room.logLevel = 'error';

  let ready = false;
  let over = false;
  let kicked = null;
  const end = (kind, reason) => {
    if (!ready || over) return;
    over = true;
    on.ended({ kind, reason });
  };

  room.addListener('connecting', () => on.state('connecting'));
  room.addListener('connect', () => on.state('connected'));
  room.addListener('message', (message) => on.message(toMessage(message)));
  room.addListener('messageDelete', (event) => on.remove(event.messageId));
  room.addListener('userDisconnect', (event) => {
    if (event.userId === current.identity) kicked = event.reason || 'The host disconnected you';
  });
  room.addListener('disconnect', (reason) => {
    if (reason === 'clientDisconnect') return;
    if (kicked) end('disconnected', kicked);
    else if (current.expiresAt && Date.now() >= current.expiresAt * 1000 - 5000) {
      end('expired', 'Your chat session has expired');
    } else end('lost', 'Lost the connection to the chat');
  });

  const call = async (request, fallback) => {
    try {
      return await request();
    } catch (error) {
      throw asError(error, fallback);
    }
  };

  const opened = new Promise((resolve, reject) => {
    const stopOk = room.addListener('connect', () => {
      stopOk();
      stopFail();
      resolve();
    });
    const stopFail = room.addListener('disconnect', () => {
      stopOk();
      stopFail();
      reject(new ChatError('Could not connect to the chat'));
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
      room.disconnect();
    },
  };
}
