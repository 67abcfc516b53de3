// The states every provider module reports to the page, whichever SDK or network is underneath.
// A provider maps its own connection states onto these, so the audience and host pages handle
// one vocabulary and say the same thing for every provider.
//
// Viewer (`play({ onStateChange, onEnded })`):
//   onStateChange(RECONNECTING) — the connection is lost and the provider is getting it back by
//                                 itself; the page says "Reconnecting…" and keeps the player.
//   onStateChange(RECONNECTED)  — it is back; the page clears the message.
//   onStateChange(FAILED)       — it cannot come back; the page removes the player, says so and
//                                 looks for the stream again with a fresh token.
//   onEnded()                   — the stream itself ended (the host stopped).
//
// Host (`publish({ onStateChange, onDisconnected })`):
//   onStateChange(RECONNECTING) — nothing is being sent for now; the provider is retrying.
//   onStateChange(RECONNECTED)  — sending again.
//   onDisconnected(error)       — it cannot recover; the page goes offline, says `error.message`
//                                 and stops everything the stream holds (the provider has left).

export const RECONNECTING = 'reconnecting';
export const RECONNECTED = 'reconnected';
export const FAILED = 'failed';
