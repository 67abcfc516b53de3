// The `local` chat: the dev server's own chat room. Messages arrive on the `chat` channel of the
// page's one socket (page-socket.js; the last 50 first) and are sent with plain POSTs.

import { postJSON } from '../api.js';
import { subscribe } from '../page-socket.js';

// The dev server keeps the last messages and replays them to whoever joins.
export const keepsHistory = true;

// Connects with a /chat_token grant. `on` receives message(msg), remove(id), state(name) and,
// once, ended({ kind: 'disconnected' | 'expired' | 'lost', reason }).
export async function connect({ grant, on }) {
  const endpoint = grant.endpoint || '/chat';
  const token = grant.token;
  let over = false;
  let channel = null;

  const end = (kind, reason) => {
    if (over) return;
    over = true;
    if (channel) channel.close();
    on.ended({ kind, reason });
  };

  channel = subscribe('chat', { token }, {
    // a dropped socket comes back by itself, and the channel with it (history replayed)
    resume: true,
    onDrop: () => {
      if (!over) on.state('connecting');
    },
    onEvent(event, data) {
      if (over) return;
      if (event === 'subscribed') on.state('connected');
      else if (event === 'message' && data.id) on.message(data);
      else if (event === 'delete' && data.id) on.remove(data.id);
      else if (event === 'disconnected') end('disconnected', data.reason || 'The host disconnected you');
      else if (event === 'expired') end('expired', data.reason || 'Your chat session has expired');
      else if (event === 'closed') end('lost', data.reason || 'The chat has closed');
      else if (event === 'error') {
        // refused: a token that expired or was disconnected while the socket was away, ...
        if (data.status === 403) end('disconnected', data.error || 'The host disconnected you');
        else end('lost', data.error || 'Lost the connection to the chat');
      }
    },
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
      channel.close();
    },
  };
}
