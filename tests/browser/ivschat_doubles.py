"""A test double of ``amazon-ivs-chat-messaging`` (1.1.1), served in place of the vendored SDK.

Amazon IVS Chat cannot be reached from here. The double is an ES module with the real SDK's
exports and shapes (``ChatRoom`` with ``connect``, ``disconnect``, ``addListener`` returning an
unsubscribe function, ``removeListener``, ``sendMessage``, ``deleteMessage``, ``disconnectUser``
and ``state``; ``SendMessageRequest``, ``DeleteMessageRequest``, ``DisconnectUserRequest`` with
``action`` and a ``requestId``; the events ``connecting``, ``connect``, ``disconnect(reason)``,
``message``, ``messageDelete``, ``userDisconnect``). Like the SDK it throws when a request is
made on a room that is not connected and rejects a refused request with a ``ChatError`` object
``{id, errorCode, errorMessage, requestId}``; like the service it refuses a request the token's
capabilities do not allow (403) and a message over 500 characters (400).

Pages of one browser context share one room through a ``BroadcastChannel``, standing in for the
service. A token is ``ivschat-double.<base64 JSON {userId, attributes, capabilities}>``: what
IVS would know about an opaque token. ``window.__ivschat`` lets a test look and act:

- ``rooms``: every ChatRoom built, with ``socketUrl``, ``tokens`` (what its token provider
  returned, in order), ``requests`` (every request sent) and ``state``;
- ``throttleNext()``: the next request is refused with 429, as IVS refuses a room over its
  ``maximumMessageRatePerSecond``;
- ``denyNext()``: the next message is refused with 406, as when the room's message review
  handler denies it;
- ``serverDisconnect()``: the service closes this page's connections (no reconnect);
- ``breakNetwork()`` / ``restoreNetwork()``: the sockets break and every room reconnects by itself
  with a fresh token, once the network is back.
"""

from __future__ import annotations

import base64
import json
from typing import Any

ENDPOINT = "wss://edge.ivschat.us-east-1.amazonaws.com"


def double_token(user_id: str, attributes: dict[str, str], capabilities: list[str]) -> str:
    claims = {"userId": user_id, "attributes": attributes, "capabilities": capabilities}
    encoded = base64.b64encode(json.dumps(claims).encode()).decode()
    return f"ivschat-double.{encoded}"


