// The page's one WebSocket to the dev server (`/socket`, see livescreen/devserver/page_socket.py).
// Everything the page waits for (the local provider's signalling, the local chat) arrives as
// events of a channel it subscribes to over this one socket, so that a page holds none of the
// six HTTP/1.1 connections a browser opens to a server: many tabs still have them for requests.
// Tokens go in messages, never in the socket's address.
//
// The socket opens with the first subscription and closes with the last. When it drops, it is
// opened again after a growing, jittered delay (capped), and every channel that asked to be
// resumed is subscribed again; the others are told they lost it.

import { ApiError } from './api.js';

const PATH = '/socket';
const RETRY_FIRST_MS = 500;
const RETRY_MAX_MS = 10_000;
// The server pings every 15 s: this long without a word means the connection is dead.
const SILENCE_MS = 45_000;

const channels = new Map(); // channel name -> { fields, onEvent, onLost, resume }
let socket = null;
let attempts = 0;
let retryTimer = null;
let silenceTimer = null;

function socketUrl() {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}${PATH}`;
}

function sendMessage(message) {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
}

function sendSubscribe(name, entry) {
  sendMessage({ ...entry.fields, type: 'subscribe', channel: name });
}

function heard(ws) {
  clearTimeout(silenceTimer);
  silenceTimer = setTimeout(() => ws.close(), SILENCE_MS);
}

function scheduleReconnect() {
  if (retryTimer || channels.size === 0) return;
  const ceiling = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** attempts);
  attempts += 1;
  // "full jitter": tabs that lost the server together do not all come back at the same moment
  const delay = ceiling / 2 + Math.random() * (ceiling / 2);
  retryTimer = setTimeout(() => {
    retryTimer = null;
    open();
  }, delay);
}

function open() {
  if (socket || retryTimer || channels.size === 0) return;
  const ws = new WebSocket(socketUrl());
  socket = ws;
  ws.addEventListener('open', () => {
    if (socket !== ws) return;
    attempts = 0;
    heard(ws);
    for (const [name, entry] of channels) sendSubscribe(name, entry);
  });
  ws.addEventListener('message', (event) => {
    if (socket !== ws) return;
    heard(ws);
    let message;
    try {
      message = JSON.parse(event.data);
    } catch {
      return;
    }
    const entry = message && channels.get(message.channel);
    if (!entry) return;
    // a refusal ends the subscription on the server's side
    if (message.event === 'error') channels.delete(message.channel);
    entry.onEvent(message.event, message.data || {});
  });
  ws.addEventListener('close', () => {
    if (socket !== ws) return;
    socket = null;
    clearTimeout(silenceTimer);
    for (const [name, entry] of [...channels]) {
      if (entry.resume) continue;
      channels.delete(name);
      entry.onLost();
    }
    for (const entry of channels.values()) entry.onDrop();
    scheduleReconnect();
  });
}

function closeIfUnused() {
  if (channels.size > 0) return;
  clearTimeout(retryTimer);
  retryTimer = null;
  clearTimeout(silenceTimer);
  const ws = socket;
  socket = null;
  if (ws) ws.close(1000);
}

// Subscribes to `channel` with `fields` (its token...). `onEvent(event, data)` gets every event,
// `subscribed` first; `error` {status, error} ends the subscription. When the socket drops,
// a `resume` subscription is sent again once it is back (`onDrop()` is called meanwhile);
// any other ends with `onLost()`. Returns { close() }.
export function subscribe(channel, fields, { onEvent, onLost = () => {}, onDrop = () => {}, resume = true }) {
  const entry = { fields, onEvent, onLost, onDrop, resume };
  channels.set(channel, entry);
  if (socket && socket.readyState === WebSocket.OPEN) sendSubscribe(channel, entry);
  else open();
  return {
    close() {
      if (channels.get(channel) !== entry) return;
      channels.delete(channel);
      sendMessage({ type: 'unsubscribe', channel });
      closeIfUnused();
    },
  };
}

function refusal(data) {
  return new ApiError(data.error || `Refused (HTTP ${data.status})`, {
    status: data.status || 0,
    unreachable: data.status >= 502,
  });
}

// Subscribes like `subscribe` and resolves once the server confirms it (rejects with an
// ApiError when it refuses, or after `timeoutMs`). `handlers[event](data)` then gets the
// channel's events; `onLost(error)` is called when the subscription ends other than by closing
// it: a refusal (an expired token after reconnecting), or a lost socket when `resume` is false.
/**
 * @param {string} channel
 * @param {object} fields
 * @param {{ handlers?: Record<string, (data: any) => void>, onLost?: (error: Error) => void,
 *   onDrop?: () => void, resume?: boolean, timeoutMs?: number }} [options]
 */
export function openChannel(channel, fields, { handlers = {}, onLost = () => {}, onDrop, resume = true, timeoutMs = 5000 } = {}) {
  return new Promise((resolve, reject) => {
    let opened = false;
    let over = false;
    const fail = (error) => {
      if (over) return;
      if (!opened) {
        over = true;
        clearTimeout(timer);
        reject(error);
      } else {
        over = true;
        onLost(error);
      }
    };
    const subscription = subscribe(channel, fields, {
      resume,
      onDrop,
      onEvent(event, data) {
        if (over) return;
        if (event === 'subscribed') {
          if (!opened) {
            opened = true;
            clearTimeout(timer);
            resolve(subscription);
          }
          if (handlers.subscribed) handlers.subscribed(data);
        } else if (event === 'error') {
          fail(refusal(data));
        } else if (handlers[event]) {
          handlers[event](data);
        }
      },
      onLost() {
        fail(new ApiError('Lost the connection to the server.', { unreachable: true }));
      },
    });
    const timer = setTimeout(() => {
      if (opened) return;
      subscription.close();
      fail(new ApiError('The server did not answer.', { unreachable: true }));
    }, timeoutMs);
  });
}
