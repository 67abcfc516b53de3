// The chat panel of both pages. It asks /chat_token for a token, loads the browser module of the
// chat provider the answer names (/js/chat/<chat>.js) and shows what that module relays.
// Every piece of text that comes from a person is put on the page with textContent: a message
// such as `<img src=x onerror=...>` is shown as those characters, never parsed as HTML.
//
// The panel's state is in `data-chat-state` on its root: name (choose a display name), joining,
// open, host-needed (host page before the password: reading along, not sending), off,
// disconnected, lost.

import { loadChat, postJSON } from '../api.js';

const NAME_KEY = 'livescreen.chatName';
const MAX_MESSAGES = 200;
const SLOW_DOWN_MS = 5000;
const HOST_NAME = 'Host';
// The host page reads the chat with a viewer's token under this name until it has the host
// session; it sends nothing with it, so the name is never shown.
const READER_NAME = 'Host (reading)';
const MAX_MESSAGE_LENGTH = 500; // code points, as the server and IVS Chat count
// /chat_token answered 429 or 503 (a crowd arriving at once): tries, and the longest wait between
const TOKEN_ATTEMPTS = 8;
const TOKEN_MAX_WAIT_MS = 10000;
// What no message may contain (the server refuses the same: the local chat, or the IVS Chat
// room's review handler): control characters, line and paragraph separators, direction
// overrides and isolates.
const FORBIDDEN = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

// Why `text` (already trimmed) cannot be sent, or '' when it can.
export function messageProblem(text) {
  if (!text) return 'The message is empty.';
  if ([...text].length > MAX_MESSAGE_LENGTH) return `The message is longer than ${MAX_MESSAGE_LENGTH} characters.`;
  if (FORBIDDEN.test(text) || LONE_SURROGATE.test(text)) {
    return 'A message cannot contain control characters (line breaks, tabs, direction overrides).';
  }
  return '';
}

function storedName() {
  try {
    return localStorage.getItem(NAME_KEY) || '';
  } catch {
    return '';
  }
}

function rememberName(name) {
  try {
    localStorage.setItem(NAME_KEY, name);
  } catch {
    // private browsing without storage: the name is asked again next time
  }
}

