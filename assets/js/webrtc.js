// Helpers shared by peer-to-peer WebRTC code: complete (non-trickle) SDP.

// How long after the last candidate gathering counts as done (see iceGatheringComplete).
const QUIET_MS = 40;

// Resolves once `pc` has gathered the ICE candidates it will send, so that the local description
// can be sent in one message: when the browser says gathering is complete, or once candidates
// have come and no more for QUIET_MS, or after `timeoutMs` in any case.
//
// With no STUN or TURN server (RTC_CONFIG's `iceServers: []`) a browser gathers only host
// candidates, one per network interface, all within a few milliseconds; it may then take 100 ms
// or more to say it is done, with nothing more to gather. Waiting for that would delay every
// viewer's picture twice (the viewer's offer, then the host's answer).
export function iceGatheringComplete(pc, timeoutMs = 3000) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    let quiet = null;
    const done = () => {
      clearTimeout(timer);
      clearTimeout(quiet);
      pc.removeEventListener('icegatheringstatechange', check);
      pc.removeEventListener('icecandidate', onCandidate);
      resolve();
    };
    const check = () => {
      if (pc.iceGatheringState === 'complete') done();
    };
    const onCandidate = (event) => {
      if (!event.candidate) return done(); // the end of the candidates
      clearTimeout(quiet);
      quiet = setTimeout(done, QUIET_MS);
    };
    const timer = setTimeout(done, timeoutMs);
    pc.addEventListener('icegatheringstatechange', check);
    pc.addEventListener('icecandidate', onCandidate);
    // (candidates that came before this was called are in the description already)
    if (pc.localDescription && pc.localDescription.sdp.includes('\na=candidate:')) {
      quiet = setTimeout(done, QUIET_MS);
    }
  });
}
