// How many frames per second the host's browser sends each viewer of the `local` provider.
//
// With `local`, the host's browser encodes the shared screen once per viewer, so its work grows
// with the audience. One or two viewers each get the capture's full rate; beyond that, the
// viewers share a budget of 80 encoded frames per second (20 each for 4 viewers, 10 each for 8)
// and never get fewer than 5 each. The host's machine then stays responsive (it is also the one
// presenting), every viewer gets a steady picture rather than the stutter of an overloaded
// encoder, and a new viewer's picture is not held up behind the others' encoding. The shared
// screen keeps its full resolution either way (text must stay readable): only the frame rate is
// lowered. (Measured on a 2-core machine running a host and 8 viewer tabs, docs/operations.md:
// with 15 frames a second each, the machine stayed saturated and a new tab took up to 3 s to
// play; with 10, at most 1.5 s.)

/** The capture's own rate (capture.js asks for 30), and so each viewer's while few watch. */
export const FULL_FRAME_RATE = 30;
/** Encoded frames per second for the whole audience, once it is more than 2 viewers. */
export const FRAMES_PER_SECOND_BUDGET = 80;
/** Never fewer than this per viewer, however many watch. */
export const LOWEST_FRAME_RATE = 5;

/**
 * The highest frame rate each of `viewers` connections is sent.
 * @param {number} viewers
 * @returns {number}
 */
export function frameRateFor(viewers) {
  const share = Math.floor(FRAMES_PER_SECOND_BUDGET / Math.max(1, viewers));
  return Math.max(LOWEST_FRAME_RATE, Math.min(FULL_FRAME_RATE, share));
}