def token_claims(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = json.loads(base64.b64decode(token.split(".", 1)[1]))
    return claims


SDK = r"""
const service = (window.__ivschat = window.__ivschat || { rooms: [], throttled: 0, denied: 0 });
const channel = new BroadcastChannel('ivschat-double');
const newId = (prefix) => `${prefix}-${crypto.randomUUID()}`;
const newRequestId = () => crypto.randomUUID();
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;

function decodeToken(token) {
  if (typeof token !== 'string' || !token.startsWith('ivschat-double.')) {
    throw new Error('invalid chat token');
  }
  return JSON.parse(atob(token.slice('ivschat-double.'.length)));
}

class Emitter {
  constructor() { this.listeners = {}; }
  add(name, fn) {
    (this.listeners[name] = this.listeners[name] || []).push(fn);
    return () => this.remove(name, fn);
  }
  remove(name, fn) { this.listeners[name] = (this.listeners[name] || []).filter((f) => f !== fn); }
  emit(name, ...args) { for (const fn of [...(this.listeners[name] || [])]) fn(...args); }
}

export class SendMessageRequest {
  constructor(content, attributes) {
    this.action = 'SEND_MESSAGE';
    this.requestId = newRequestId();
    this.content = content;
    this.attributes = attributes;
  }
}

export class DeleteMessageRequest {
  constructor(id, reason) {
    this.action = 'DELETE_MESSAGE';
    this.requestId = newRequestId();
    this.id = id;
    this.reason = reason;
  }
}

export class DisconnectUserRequest {
  constructor(userId, reason) {
    this.action = 'DISCONNECT_USER';
    this.requestId = newRequestId();
    this.userId = userId;
    this.reason = reason;
  }
}

const live = new Set();

channel.onmessage = ({ data }) => {
  for (const room of live) room._receive(data);
};

function publish(entity) {
  channel.postMessage(entity);
  for (const room of live) room._receive(entity);
}

function revive(entity) {
  return { ...entity, sendTime: new Date(entity.sendTime) };
}

export class ChatRoom {
  constructor({ regionOrUrl, tokenProvider, maxReconnectAttempts = 3, id = newRequestId() }) {
    if (typeof regionOrUrl !== 'string') throw new Error('regionOrUrl is required');
    if (regionOrUrl.startsWith('wss://') || regionOrUrl.startsWith('ws://')) {
      this.socketUrl = regionOrUrl;
    } else if (REGION.test(regionOrUrl)) {
      this.socketUrl = `wss://edge.ivschat.${regionOrUrl}.amazonaws.com`;
    } else {
      throw new Error('Region contains invalid characters');
    }
    if (typeof tokenProvider !== 'function') throw new Error('tokenProvider must be a function');
    this.tokenProvider = tokenProvider;
    this.maxReconnectAttempts = maxReconnectAttempts;
    this.id = id;
    this.logger = console;
    this.logLevel = 'debug';
    this._state = 'disconnected';
    this._events = new Emitter();
    this._pending = new Map();
    this.tokens = [];
    this.requests = [];
    this.claims = null;
    service.rooms.push(this);
  }

  get state() { return this._state; }

  addListener(name, listener) { return this._events.add(name, listener); }
  removeListener(name, listener) { this._events.remove(name, listener); }

  connect() {
    if (this._state !== 'disconnected') {
      throw new Error(`State must be "disconnected" but is ${this._state}`);
    }
    this._open();
  }

  // Connecting, and reconnecting after a broken socket: a fresh token from the provider each
  // time (an IVS Chat token is good for one connection).
  async _open() {
    this._state = 'connecting';
    this._events.emit('connecting');
    let claims;
    try {
      const chatToken = await this.tokenProvider();
      this.tokens.push(chatToken);
      claims = decodeToken(chatToken.token);
    } catch (error) {
      this._close('fetchTokenError');
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
    await service.network;
    if (this._state !== 'connecting') return;
    this.claims = claims;
    this._state = 'connected';
    live.add(this);
    this._events.emit('connect');
  }

  disconnect() {
    this._close('clientDisconnect');
  }

  _close(reason) {
    live.delete(this);
    if (this._state === 'disconnected') return;
    this._state = 'disconnected';
    for (const pending of this._pending.values()) {
      pending.reject({ id: newId('error'), errorCode: 500, errorMessage: 'Connection closed' });
    }
    this._pending.clear();
    this._events.emit('disconnect', reason);
  }

  sendMessage(request) {
    return this._submit(request, 'SEND_MESSAGE', 'sendMessage');
  }

  deleteMessage(request) {
    return this._submit(request, 'DELETE_MESSAGE', 'deleteMessage');
  }

  disconnectUser(request) {
    return this._submit(request, 'DISCONNECT_USER', 'disconnectUser');
  }

  // The capability a request needs is named as its action (SEND_MESSAGE, DELETE_MESSAGE, ...).
  _submit(request, action, type) {
    if (!request || request.action !== action || typeof request.requestId !== 'string') {
      throw new Error('Request serialization failed');
    }
    if (this._state !== 'connected') throw new Error('Room is not connected');
    if (this._pending.has(request.requestId)) throw new Error('Duplicate request id');
    this.requests.push({ ...request });
    return new Promise((resolve, reject) => {
      const error = (errorCode, errorMessage) =>
        ({ id: newId('error'), errorCode, errorMessage, requestId: request.requestId });
      const refuse = (errorCode, errorMessage) =>
        setTimeout(() => reject(error(errorCode, errorMessage)), 5);
      if (service.throttled > 0) {
        service.throttled -= 1;
        refuse(429, 'Too Many Requests');
        return;
      }
      if (action === 'SEND_MESSAGE' && service.denied > 0) {
        service.denied -= 1;
        refuse(406, 'Not Acceptable');
        return;
      }
      if (!this.claims.capabilities.includes(action)) {
        refuse(403, 'Forbidden');
        return;
      }
      this._pending.set(request.requestId, { type, resolve, reject });
      setTimeout(() => this._serve(request), 5);
    });
  }

  _serve(request) {
    const sendTime = new Date().toISOString();
    const sender = { userId: this.claims.userId, attributes: this.claims.attributes };
    if (request.action === 'SEND_MESSAGE') {
      if (typeof request.content !== 'string' || request.content.length > 500) {
        const pending = this._pending.get(request.requestId);
        this._pending.delete(request.requestId);
        pending.reject({
          id: newId('error'), errorCode: 400, errorMessage: 'Bad Request',
          requestId: request.requestId,
        });
        return;
      }
      publish({ kind: 'message', id: newId('msg'), sender, content: request.content, sendTime,
        requestId: request.requestId, attributes: request.attributes });
    } else if (request.action === 'DELETE_MESSAGE') {
      publish({ kind: 'messageDelete', id: newId('evt'), messageId: request.id,
        reason: request.reason, sendTime, requestId: request.requestId });
    } else {
      publish({ kind: 'userDisconnect', id: newId('evt'), userId: request.userId,
        reason: request.reason, sendTime, requestId: request.requestId });
    }
  }

  _receive(entity) {
    const { kind, ...fields } = entity;
    const event = revive(fields);
    this._events.emit(kind, event);
    const pending = this._pending.get(entity.requestId);
    if (pending) {
      this._pending.delete(entity.requestId);
      pending.resolve(event);
    }
    if (kind === 'userDisconnect' && this.claims && event.userId === this.claims.userId) {
      this._close('serverDisconnect');
    }
  }
}

service.throttleNext = () => { service.throttled += 1; };
service.denyNext = () => { service.denied += 1; };
service.serverDisconnect = () => { for (const room of [...live]) room._close('serverDisconnect'); };
// The sockets break (the network drops): every room reconnects by itself, as the SDK does, but
// its new connection waits until ``restoreNetwork()``.
service.network = null;
service.breakNetwork = () => {
  let restore;
  service.network = new Promise((resolve) => { restore = resolve; });
  service.restoreNetwork = () => { service.network = null; restore(); };
  for (const room of [...live]) {
    live.delete(room);
    room._open();
  }
};
"""
