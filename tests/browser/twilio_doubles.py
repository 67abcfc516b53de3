"""Test doubles of the two Twilio browser SDKs, served in place of /vendor/twilio-*.js.

Twilio cannot be reached from here, so these stand in for ``twilio-video`` 2.x and
``@twilio/live-player-sdk`` 1.x. They keep the parts of the real API the pages use, reject
what the real SDKs reject, and record every call in ``window.__twilio``.

The twilio-video double keeps the real SDK's names, events and arguments: ``connect(token,
options)`` resolves with a ``Room`` (``participants`` Map, ``localParticipant``, ``state``,
``disconnect()``) that emits ``participantConnected``, ``participantDisconnected``,
``trackPublished``, ``trackSubscribed``, ``trackUnsubscribed``, ``reconnecting`` (with a
``TwilioError``), ``reconnected`` and ``disconnected`` (room, error); remote tracks have
``attach()``/``detach()``; failures are ``TwilioError``s with the SDK's codes and messages. A
test drives the room of the page's latest ``connect()`` through ``window.__twilio``:

- ``participantJoins(identity)`` / ``participantLeaves(identity)``;
- ``hostPublishes(identity)``: that participant joins and publishes a 1280x720 screen and a tone,
  to which the page is subscribed;
- ``endRoom()``: the room is completed (``disconnected`` with 53118);
- ``breakConnection()`` / ``restoreConnection()`` / ``loseConnection()``: ``reconnecting``
  (53001), then ``reconnected``, or ``disconnected`` with the error;
- ``roomFull = true``: every ``connect()`` rejects with 53105 (or with the code ``roomFull``
  holds, such as 53206) until it is set back to false (set ``window.__twilio = {roomFull:
  true}`` in an init script to refuse the first one).

``test_twilio_video_ui.py`` checks the exported names against the real vendored SDK, and the
members and events (with their number of arguments) against the SDK's typings in
``node_modules/twilio-video/tsdef``; every event the double emits is recorded in
``window.__twilio.emitted`` as ``Class:event:arguments``.
"""

from __future__ import annotations

from typing import Any

