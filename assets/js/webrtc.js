// Helpers shared by peer-to-peer WebRTC code: complete (non-trickle) SDP and event streams.

// Resolves once `pc` has gathered every ICE candidate it will (or after `timeoutMs`), so that
// the local description can be sent in one message.
export function iceGatheringComplete(pc, timeoutMs = 3000) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      pc.removeEventListener('icegatheringstatechange', check);
      resolve();
    };
    const check = () => {
      if (pc.iceGatheringState === 'complete') done();
    };
    const timer = setTimeout(done, timeoutMs);
    pc.addEventListener('icegatheringstatechange', check);
  });
}

// Opens an EventSource and resolves when it is connected; rejects if the first attempt fails.
export function openEvents(url, handlers, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const source = new EventSource(url);
    let opened = false;
    const timer = setTimeout(() => {
      if (!opened) {
        source.close();
        reject(new Error('The signalling server did not answer.'));
      }
    }, timeoutMs);
    for (const [name, handler] of Object.entries(handlers)) {
      source.addEventListener(name, (event) => handler(JSON.parse(event.data)));
    }
    source.addEventListener('open', () => {
      opened = true;
      clearTimeout(timer);
      resolve(source);
    });
    source.addEventListener('error', () => {
      if (!opened) {
        clearTimeout(timer);
        source.close();
        reject(new Error('Could not connect to the signalling server.'));
      }
    });
  });
}
