"""Where a request's body ends, in the bytes that follow its head (``Content-Length`` or
chunked), so that ``http_protocol`` knows where the next request head starts and counts only
the bytes of heads."""

from __future__ import annotations

from livescreen.devserver.connection_limits import MAX_HEAD_BYTES


class BodyEnd:
    """Finds where the current request's body ends in the bytes that follow its head."""

    def __init__(self, length: int | None) -> None:
        self.remaining = length  # None: chunked
        self.state = "size"
        self.line = b""
        self.done = False

    @classmethod
    def for_headers(cls, headers: list[tuple[bytes, bytes]]) -> BodyEnd | None:
        """None when the framing is not one this can follow (the parser refuses it anyway)."""
        codings = [v for k, v in headers if k == b"transfer-encoding"]
        lengths = [v for k, v in headers if k == b"content-length"]
        if codings:
            chunked = codings[-1].split(b",")[-1].strip().lower() == b"chunked"
            return cls(None) if chunked and not lengths else None
        if not lengths:
            return cls(0)
        try:
            return cls(int(lengths[0]))
        except ValueError:
            return None

    def end(self, data: bytes) -> int | None:
        """How many bytes of ``data`` finish the body, or None when all of it is body."""
        if self.done:
            return None
        if self.remaining is not None:
            if self.remaining > len(data):
                self.remaining -= len(data)
                return None
            self.done = True
            return self.remaining
        return self._chunked_end(data)

    def _chunked_end(self, data: bytes) -> int | None:
        pos = 0
        while pos < len(data):
            if self.state == "data":
                assert self.remaining is None
                take = min(self._chunk_left, len(data) - pos)
                pos += take
                self._chunk_left -= take
                if not self._chunk_left:
                    self.state = "data-end"
                continue
            newline = data.find(b"\n", pos)
            if newline < 0:
                self.line += data[pos:]
                if len(self.line) > MAX_HEAD_BYTES:
                    self.done = True  # no chunked body has such lines: leave it to the parser
                return None
            line, self.line, pos = self.line + data[pos:newline], b"", newline + 1
            if self.state == "size":
                try:
                    self._chunk_left = int(line.split(b";")[0].strip(), 16)
                except ValueError:
                    self.done = True
                    return None
                self.state = "data" if self._chunk_left else "trailer"
            elif self.state == "data-end":
                self.state = "size"
            elif line.rstrip(b"\r") == b"":  # the empty line after the last chunk's trailer
                self.done = True
                return pos
        return None

    _chunk_left = 0