function formatTime(ms) {
  return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

function sentence(text) {
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

// What the panel says when the connection ends for a reason other than the host.
function lostMessage(reason) {
  if (!reason || /^lost /i.test(reason)) return sentence(reason || 'Lost the connection to the chat');
  return sentence(`Lost the connection to the chat: ${reason.charAt(0).toLowerCase()}${reason.slice(1)}`);
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// `root` holds the panel's markup (see index.html / host.html); `role` is 'viewer' or 'host'.
export function mountChat(root, { role }) {
  const $ = (name) => root.querySelector(`[data-chat="${name}"]`);
  const ui = {
    who: $('who'),
    rename: $('rename'),
    note: $('note'),
    messages: $('messages'),
    alert: $('alert'),
    rejoin: $('rejoin'),
    nameForm: $('name-form'),
    name: $('name'),
    nameError: $('name-error'),
    sendForm: $('send-form'),
    text: $('text'),
    send: $('send'),
  };
  const isHost = role === 'host';

  let state = '';
  let live = false;
  let hostSession = null;
  let name = isHost ? HOST_NAME : storedName();
  let chat = null; // the connected module's handle
  let connection = 0; // bumps on every join, so late events of an old connection are ignored
  let keepsHistory = true;
  let canModerate = false; // the token may delete messages and disconnect chatters
  let noHistoryNoted = false;
  let sending = false;
  let slowTimer = 0;
  // The identity ticket of the last /chat_token answer, and the role it is for: presented when
  // this page asks again, so it keeps one chat identity (the host's Disconnect and the "mine"
  // markers aim at it) for as long as it is open. Dropped only when the server refuses it.
  let ticket = null;
  const shown = new Map(); // message id -> <li>

  function setState(next) {
    state = next;
    root.dataset.chatState = next;
    const open = next === 'open';
    ui.sendForm.hidden = !open;
    ui.nameForm.hidden = next !== 'name';
    ui.rename.hidden = isHost || !open;
    ui.who.hidden = !open;
    ui.who.textContent = open ? `as ${name}` : '';
    ui.rejoin.hidden = next !== 'lost';
    renderNote();
    renderEmpty();
  }

  function renderEmpty() {
    root.classList.toggle('is-empty', state !== 'open' && ui.messages.children.length === 0);
  }

  function renderNote() {
    let note = '';
    if (state === 'host-needed') {
      note = 'Switch LIVE on and enter the password to chat as the host. Until then you can read along.';
    } else if (state === 'joining') {
      note = 'Joining the chat…';
    } else if (state === 'open' && root.dataset.connection === 'connecting') {
      note = 'Reconnecting to the chat…';
    } else if (!live && (state === 'open' || state === 'name')) {
      note = isHost ? 'You are offline: the chat stays open.' : 'Nothing is live right now: the chat is open.';
    }
    ui.note.textContent = note;
    ui.note.hidden = !note;
  }

  function showAlert(kind, message) {
    clearTimeout(slowTimer);
    ui.alert.className = `chat-alert alert small mb-0 rounded-0 ${kind === 'slow' ? 'alert-warning' : kind === 'off' ? 'alert-secondary' : 'alert-danger'}`;
    ui.alert.dataset.kind = kind;
    ui.alert.textContent = message;
    ui.alert.hidden = false;
    if (kind === 'slow') slowTimer = window.setTimeout(clearAlert, SLOW_DOWN_MS);
  }

  function clearAlert() {
    clearTimeout(slowTimer);
    ui.alert.hidden = true;
    ui.alert.textContent = '';
    delete ui.alert.dataset.kind;
  }

  function nearBottom() {
    const list = ui.messages;
    return list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  }

  function append(item) {
    const follow = nearBottom();
    ui.messages.append(item);
    while (ui.messages.children.length > MAX_MESSAGES) {
      const first = ui.messages.firstElementChild;
      if (first.dataset.id) shown.delete(first.dataset.id);
      first.remove();
    }
    if (follow) ui.messages.scrollTop = ui.messages.scrollHeight;
    renderEmpty();
  }

  function systemLine(text) {
    append(element('li', 'chat-system', text));
  }

  function moderationButtons(message) {
    const actions = element('div', 'chat-actions');
    const remove = element('button', 'btn btn-link btn-sm p-0', 'Delete');
    remove.type = 'button';
    remove.dataset.action = 'delete';
    remove.setAttribute('aria-label', `Delete this message from ${message.sender.name}`);
    remove.addEventListener('click', () => moderate(() => chat.deleteMessage(message.id)));
    const kick = element('button', 'btn btn-link btn-sm p-0 text-danger', 'Disconnect');
    kick.type = 'button';
    kick.dataset.action = 'disconnect';
    kick.setAttribute('aria-label', `Disconnect ${message.sender.name} from the chat`);
    kick.addEventListener('click', () =>
      moderate(async () => {
        await chat.disconnectUser(message.sender.id);
        systemLine(`${message.sender.name} was disconnected.`);
      }),
    );
    actions.append(remove, kick);
    return actions;
  }

  async function moderate(action) {
    if (!chat) return;
    try {
      await action();
    } catch (error) {
      showAlert('error', error.message || String(error));
    }
  }

  function showMessage(message) {
    if (!message || shown.has(message.id)) return;
    const sender = message.sender || {};
    const item = element('li', 'chat-message');
    item.dataset.id = message.id;
    item.dataset.sender = sender.id || '';
    item.dataset.role = sender.role === 'host' ? 'host' : 'viewer';
    if (chat && sender.id === chat.identity) item.classList.add('is-mine');
    const meta = element('div', 'chat-meta');
    meta.append(element('span', 'chat-sender', sender.name || 'Someone'));
    if (sender.role === 'host') meta.append(element('span', 'badge text-bg-danger chat-host', 'host'));
    const time = element('time', 'chat-time', formatTime(message.sentAt));
    time.dateTime = new Date(message.sentAt).toISOString();
    time.title = new Date(message.sentAt).toLocaleString();
    meta.append(time);
    item.append(meta, element('p', 'chat-text', message.text));
    item.chatMessage = message;
    if (canModerate && sender.role !== 'host') item.append(moderationButtons(message));
    shown.set(message.id, item);
    append(item);
  }

  function removeMessage(id) {
    const item = shown.get(id);
    if (!item) return;
    shown.delete(id);
    item.remove();
  }

  function tokenRequest() {
    /** @type {{ name: string, session?: string, ticket?: string }} */
    let request;
    if (!isHost) request = { name };
    else request = hostSession ? { session: hostSession, name: HOST_NAME } : { name: READER_NAME };
    // A viewer's ticket is never presented for the host's token (the server refuses it anyway).
    const role = 'session' in request ? 'host' : 'viewer';
    return ticket && ticket.role === role ? { ...request, ticket: ticket.value } : request;
  }

  // /chat_token once: the grant, its ticket kept for the next time.
  async function fetchGrant() {
    const request = tokenRequest();
    try {
      const grant = await postJSON('/chat_token', request);
      ticket = grant && grant.ticket ? { value: grant.ticket, role: grant.role } : null;
      return grant;
    } catch (error) {
      // a refused ticket: the next join (the person clicks Rejoin) starts a new identity
      if (error.status === 403 && 'ticket' in request) ticket = null;
      throw error;
    }
  }

  // /chat_token, tried again (with the wait the server asks for, or a growing one) while it
  // answers 429 or 503: a crowd arriving at once is let in a hundred or so a second.
  async function requestToken(mine) {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await fetchGrant();
      } catch (error) {
        const busy = error.status === 429 || error.status === 503;
        if (!busy || attempt >= TOKEN_ATTEMPTS || mine !== connection) throw error;
        const backoff = Math.min(TOKEN_MAX_WAIT_MS, 1000 * 2 ** (attempt - 1));
        const wait = error.retryAfter ? error.retryAfter * 1000 : backoff * (0.5 + Math.random() / 2);
        ui.note.textContent = `The chat is busy: joining again in ${Math.ceil(wait / 1000)} s…`;
        ui.note.hidden = false;
        await new Promise((resolve) => setTimeout(resolve, wait));
        if (mine !== connection) return null;
      }
    }
  }

  function leave() {
    connection += 1;
    canModerate = false;
    if (chat) chat.close();
    chat = null;
  }

  async function join() {
    leave();
    const mine = connection;
    delete root.dataset.connection;
    clearAlert();
    setState('joining');
    let grant;
    let module;
    try {
      grant = await requestToken(mine);
      if (mine !== connection || !grant) return;
      if (grant.chat === 'off' || !grant.token) {
        setState('off');
        showAlert('off', 'Chat is turned off on this server.');
        return;
      }
      if (!isHost) rememberName(grant.name || name);
      module = await loadChat(grant);
      if (mine !== connection) return;
      keepsHistory = module.keepsHistory !== false;
      const handle = await module.connect({
        grant,
        renew: fetchGrant,
        on: {
          message: (message) => mine === connection && showMessage(message),
          remove: (id) => mine === connection && removeMessage(id),
          state: (value) => {
            if (mine !== connection) return;
            root.dataset.connection = value;
            renderNote();
          },
          ended: ({ kind, reason }) => {
            if (mine !== connection) return;
            chat = null;
            if (kind === 'expired') {
              // the token's session is over: a new token, the same name, nothing to click
              join();
            } else if (kind === 'disconnected') {
              setState('disconnected');
              showAlert('disconnected', 'The host disconnected you from the chat.');
            } else {
              setState('lost');
              showAlert('lost', lostMessage(reason));
            }
          },
        },
      });
      if (mine !== connection) {
        handle.close();
        return;
      }
      chat = handle;
    } catch (error) {
      if (mine !== connection) return;
      if (!isHost && error.status === 400) {
        // the server refused the display name: say why, next to it
        setState('name');
        ui.nameError.textContent = error.message;
        ui.nameError.hidden = false;
        return;
      }
      if (isHost && error.status === 401) {
        // the host session has expired: read along until the host enters the password again
        hostSession = null;
        join();
        return;
      }
      setState('lost');
      showAlert('lost', error.message || 'Could not join the chat.');
      return;
    }
    canModerate = (grant.capabilities || []).includes('DELETE_MESSAGE');
    setState(isHost && !canModerate ? 'host-needed' : 'open');
    // Items shown from an earlier connection carry the old identity (and, on the host page,
    // were shown before the host could moderate): bring them up to date.
    for (const item of shown.values()) {
      item.classList.toggle('is-mine', item.dataset.sender === chat.identity);
      if (canModerate && item.dataset.role !== 'host' && !item.querySelector('.chat-actions')) {
        item.append(moderationButtons(item.chatMessage));
      }
    }
    if (!keepsHistory && !noHistoryNoted) {
      noHistoryNoted = true;
      systemLine('Messages sent before you joined are not shown.');
    }
  }

  async function send(text, retried = false) {
    try {
      const message = await chat.send(text);
      showMessage(message);
      clearAlert();
      return true;
    } catch (error) {
      if (error.status === 429) {
        showAlert('slow', 'Slow down: you are sending messages too fast. Wait a moment and try again.');
      } else if (error.status === 401 && !retried) {
        // the token expired: a new one, then the message once more
        await join();
        if (chat) return send(text, true);
      } else if (error.status === 406) {
        // IVS Chat's message review refused it
        showAlert('error', 'The message was refused: it is empty, too long or holds control characters.');
      } else if (error.status === 403 && !isHost) {
        leave();
        setState('disconnected');
        showAlert('disconnected', 'The host disconnected you from the chat.');
      } else {
        showAlert('error', error.message || 'The message was not sent.');
      }
      return false;
    }
  }

  ui.sendForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const text = ui.text.value.trim();
    if (!text || !chat || sending) return;
    const problem = messageProblem(text);
    if (problem) {
      showAlert('error', problem);
      return;
    }
    sending = true;
    ui.send.disabled = true;
    try {
      if (await send(text)) ui.text.value = '';
    } finally {
      sending = false;
      ui.send.disabled = false;
      ui.text.focus();
    }
  });

  ui.nameForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const chosen = ui.name.value.trim();
    ui.nameError.hidden = true;
    if (!chosen || chosen.length > 32) {
      ui.nameError.textContent = 'Choose a display name of 1 to 32 characters.';
      ui.nameError.hidden = false;
      return;
    }
    name = chosen;
    join();
  });

  ui.rename.addEventListener('click', () => {
    leave();
    ui.name.value = name;
    setState('name');
    ui.name.focus();
  });

  ui.rejoin.addEventListener('click', () => join());

  if (isHost || name) join();
  else setState('name');

  return {
    // Whether a stream is on air (the panel says when the chat is open without one).
    setLive(value) {
      live = Boolean(value);
      renderNote();
    },
    // Host page: the host session from /host_token, which makes this the host's (moderator) chat.
    setHostSession(session) {
      hostSession = session;
      if (isHost && !canModerate && state !== 'off') join();
    },
  };
}
