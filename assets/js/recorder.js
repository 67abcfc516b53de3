// Records what the host publishes (the same MediaStream) and uploads it while live, in order.
// MediaRecorder hands over a piece of webm every TIMESLICE_MS; each piece is split into uploads
// the server takes (`chunkBytes`), sent one after the other with the offset they continue, and
// retried after a network error (the server accepts a repeated upload without writing it twice).
// stop() waits for the recorder's last piece and its upload, within FLUSH_TIMEOUT_MS.

const MIME_TYPES = [
  'video/webm;codecs=vp8,opus',
  'video/webm;codecs=vp9,opus',
  'video/webm;codecs=vp8',
  'video/webm',
];
const TIMESLICE_MS = 1000;
const DEFAULT_CHUNK_BYTES = 512 * 1024;
// after a network error or a 5xx/429, the waits before each new try; then the recording stops
// (not after a 507: the server could not write the recording, or its folder is full
// (MAX_RECORDINGS_TOTAL_MB), and says why)
const RETRY_DELAYS_MS = [250, 500, 1000, 2000, 4000, 4000, 4000];
const STOP_TIMEOUT_MS = 5000;
const FLUSH_TIMEOUT_MS = 15_000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

class UploadRefusedError extends Error {
  constructor(message, status) {
    super(message);
    this.name = 'UploadRefusedError';
    this.status = status;
  }
}

// The first webm type this browser records, or null.
export function recordingMimeType() {
  if (typeof MediaRecorder !== 'function') return null;
  return MIME_TYPES.find((type) => MediaRecorder.isTypeSupported(type)) || null;
}

async function refusal(response) {
  let message = `The server refused the recording (HTTP ${response.status}).`;
  try {
    const data = await response.json();
    if (data && typeof data.error === 'string' && data.error) message = data.error;
  } catch {
    // not JSON: keep the generic message
  }
  return new UploadRefusedError(message, response.status);
}

// Start recording `stream`; uploads go to `upload` with the host `token`.
// onStatus({ state, message }): state is 'recording', 'stopped', 'limit' (MAX_RECORDING_MB was
// reached), 'refused' (the server said no, or could not write it, or the recordings folder is full:
// 507), 'failed' (unreachable, or the browser gave up) or
// 'unsupported'. The stream itself goes on whatever happens to its recording.
export function startRecording({ stream, upload, token, chunkBytes = DEFAULT_CHUNK_BYTES, onStatus = (_status) => {} }) {
  const mimeType = recordingMimeType();
  if (!mimeType) {
    onStatus({ state: 'unsupported', message: 'This browser cannot record the stream; it goes on without a recording.' });
    return { stop: async () => {} };
  }
  const recorder = new MediaRecorder(stream, { mimeType });
  let offset = 0;
  let over = false; // no more uploads: stopped on purpose, refused or failed
  let chain = Promise.resolve(); // the uploads, in order
  let stopping = null;

  const end = (state, message = '') => {
    if (over) return;
    over = true;
    if (recorder.state !== 'inactive') {
      try {
        recorder.stop();
      } catch {
        // already stopping
      }
    }
    onStatus({ state, message });
  };

  const send = async (piece) => {
    for (let attempt = 0; ; attempt += 1) {
      let response = null;
      try {
        response = await fetch(`${upload}?offset=${offset}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/octet-stream', 'X-Host-Token': token },
          body: piece,
          cache: 'no-store',
        });
      } catch {
        // a network error: try again below
      }
      if (response && response.ok) {
        offset += piece.size;
        return;
      }
      const final = response && ((response.status < 500 && response.status !== 429) || response.status === 507);
      if (final) throw await refusal(response);
      if (attempt >= RETRY_DELAYS_MS.length) {
        throw new UploadRefusedError('The server could not be reached to save the recording.', 0);
      }
      await sleep(RETRY_DELAYS_MS[attempt]);
    }
  };

  const uploadBlob = async (blob) => {
    for (let start = 0; start < blob.size && !over; start += chunkBytes) {
      try {
        await send(blob.slice(start, start + chunkBytes));
      } catch (error) {
        const state = error.status === 413 ? 'limit' : error.status ? 'refused' : 'failed';
        end(state, `Recording stopped: ${error.message.replace(/\.$/, '')}. The stream goes on.`);
      }
    }
  };

  recorder.addEventListener('dataavailable', (event) => {
    if (over) return;
    if (!event.data || event.data.size === 0) return;
    const blob = event.data;
    chain = chain.then(() => uploadBlob(blob));
  });
  recorder.addEventListener('error', (event) => {
    const reason = event.error ? event.error.message : 'unknown error';
    end('failed', `The browser stopped recording (${reason}). The stream goes on.`);
  });
  recorder.start(TIMESLICE_MS);
  onStatus({ state: 'recording', message: '' });

  // Stop recording; with `upload` (the default) the last piece is uploaded before this resolves.
  const stop = ({ upload: keep = true } = {}) => {
    if (stopping) return stopping;
    stopping = (async () => {
      if (!keep) over = true;
      if (recorder.state !== 'inactive') {
        const stopped = new Promise((resolve) => recorder.addEventListener('stop', resolve, { once: true }));
        recorder.stop();
        // the last 'dataavailable' comes before 'stop', so its upload is on the chain by then
        await Promise.race([stopped, sleep(STOP_TIMEOUT_MS)]);
      }
      const flushed = await Promise.race([chain.then(() => true), sleep(FLUSH_TIMEOUT_MS).then(() => false)]);
      if (!flushed) end('failed', 'The end of the recording could not be uploaded in time.');
      else end('stopped');
    })();
    return stopping;
  };
  return { stop };
}
