// What a provider module's play() returns for a stream it renders into its own <video>.

export function videoPlayback(video, finish) {
  return {
    videoElement: video,
    async stop() {
      finish();
    },
    setMuted(muted) {
      video.muted = muted;
    },
    get muted() {
      return video.muted;
    },
  };
}
