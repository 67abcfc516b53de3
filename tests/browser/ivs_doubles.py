"""A test double of ``amazon-ivs-web-broadcast`` (1.41), served in place of /vendor/ivs.

IVS cannot be reached from here. The double keeps the part of the real SDK's stage API that
``assets/js/providers/ivs.js`` uses (``Stage``, ``LocalStageStream``, the enums, the events),
rejects what the real SDK rejects (a token that is not a JWT, a strategy missing one of its three
functions, a stream that is not a MediaStreamTrack, publishing with a token without the publish
capability), and records every stage in ``window.__ivs`` so a test can look and act:

- ``__ivs.stages``: every Stage built, with ``claims``, ``published`` and ``left``;
- ``__ivs.remotePublishes(id)`` / ``__ivs.remoteLeaves(id)``: another participant (the host, as
  a viewer sees it) joins and publishes a 1280x720 canvas and a tone, or leaves;
- ``__ivs.subscriberCount(n)``: the stage reports ``n`` subscribers;
- ``__ivs.deleteStage()``: the stage is deleted under everyone's feet.
"""

SDK = r"""
(() => {
  const ivs = (window.__ivs = { stages: [] });

  class Emitter {
    constructor() { this._handlers = {}; }
    on(name, fn) { (this._handlers[name] = this._handlers[name] || []).push(fn); return this; }
    off(name, fn) { this._handlers[name] = (this._handlers[name] || []).filter((h) => h !== fn); }
    emit(name, ...args) { for (const fn of [...(this._handlers[name] || [])]) fn(...args); }
  }

  const StageEvents = {
    STAGE_CONNECTION_STATE_CHANGED: 'stageConnectionStateChanged',
    STAGE_PARTICIPANT_JOINED: 'stageParticipantJoined',
    STAGE_PARTICIPANT_LEFT: 'stageParticipantLeft',
    STAGE_PARTICIPANT_STREAMS_ADDED: 'stageParticipantStreamsAdded',
    STAGE_PARTICIPANT_STREAMS_REMOVED: 'stageParticipantStreamsRemoved',
    STAGE_PARTICIPANT_PUBLISH_STATE_CHANGED: 'stageParticipantPublishStateChanged',
    STAGE_SUBSCRIBER_COUNT_CHANGED: 'stageSubscriberCountChanged',
    ERROR: 'error',
    STAGE_LEFT: 'stageLeft',
  };
  const StageConnectionState = {
    DISCONNECTED: 'disconnected',
    CONNECTING: 'connecting',
    CONNECTED: 'connected',
    ERRORED: 'errored',
  };
  const SubscribeType = { NONE: 'none', AUDIO_ONLY: 'audio_only', AUDIO_VIDEO: 'audio_video' };
  const StreamType = { AUDIO: 'audio', VIDEO: 'video', SUBTITLE: 'subtitle' };
  const StageErrorCategory = {
    JOIN_ERROR: 'JOIN_ERROR', PUBLISH_ERROR: 'PUBLISH_ERROR', SUBSCRIBE_ERROR: 'SUBSCRIBE_ERROR',
  };
  const StageErrorCode = {
    TOKEN_MALFORMED: 1, TOKEN_EXPIRED: 2, TIMEOUT: 3, FAILED: 4, CANCELED: 5, STAGE_AT_CAPACITY: 6,
    CODEC_MISMATCH: 7, TOKEN_NOT_ALLOWED: 8, STAGE_DELETED: 9, PARTICIPANT_DISCONNECTED: 10,
  };
  const StageLeftReason = {
    UNKNOWN: 'unknown', USER_INITIATED: 'user-initiated', TOKEN_REUSED: 'token-reused',
    PARTICIPANT_DISCONNECTED: 'participant-disconnected', STAGE_DELETED: 'stage-deleted',
  };

  function decodeToken(token) {
    if (typeof token !== 'string' || token.split('.').length !== 3) {
      throw new Error('StageClientError: token must be a JWT string');
    }
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(part + '='.repeat((4 - (part.length % 4)) % 4)));
  }

  class StageStream extends Emitter {
    constructor(track) {
      super();
      if (!(track instanceof MediaStreamTrack)) {
        throw new TypeError('A stage stream needs a MediaStreamTrack');
      }
      this.id = track.id;
      this.mediaStreamTrack = track;
      this.streamType = track.kind === 'video' ? StreamType.VIDEO : StreamType.AUDIO;
      this.isMuted = false;
    }
  }
  class LocalStageStream extends StageStream {
    constructor(track, config) {
      super(track);
      if (config && 'maxBitrate' in config) {
        throw new TypeError('maxBitrate is deprecated: use maxVideoBitrateKbps');
      }
      const { maxVideoBitrateKbps = 2500, maxFramerate = 30 } = config || {};
      if (maxVideoBitrateKbps < 50 || maxVideoBitrateKbps > 2500) {
        throw new RangeError('maxVideoBitrateKbps must be between 50 and 2500 kbps');
      }
      if (maxFramerate < 10 || maxFramerate > 30) {
        throw new RangeError('maxFramerate must be between 10 and 30');
      }
      this.config = config || null;
    }
    setMuted(muted) { this.isMuted = Boolean(muted); }
  }
  class RemoteStageStream extends StageStream {}

  class Stage extends Emitter {
    constructor(token, strategy) {
      super();
      this.claims = decodeToken(token);
      const required = [
        'stageStreamsToPublish', 'shouldPublishParticipant', 'shouldSubscribeToParticipant',
      ];
      for (const fn of required) {
        if (!strategy || typeof strategy[fn] !== 'function') {
          throw new TypeError(`strategy.${fn} is required`);
        }
      }
      this.token = token;
      this.strategy = strategy;
      this.joined = false;
      this.left = false;
      this.leftReason = null;
      this.published = [];
      this.publishError = null;
      this.local = null;
      ivs.stages.push(this);
    }

    get capabilities() { return this.claims.capabilities || {}; }

    async join() {
      if (this.joined) throw new Error('StageClientError: already joined');
      if (this.claims.exp && this.claims.exp * 1000 < Date.now()) {
        throw new Error('StageClientError: token expired');
      }
      this.joined = true;
      this.emit(StageEvents.STAGE_CONNECTION_STATE_CHANGED, StageConnectionState.CONNECTING);
      await new Promise((resolve) => setTimeout(resolve, 20));
      this.local = {
        id: `local-${ivs.stages.length}`, userId: this.claims.user_id || '', isLocal: true,
        attributes: {},
      };
      this.emit(StageEvents.STAGE_CONNECTION_STATE_CHANGED, StageConnectionState.CONNECTED);
      if (this.strategy.shouldPublishParticipant(this.local)) {
        if (!this.capabilities.allow_publish) {
          this.publishError = 'INSUFFICIENT_CAPABILITIES';
          this.emit(StageEvents.ERROR, {
            name: 'PublishError', code: 1, category: 'PUBLISH_ERROR',
            message: 'token cannot publish',
          });
          return;
        }
        const streams = this.strategy.stageStreamsToPublish();
        if (!streams.every((s) => s instanceof LocalStageStream)) {
          throw new TypeError('stageStreamsToPublish must return LocalStageStreams');
        }
        this.published = streams;
      }
    }

    leave() {
      if (this.left) return;
      this._left(StageLeftReason.USER_INITIATED);
    }

    _left(reason) {
      this.left = true;
      this.leftReason = reason;
      this.emit(StageEvents.STAGE_CONNECTION_STATE_CHANGED, StageConnectionState.DISCONNECTED);
      this.emit(StageEvents.STAGE_LEFT, reason);
    }
  }

  function remoteMedia() {
    const canvas = document.createElement('canvas');
    canvas.width = 1280;
    canvas.height = 720;
    let frame = 0;
    const paint = () => {
      const ctx = canvas.getContext('2d');
      ctx.fillStyle = frame++ % 2 ? '#ff9900' : '#ffa31a';
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      ctx.fillStyle = '#232f3e';
      ctx.font = '64px sans-serif';
      ctx.fillText('IVS stage (test double)', 160, 380);
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
    return [new RemoteStageStream(video), new RemoteStageStream(audio)];
  }

  const live = () => ivs.stages.filter((stage) => stage.joined && !stage.left);

  ivs.remotePublishes = (id) => {
    for (const stage of live()) {
      const participant = { id, userId: 'host', isLocal: false, attributes: {} };
      stage.emit(StageEvents.STAGE_PARTICIPANT_JOINED, participant);
      const wanted = stage.strategy.shouldSubscribeToParticipant(participant);
      if (wanted === SubscribeType.NONE || !stage.capabilities.allow_subscribe) continue;
      stage.emit(StageEvents.STAGE_PARTICIPANT_STREAMS_ADDED, participant, remoteMedia());
    }
  };
  ivs.remoteLeaves = (id) => {
    for (const stage of live()) {
      const participant = { id, userId: 'host', isLocal: false, attributes: {} };
      stage.emit(StageEvents.STAGE_PARTICIPANT_LEFT, participant);
    }
  };
  ivs.subscriberCount = (count) => {
    for (const stage of live()) stage.emit(StageEvents.STAGE_SUBSCRIBER_COUNT_CHANGED, count);
  };
  ivs.deleteStage = () => {
    for (const stage of live()) stage._left(StageLeftReason.STAGE_DELETED);
  };

  window.IVSBroadcastClient = {
    Stage, LocalStageStream, RemoteStageStream, StageEvents, StageConnectionState, SubscribeType,
    StreamType, StageLeftReason, StageErrorCategory, StageErrorCode,
    isSupported: () => typeof RTCPeerConnection === 'function',
    __version: '1.41.0-double',
  };
})();
"""
