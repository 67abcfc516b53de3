"""Test doubles of the two Twilio browser SDKs, served in place of /vendor/twilio-*.js.

Twilio cannot be reached from here, so these stand in for ``twilio-video`` 2.x and
``@twilio/live-player-sdk`` 1.x. They keep the parts of the real API the pages use, reject
what the real SDKs reject, and record every call in ``window.__twilio``.
"""

VIDEO_SDK = r"""
(() => {
  const calls = (window.__twilio =
    window.__twilio || { connects: [], disconnects: 0, players: [] });

  class Emitter {
    constructor() { this._handlers = {}; }
    on(name, fn) { (this._handlers[name] = this._handlers[name] || []).push(fn); return this; }
    emit(name, ...args) { for (const fn of this._handlers[name] || []) fn(...args); }
  }

  class LocalTrack extends Emitter {
    constructor(kind, mediaStreamTrack, options = {}) {
      super();
      if (!(mediaStreamTrack instanceof MediaStreamTrack) || mediaStreamTrack.kind !== kind) {
        const name = kind === 'video' ? 'LocalVideoTrack' : 'LocalAudioTrack';
        throw new TypeError(`${name} needs a ${kind} MediaStreamTrack`);
      }
      this.kind = kind;
      this.mediaStreamTrack = mediaStreamTrack;
      this.name = options.name || mediaStreamTrack.id;
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

  class Room extends Emitter {
    constructor(name) { super(); this.name = name; this.state = 'connected'; }
    disconnect() {
      if (this.state === 'disconnected') return this;
      this.state = 'disconnected';
      calls.disconnects += 1;
      this.emit('disconnected', this, undefined);
      return this;
    }
  }

  async function connect(token, options = {}) {
    if (typeof token !== 'string' || token.split('.').length !== 3) {
      const error = new Error('Invalid Access Token'); error.code = 20101; throw error;
    }
    const tracks = options.tracks || [];
    if (!tracks.every((t) => t instanceof LocalTrack)) {
      throw new TypeError('options.tracks must be LocalTracks or MediaStreamTracks');
    }
    const room = new Room(options.name);
    calls.connects.push({ token, name: options.name, tracks });
    calls.room = room;
    return room;
  }

  window.Twilio = window.Twilio || {};
  window.Twilio.Video = { connect, LocalVideoTrack, LocalAudioTrack, version: '2.36.0-double' };
})();
"""

#: ``{supported}`` is replaced by ``true`` or ``false``.
PLAYER_SDK = r"""
(() => {
  const calls = (window.__twilio =
    window.__twilio || { connects: [], disconnects: 0, players: [] });
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
      return player;
    }

    constructor(token) {
      this.token = token;
      this._handlers = {};
      this.state = 'ready';
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
    _setState(state) {
      this.state = state;
      for (const fn of this._handlers.stateChanged || []) fn(state);
    }
    play() {
      this.videoElement.play();
      this._setState('playing');
      return this;
    }
    disconnect() {
      clearInterval(this._timer);
      this.disconnected = true;
      this._setState('ended');
      return this;
    }
  }
  Player.State = {
    Buffering: 'buffering', Ended: 'ended', Idle: 'idle', Playing: 'playing', Ready: 'ready',
  };

  window.Twilio = window.Twilio || {};
  window.Twilio.Live = { Player };
})();
"""