VIDEO_SDK = r"""
(() => {
  const calls = (window.__twilio = window.__twilio || {});
  const defaults = { connects: [], disconnects: 0, players: [], rooms: [], roomFull: false };
  for (const [key, value] of Object.entries({ ...defaults, emitted: [] })) {
    if (!(key in calls)) calls[key] = value;
  }

  // Node's EventEmitter, which the SDK's Room, Participant and Track extend (the part used).
  class EventEmitter {
    constructor() { this._handlers = {}; }
    on(name, fn) { (this._handlers[name] = this._handlers[name] || []).push(fn); return this; }
    addListener(name, fn) { return this.on(name, fn); }
    once(name, fn) {
      const once = (...args) => { this.off(name, once); fn(...args); };
      return this.on(name, once);
    }
    off(name, fn) {
      this._handlers[name] = (this._handlers[name] || []).filter((h) => h !== fn);
      return this;
    }
    removeListener(name, fn) { return this.off(name, fn); }
    removeAllListeners(name) {
      if (name === undefined) this._handlers = {}; else delete this._handlers[name];
      return this;
    }
    emit(name, ...args) {
      // "Class:event:number of arguments", for the test that reads the SDK's typings
      const signature = `${this.constructor.name}:${name}:${args.length}`;
      if (!calls.emitted.includes(signature)) calls.emitted.push(signature);
      const handlers = [...(this._handlers[name] || [])];
      for (const fn of handlers) fn(...args);
      return handlers.length > 0;
    }
  }

  // TwilioError: an Error whose own properties are stack, message, code and name, as the SDK's.
  class TwilioError extends Error {
    constructor(code, message) {
      super(message);
      const error = new Error(message);
      error.name = 'TwilioError';
      Object.defineProperty(this, 'code', { value: code, enumerable: true });
      for (const prop of Object.getOwnPropertyNames(error)) {
        Object.defineProperty(this, prop, { value: error[prop], enumerable: true });
      }
    }
    toString() { return `${this.name} ${this.code}: ${this.message}`; }
  }
  // The codes and messages of the SDK's twilio-video-errors.js that the double raises.
  const ERRORS = {
    20101: 'Invalid Access Token',
    53001: 'Signaling connection disconnected',
    53105: 'Room contains too many Participants',
    53118: 'Room completed',
    // not one of the SDK's classes: a TwilioError with the code and message Twilio sent
    53206: 'The Participant concurrency quota was exceeded',
    53405: 'Media connection failed or Media activity ceased',
  };
  const twilioError = (code) => new TwilioError(code, ERRORS[code]);

  let sids = 0;
  const sid = (prefix) => `${prefix}${String(++sids).padStart(32, '0')}`;

  // attach()/detach() as the SDK's MediaTrack does them: one MediaStream per element, one
  // track of each kind in it.
  class Track extends EventEmitter {
    constructor(kind, mediaStreamTrack, name) {
      super();
      this.kind = kind;
      this.mediaStreamTrack = mediaStreamTrack;
      this.name = name || mediaStreamTrack.id;
      this.isStarted = true;
      this._attachments = new Set();
    }
    attach(el) {
      if (typeof el === 'string') el = document.querySelector(el);
      if (!el) el = document.createElement(this.kind);
      let stream = el.srcObject;
      if (!(stream instanceof MediaStream)) stream = new MediaStream();
      const same = this.kind === 'audio' ? stream.getAudioTracks() : stream.getVideoTracks();
      for (const track of same) stream.removeTrack(track);
      stream.addTrack(this.mediaStreamTrack);
      el.srcObject = stream;
      el.autoplay = true;
      el.playsInline = true;
      this._attachments.add(el);
      return el;
    }
    detach(el) {
      const els = el ? [el] : [...this._attachments];
      for (const each of els) {
        if (!this._attachments.has(each)) continue;
        const stream = each.srcObject;
        if (stream instanceof MediaStream) stream.removeTrack(this.mediaStreamTrack);
        this._attachments.delete(each);
      }
      return el ? els[0] : els;
    }
  }

  class LocalTrack extends Track {
    constructor(kind, mediaStreamTrack, options = {}) {
      if (!(mediaStreamTrack instanceof MediaStreamTrack) || mediaStreamTrack.kind !== kind) {
        const name = kind === 'video' ? 'LocalVideoTrack' : 'LocalAudioTrack';
        throw new TypeError(`${name} needs a ${kind} MediaStreamTrack`);
      }
      super(kind, mediaStreamTrack, options.name);
      this.id = mediaStreamTrack.id;
      this.isEnabled = true;
      this.isStopped = false;
    }
    enable(enabled = true) {
      this.isEnabled = enabled;
      this.mediaStreamTrack.enabled = enabled;
      return this;
    }
    disable() { return this.enable(false); }
    stop() { this.isStopped = true; this.mediaStreamTrack.stop(); return this; }
  }
  class LocalVideoTrack extends LocalTrack { constructor(t, o) { super('video', t, o); } }
  class LocalAudioTrack extends LocalTrack { constructor(t, o) { super('audio', t, o); } }
  class LocalDataTrack extends EventEmitter {
    constructor(options = {}) { super(); this.kind = 'data'; this.name = options.name || ''; }
  }

  class RemoteTrack extends Track {
    constructor(kind, mediaStreamTrack, name) {
      super(kind, mediaStreamTrack, name);
      this.sid = sid('MT');
      this.isEnabled = true;
      this.isSwitchedOff = false;
    }
  }
  class RemoteVideoTrack extends RemoteTrack { constructor(t, n) { super('video', t, n); } }
  class RemoteAudioTrack extends RemoteTrack { constructor(t, n) { super('audio', t, n); } }

  class RemoteTrackPublication extends EventEmitter {
    constructor(kind, trackName) {
      super();
      this.kind = kind;
      this.trackName = trackName;
      this.trackSid = sid('MT');
      this.track = null;
      this.isSubscribed = false;
      this.isTrackEnabled = true;
      this.isEnabled = true;
      this.publishPriority = 'standard';
    }
  }

  class Participant extends EventEmitter {
    constructor(identity) {
      super();
      this.identity = identity;
      this.sid = sid('PA');
      this.state = 'connected';
      this.tracks = new Map();
      this.audioTracks = new Map();
      this.videoTracks = new Map();
      this.dataTracks = new Map();
    }
  }
  class LocalParticipant extends Participant {}
  class RemoteParticipant extends Participant {}

  class Room extends EventEmitter {
    constructor(name, identity) {
      super();
      this.name = name;
      this.sid = sid('RM');
      this.state = 'connected';
      this.participants = new Map();
      this.localParticipant = new LocalParticipant(identity);
      this.isRecording = false;
      this.dominantSpeaker = null;
      this.mediaRegion = 'gll';
    }
    disconnect() {
      if (this.state === 'disconnected') return this;
      this._disconnected(undefined);
      calls.disconnects += 1;
      return this;
    }
    _disconnected(error) {
      this.state = 'disconnected';
      for (const participant of this.participants.values()) {
        for (const publication of participant.tracks.values()) publication.track = null;
      }
      this.emit('disconnected', this, error);
    }
  }

  function remoteMedia() {
    const canvas = document.createElement('canvas');
    canvas.width = 1280;
    canvas.height = 720;
    let frame = 0;
    const paint = () => {
      const ctx = canvas.getContext('2d');
      ctx.fillStyle = frame++ % 2 ? '#f22f46' : '#f33f55';
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      ctx.fillStyle = '#fff';
      ctx.font = '64px sans-serif';
      ctx.fillText('Twilio Video room (test double)', 120, 380);
    };
    paint();
    setInterval(paint, 100);
    const [video] = canvas.captureStream(10).getVideoTracks();
    const audioContext = new AudioContext();
    const tone = audioContext.createOscillator();
    const sink = audioContext.createMediaStreamDestination();
    tone.connect(sink);
    tone.start();
    const [audio] = sink.stream.getAudioTracks();
    return { video, audio };
  }

  // The token's claims, or null when it is no JWT (Twilio answers 20101 to that).
  function claimsOf(token) {
    if (typeof token !== 'string' || token.split('.').length !== 3) return null;
    try {
      const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
      const claims = JSON.parse(atob(part + '='.repeat((4 - (part.length % 4)) % 4)));
      return claims && typeof claims === 'object' ? claims : null;
    } catch {
      return null;
    }
  }

  // Resolves with a connected Room; a CancelablePromise (it has cancel()), as the SDK's.
  function connect(token, options = {}) {
    let cancelled = false;
    const promise = (async () => {
      const claims = claimsOf(token);
      if (!claims) throw twilioError(20101);
      const tracks = options.tracks || [];
      if (!Array.isArray(tracks) || !tracks.every((t) => t instanceof LocalTrack)) {
        throw new TypeError('options.tracks must be an Array of LocalTracks or MediaStreamTracks');
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
      if (cancelled) throw new Error('Canceled');
      const { audio, video, name } = options;
      calls.connects.push({ token, name, tracks, audio, video });
      if (calls.roomFull) throw twilioError(calls.roomFull === true ? 53105 : calls.roomFull);
      const room = new Room(name, (claims.grants && claims.grants.identity) || '');
      for (const track of tracks) {
        room.localParticipant.tracks.set(track.id, { track, trackName: track.name });
      }
      calls.room = room;
      calls.rooms.push(room);
      return room;
    })();
    promise.cancel = () => { cancelled = true; return promise; };
    return promise;
  }

  const Logger = {
    levels: { TRACE: 0, DEBUG: 1, INFO: 2, WARN: 3, ERROR: 4, SILENT: 5 },
    getLogger() { return Logger; },
    setLevel() {},
    getLevel() { return 3; },
  };
  const notInTheDouble = (name) => () => Promise.reject(new Error(`${name} is not in the double`));

  // -- what a test does to the room of the page's latest connect() ---------------------------
  const current = () => calls.room;

  // A participant joins (a viewer, as the host sees it).
  calls.participantJoins = (identity) => {
    const participant = new RemoteParticipant(identity);
    current().participants.set(participant.sid, participant);
    current().emit('participantConnected', participant);
    return participant.sid;
  };
  // A participant leaves; its tracks are unsubscribed first, as the SDK does.
  calls.participantLeaves = (identity) => {
    const room = current();
    for (const [key, participant] of room.participants) {
      if (participant.identity !== identity) continue;
      for (const publication of participant.tracks.values()) {
        if (!publication.track) continue;
        const track = publication.track;
        publication.track = null;
        publication.isSubscribed = false;
        publication.emit('unsubscribed', track);
        participant.emit('trackUnsubscribed', track, publication);
        room.emit('trackUnsubscribed', track, publication, participant);
      }
      room.participants.delete(key);
      participant.state = 'disconnected';
      participant.emit('disconnected', participant);
      room.emit('participantDisconnected', participant);
    }
  };
  // The host joins and publishes a 1280x720 screen and a tone; the page subscribes to both.
  calls.hostPublishes = (identity) => {
    const room = current();
    calls.participantJoins(identity);
    const participant = [...room.participants.values()].find((p) => p.identity === identity);
    const media = remoteMedia();
    const published = [
      ['video', 'screen', new RemoteVideoTrack(media.video, 'screen'), participant.videoTracks],
      ['audio', 'microphone', new RemoteAudioTrack(media.audio, 'microphone'),
        participant.audioTracks],
    ];
    for (const [kind, trackName, track, byKind] of published) {
      const publication = new RemoteTrackPublication(kind, trackName);
      participant.tracks.set(publication.trackSid, publication);
      byKind.set(publication.trackSid, publication);
      participant.emit('trackPublished', publication);
      room.emit('trackPublished', publication, participant);
      publication.track = track;
      publication.isSubscribed = true;
      publication.emit('subscribed', track);
      participant.emit('trackSubscribed', track, publication);
      room.emit('trackSubscribed', track, publication, participant);
    }
  };
  // The room ends (completed through the REST API): everyone is disconnected with 53118.
  calls.endRoom = () => current()._disconnected(twilioError(53118));
  // The signaling connection breaks; the SDK tries to get it back.
  calls.breakConnection = (code = 53001) => {
    current().state = 'reconnecting';
    current().emit('reconnecting', twilioError(code));
  };
  // ... and does.
  calls.restoreConnection = () => {
    current().state = 'connected';
    current().emit('reconnected');
  };
  // ... or gives up: disconnected, with the error.
  calls.loseConnection = (code = 53001) => current()._disconnected(twilioError(code));

  window.Twilio = window.Twilio || {};
  window.Twilio.Video = {
    connect,
    createLocalAudioTrack: notInTheDouble('createLocalAudioTrack'),
    createLocalVideoTrack: notInTheDouble('createLocalVideoTrack'),
    createLocalTracks: notInTheDouble('createLocalTracks'),
    runPreflight: () => { throw new Error('runPreflight is not in the double'); },
    isSupported: true,
    version: '2.36.0',
    Logger,
    LocalAudioTrack,
    LocalVideoTrack,
    LocalDataTrack,
  };
})();
"""

