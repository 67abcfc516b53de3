// What the pages find on `window` once a vendored SDK's <script> has run (assets/js/load-script.js
// loads them as classic scripts), typed by each pinned package's own type definitions. The type
// check (tsconfig.json, `make typecheck-pages`) reads this file with the pages, so a method or
// event that the pinned SDK renames or drops is a type error in the page that uses it.

interface Window {
  // /vendor/amazon-ivs-web-broadcast.js: the package's UMD build defines the whole module.
  IVSBroadcastClient: typeof import('amazon-ivs-web-broadcast');
  // /vendor/hls.min.js: the UMD build defines the default export, the Hls class.
  Hls: typeof import('hls.js').default;
  // /vendor/twilio-video.min.js defines Twilio.Video; /vendor/twilio-live-player.min.js, Twilio.Live.
  Twilio: {
    Video: typeof import('twilio-video');
    Live: typeof import('@twilio/live-player-sdk');
  };
}
