// The error a provider module's `play` rejects with when the stream takes no more viewers for
// now (the `local` provider's room, or a Twilio room at its participant limit): the audience
// page says its message, waits, then tries again. A provider that has the server's own words
// passes them; otherwise the message is the one below.

export class StreamFullError extends Error {
  constructor(message = 'This stream is full. Try again later.') {
    super(message);
    this.name = 'StreamFullError';
  }
}
