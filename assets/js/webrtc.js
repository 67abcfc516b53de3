// Helpers shared by peer-to-peer WebRTC code: complete (non-trickle) SDP.

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
