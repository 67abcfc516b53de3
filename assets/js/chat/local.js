// The `local` chat: the dev server's own chat room. Messages arrive over Server-Sent Events
// (`GET <endpoint>/events?token=`, the last 50 first) and are sent with plain POSTs.

import { postJSON } from '../api.js';

// The dev server keeps the last messages and replays them to whoever joins.
export const keepsHistory = true;

// Connects with a /chat_token grant. `on` receives message(msg), remove(id), state(name) and,
// once, ended({ kind: 'disconnected' | 'expired' | 'lost', reason }).
export async function connect({ grant, on }) {
  const endpoint = grant.endpoint || '/chat';
  const token = grant.token;
  const source = new EventSource(`${endpoint}/events?token=${encodeURIComponent(token)}`);
  let over = false;

  const end = (kind, reason) => {
    if (over) return;
    over = true;
    source.close();
    on.ended({ kind, reason });
  };
  const data = (event) => {
    try {
      return JSON.parse(event.data);
    } catch {
      return null;
    }
  };

  source.addEventListener('open', () => on.state('connected'));
  source.addEventListener('message', (event) => {
    const message = data(event);
    if (message && message.id) on.message(message);
  });
  source.addEventListener('delete', (event) => {
    const removed = data(event);
    if (removed && removed.id) on.remove(removed.id);
  });
  source.addEventListener('disconnected', (event) => {
    end('disconnected', (data(event) || {}).reason || 'The host disconnected you');
  });
  source.addEventListener('expired', (event) => {
    end('expired', (data(event) || {}).reason || 'Your chat session has expired');
  });
  source.addEventListener('closed', (event) => {
    end('lost', (data(event) || {}).reason || 'The chat has closed');
  });
  source.addEventListener('error', () => {
    // The browser retries a dropped stream by itself; a refused one (an expired token, a
    // restarted server) is closed for good.
    if (source.readyState === EventSource.CLOSED) end('lost', 'Lost the connection to the chat');
    else if (!over) on.state('connecting');
  });

  const post = (path, body) => postJSON(`${endpoint}${path}`, { token, ...body });
  return {
    identity: grant.identity,
    async send(text) {
      const reply = await post('/send', { text });
      return reply.message;
    },
    async deleteMessage(id) {
      await post('/delete', { id });
    },
    async disconnectUser(identity) {
      await post('/disconnect', { identity });
    },
    close() {
      over = true;
      source.close();
    },
  };
}