#: ``{supported}`` is replaced by ``true`` or ``false``; ``{auto_ready}`` by ``true`` (the player
#: is ``ready`` a moment after connecting, as the real one) or ``false`` (it stays ``idle`` until
#: the test calls ``_setState('ready')``).
PLAYER_SDK = r"""
(() => {
  const calls = (window.__twilio = window.__twilio || {});
  const defaults = { connects: [], disconnects: 0, players: [], rooms: [], roomFull: false };
  for (const [key, value] of Object.entries({ ...defaults, emitted: [] })) {
    if (!(key in calls)) calls[key] = value;
  }
  const WASM = 'twilio-live-player-wasmworker-1-7-0.min.wasm';

  class Player {
    static get isSupported() { return {supported}; }

    static async connect(token, options) {
      if (!Player.isSupported) throw new Error('Player is not supported in this browser');
      if (typeof token !== 'string' || token.split('.').length !== 3) {
        throw new Error('Invalid AccessToken');
      }
      if (!options || typeof options.playerWasmAssetsPath !== 'string') {
        throw new TypeError('options.playerWasmAssetsPath is required');
      }
      // The real player streams and compiles its wasm from that folder: this needs the file to
      // exist and to be served as application/wasm.
      await WebAssembly.compileStreaming(fetch(`${options.playerWasmAssetsPath}/${WASM}`));
      const player = new Player(token);
      calls.players.push(player);
      // Connected, the player is `idle` while it prepares the playback, then `ready`.
      if ({auto_ready}) setTimeout(() => player._setState('ready'), 50);
      return player;
    }

    constructor(token) {
      this.token = token;
      this._handlers = {};
      this.state = 'idle';
      this.plays = []; // the state at every play() call
      const canvas = document.createElement('canvas');
      canvas.width = 1280;
      canvas.height = 720;
      const paint = () => {
        const ctx = canvas.getContext('2d');
        ctx.fillStyle = '#2d6cdf';
        ctx.fillRect(0, 0, canvas.width, canvas.height);
        ctx.fillStyle = '#fff';
        ctx.font = '64px sans-serif';
        ctx.fillText('Twilio Live (test double)', 120, 380);
      };
      paint();
      this._timer = setInterval(paint, 100);
      this.videoElement = document.createElement('video');
      this.videoElement.muted = false;
      this.videoElement.srcObject = canvas.captureStream(10);
    }
    get isMuted() { return this.videoElement.muted; }
    set isMuted(muted) { this.videoElement.muted = muted; }
    on(name, fn) { (this._handlers[name] = this._handlers[name] || []).push(fn); return this; }
    _emit(name, ...args) { for (const fn of this._handlers[name] || []) fn(...args); }
    _setState(state) {
      this.state = state;
      this._emit('stateChanged', state);
    }
    // "Calling this method before Player.state transitions to Ready will not have any effect."
    play() {
      this.plays.push(this.state);
      if (this.state !== 'ready') return this;
      this.videoElement.play();
      this._setState('playing');
      return this;
    }
    disconnect() {
      // Like the SDK: once ended, its inner player is released and calling into it throws.
      if (this.disconnected) {
        throw new TypeError("Cannot read properties of undefined (reading 'remove')");
      }
      this._end();
      return this;
    }
    // The stream ended (or failed): the SDK releases its inner player, `videoElement` with it.
    _end() {
      clearInterval(this._timer);
      this.disconnected = true;
      this.videoElement = undefined;
      this._setState('ended');
    }
    // A playback failure as the SDK reports it: `ended`, then `error` in the same turn.
    _fail(code = 56005, message = 'Network error') {
      this._end();
      const error = new Error(message);
      error.name = 'Error';
      error.code = code;
      this._emit('error', error);
    }
  }
  Player.State = {
    Buffering: 'buffering', Ended: 'ended', Idle: 'idle', Playing: 'playing', Ready: 'ready',
  };
  Player.Event = {
    DurationChanged: 'durationChanged', Error: 'error', QualityChanged: 'qualityChanged',
    Rebuffering: 'rebuffering', SeekCompleted: 'seekCompleted', StateChanged: 'stateChanged',
    TimedMetadataReceived: 'timedMetadataReceived', VideoSizeChanged: 'videoSizeChanged',
    VolumeChanged: 'volumeChanged',
  };

  window.Twilio = window.Twilio || {};
  window.Twilio.Live = { Player };
})();
"""


def serve_doubles(
    page: Any, *, player_supported: bool = True, player_auto_ready: bool = True
) -> None:
    """Serves the doubles to ``page`` in place of the vendored SDK files."""
    page.route(
        "**/vendor/twilio-video.min.js",
        lambda route: route.fulfill(content_type="text/javascript", body=VIDEO_SDK),
    )
    player = PLAYER_SDK.replace("{supported}", "true" if player_supported else "false")
    player = player.replace("{auto_ready}", "true" if player_auto_ready else "false")
    page.route(
        "**/vendor/twilio-live-player.min.js",
        lambda route: route.fulfill(content_type="text/javascript", body=player),
    )
