"""Small HLS recordings for the browser tests, made at test time with nothing downloaded.

Chromium's own MediaRecorder records an animated canvas as fragmented MP4 (H.264): an init
part (``ftyp`` + ``moov``) and ``moof`` + ``mdat`` fragments, each beginning with a key frame.
The fragments are grouped into segments of about ``SEGMENT_SECONDS`` and described by an HLS
playlist laid out like an IVS recording's (``multivariant.m3u8`` over one rendition, ``high``,
of fMP4 segments), which the tests serve with ``page.route``.
"""

from __future__ import annotations

import base64
import math
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

#: Each segment is at least this long (it ends at the first key frame after it).
SEGMENT_SECONDS = 1.0

#: Records one canvas per size at once, as fMP4; resolves to each recording in base64.
_RECORD_CANVASES = """async ({sizes, seconds}) => {
  const mimeType = 'video/mp4;codecs=avc1.42E01E';
  if (!MediaRecorder.isTypeSupported(mimeType)) throw new Error(`cannot record ${mimeType}`);
  const record = async ([width, height]) => {
    const canvas = Object.assign(document.createElement('canvas'), {width, height});
    const g = canvas.getContext('2d');
    let frame = 0;
    const draw = () => {
      g.fillStyle = `hsl(${(frame * 7) % 360} 70% 45%)`;
      g.fillRect(0, 0, width, height);
      g.fillStyle = '#fff';
      g.font = `${Math.round(height / 4)}px sans-serif`;
      g.fillText(String(frame++), 10, height / 2);
    };
    draw();
    const painter = setInterval(draw, 33);
    const recorder = new MediaRecorder(canvas.captureStream(30), {
      mimeType, videoBitsPerSecond: 250_000, videoKeyFrameIntervalDuration: 1000,
    });
    const chunks = [];
    recorder.ondataavailable = (event) => chunks.push(event.data);
    const stopped = new Promise((resolve) => { recorder.onstop = resolve; });
    recorder.start();
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    recorder.stop();
    await stopped;
    clearInterval(painter);
    const bytes = new Uint8Array(await new Blob(chunks).arrayBuffer());
    let text = '';
    for (let i = 0; i < bytes.length; i += 0x8000) {
      text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    }
    return btoa(text);
  };
  return Promise.all(sizes.map(record));
}"""


@dataclass(frozen=True)
class Segment:
    name: str
    #: seconds from the start of the recording
    start: float
    duration: float
    data: bytes


@dataclass(frozen=True)
class HlsRecording:
    """One recording: its init part, its segments, and the playlists that describe them."""

    init: bytes
    segments: tuple[Segment, ...]
    width: int
    height: int

    @property
    def duration(self) -> float:
        return sum(segment.duration for segment in self.segments)

    def multivariant_playlist(self) -> str:
        bandwidth = max(
            math.ceil(len(segment.data) * 8 / segment.duration) for segment in self.segments
        )
        return (
            "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n"
            f'#EXT-X-STREAM-INF:BANDWIDTH={bandwidth},CODECS="avc1.42e01e",'
            f"RESOLUTION={self.width}x{self.height}\n"
            "high/playlist.m3u8\n"
        )

    def media_playlist(self) -> str:
        target = math.ceil(max(segment.duration for segment in self.segments))
        lines = [
            "#EXTM3U",
            "#EXT-X-VERSION:7",
            f"#EXT-X-TARGETDURATION:{target}",
            "#EXT-X-MEDIA-SEQUENCE:0",
            "#EXT-X-PLAYLIST-TYPE:VOD",
            '#EXT-X-MAP:URI="init.mp4"',
        ]
        for segment in self.segments:
            lines += [f"#EXTINF:{segment.duration:.3f},", segment.name]
        return "\n".join([*lines, "#EXT-X-ENDLIST", ""])

    def files(self) -> dict[str, tuple[str, bytes]]:
        """Each file's path under the recording's folder, with its content type and body."""
        playlist = "application/vnd.apple.mpegurl"
        files = {
            "multivariant.m3u8": (playlist, self.multivariant_playlist().encode()),
            "high/playlist.m3u8": (playlist, self.media_playlist().encode()),
            "high/init.mp4": ("video/mp4", self.init),
        }
        for segment in self.segments:
            files[f"high/{segment.name}"] = ("video/iso.segment", segment.data)
        return files

    def segment_at(self, seconds: float) -> Segment:
        """The segment that holds this moment of the recording."""
        for segment in self.segments:
            if segment.start <= seconds < segment.start + segment.duration:
                return segment
        raise ValueError(f"no segment at {seconds} s of a {self.duration:.1f} s recording")


