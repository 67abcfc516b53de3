// Captures what the host shares (screen or camera) and the microphone, turning the browser's
// exceptions into messages a host can act on.

import { FULL_FRAME_RATE } from './encode-budget.js';

const VIDEO_SIZE = {
  width: { ideal: 1280 },
  height: { ideal: 720 },
  frameRate: { ideal: FULL_FRAME_RATE },
};

export class CaptureError extends Error {
  constructor(message) {
    super(message);
    this.name = 'CaptureError';
  }
}

function describe(error, device) {
  switch (error && error.name) {
    case 'NotAllowedError':
    case 'SecurityError':
      if (device === 'screen') {
        return /system/i.test(error.message)
          ? 'Screen sharing is blocked by the browser or the operating system settings.'
          : 'Screen sharing was cancelled.';
      }
      return `Permission to use the ${device} was denied. Allow it in the browser's site settings and try again.`;
    case 'NotFoundError':
    case 'OverconstrainedError':
      return `No ${device} was found.`;
    case 'NotReadableError':
    case 'AbortError':
      return `The ${device} could not be started: another application may be using it.`;
    default:
      return `Could not use the ${device}: ${(error && error.message) || error}`;
  }
}

async function capture(device, request) {
  try {
    return await request();
  } catch (error) {
    throw new CaptureError(describe(error, device));
  }
}

// Resolves to { video, audio } MediaStreamTracks; every track obtained is pushed onto `tracks`
// as soon as it exists so that the caller can stop it even if a later step fails.
export async function captureMedia(source, tracks) {
  const media = navigator.mediaDevices;
  let video;
  if (source === 'camera') {
    if (!media || !media.getUserMedia) throw new CaptureError(insecureMessage('the camera'));
    const stream = await capture('camera', () => media.getUserMedia({ video: VIDEO_SIZE }));
    [video] = stream.getVideoTracks();
  } else {
    if (!media || !media.getDisplayMedia) throw new CaptureError(insecureMessage('your screen'));
    const stream = await capture('screen', () =>
      media.getDisplayMedia({ video: VIDEO_SIZE, audio: false }),
    );
    [video] = stream.getVideoTracks();
  }
  tracks.push(video);
  const mic = await capture('microphone', () => media.getUserMedia({ audio: true }));
  const [audio] = mic.getAudioTracks();
  tracks.push(audio);
  return { video, audio };
}

function insecureMessage(what) {
  return window.isSecureContext
    ? `This browser cannot share ${what}.`
    : `Sharing ${what} needs a secure page: open it over HTTPS or on localhost.`;
}