def corrupted(segment: Segment) -> bytes:
    """The segment with the coded pictures in its ``mdat`` boxes scrambled and its boxes
    intact: hls.js reads it, the browser's decoder cannot."""
    data = bytearray(segment.data)
    for kind, offset, size in list(_boxes(bytes(data), 0, len(data))):
        if kind == b"mdat":
            for index in range(offset + 8, offset + size):
                data[index] = (data[index] * 31 + index) & 0xFF
    return bytes(data)


def record_hls(browser: Any, sizes: list[tuple[int, int]], seconds: float) -> list[HlsRecording]:
    """Records ``seconds`` of an animated canvas at each size (all at once) in a page of its
    own, and cuts each into an HLS recording."""
    context = browser.new_context()
    try:
        page = context.new_page()
        recorded = page.evaluate(
            _RECORD_CANVASES, {"sizes": [list(size) for size in sizes], "seconds": seconds}
        )
    finally:
        context.close()
    return [
        cut_into_segments(base64.b64decode(data), width, height)
        for data, (width, height) in zip(recorded, sizes, strict=True)
    ]


# -- fragmented MP4, as far as cutting it needs ---------------------------------------------------


def _boxes(data: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """(type, offset, size) of each box between ``start`` and ``end``."""
    offset = start
    while offset + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, offset)
        if size == 1:
            (size,) = struct.unpack_from(">Q", data, offset + 8)
        elif size == 0:
            size = end - offset
        yield kind, offset, size
        offset += size


def _child(data: bytes, offset: int, size: int, kind: bytes) -> tuple[int, int]:
    for found, child_offset, child_size in _boxes(data, offset + 8, offset + size):
        if found == kind:
            return child_offset, child_size
    raise ValueError(f"no {kind!r} box at {offset}")


def _timescale(data: bytes, moov: tuple[int, int]) -> int:
    trak = _child(data, *moov, b"trak")
    mdhd = _child(data, *_child(data, *trak, b"mdia"), b"mdhd")
    version = data[mdhd[0] + 8]
    (timescale,) = struct.unpack_from(">I", data, mdhd[0] + (28 if version == 1 else 20))
    return int(timescale)


def _decode_time(data: bytes, moof: tuple[int, int]) -> int:
    tfdt = _child(data, *_child(data, *moof, b"traf"), b"tfdt")
    version = data[tfdt[0] + 8]
    (time,) = struct.unpack_from(">Q" if version == 1 else ">I", data, tfdt[0] + 12)
    return int(time)


def _fragments_duration(data: bytes, moof: tuple[int, int]) -> int:
    """The sum of the fragment's sample durations (its ``trun`` carries each one)."""
    trun_offset, _ = _child(data, *_child(data, *moof, b"traf"), b"trun")
    (flags_word, count) = struct.unpack_from(">II", data, trun_offset + 8)
    flags = flags_word & 0xFFFFFF
    if not flags & 0x100:
        raise ValueError("the fragment's samples carry no durations")
    cursor = trun_offset + 16 + (4 if flags & 0x1 else 0) + (4 if flags & 0x4 else 0)
    per_sample = 4 * sum(1 for bit in (0x100, 0x200, 0x400, 0x800) if flags & bit)
    total = 0
    for _ in range(count):
        (duration,) = struct.unpack_from(">I", data, cursor)
        total += duration
        cursor += per_sample
    return total


def cut_into_segments(data: bytes, width: int, height: int) -> HlsRecording:
    """Cuts MediaRecorder's fMP4 into an init part and segments of at least SEGMENT_SECONDS,
    each beginning with one of its fragments (so with a key frame)."""
    top = list(_boxes(data, 0, len(data)))
    moov = next((offset, size) for kind, offset, size in top if kind == b"moov")
    timescale = _timescale(data, moov)
    init = data[: moov[0] + moov[1]]
    fragments: list[tuple[int, int, int, int]] = []  # offset, end, decode time, duration
    for index, (kind, offset, size) in enumerate(top):
        if kind != b"moof":
            continue
        mdat_kind, mdat_offset, mdat_size = top[index + 1]
        if mdat_kind != b"mdat":
            raise ValueError(f"a moof at {offset} is not followed by its mdat")
        time = _decode_time(data, (offset, size))
        fragments.append(
            (offset, mdat_offset + mdat_size, time, _fragments_duration(data, (offset, size)))
        )
    segments: list[Segment] = []
    group: list[tuple[int, int, int, int]] = []

    def close_group() -> None:
        begin, end = group[0][0], group[-1][1]
        start = group[0][2]
        finish = group[-1][2] + group[-1][3]
        segments.append(
            Segment(
                name=f"segment{len(segments)}.m4s",
                start=start / timescale,
                duration=(finish - start) / timescale,
                data=data[begin:end],
            )
        )

    for fragment in fragments:
        if group and (fragment[2] - group[0][2]) / timescale >= SEGMENT_SECONDS:
            close_group()
            group = []
        group.append(fragment)
    if group:
        close_group()
    return HlsRecording(init, tuple(segments), width, height)
