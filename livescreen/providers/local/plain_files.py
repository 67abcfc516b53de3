"""The entries of a folder whose contents are not trusted, read and written as plain files only.

No entry is ever opened through a symbolic link: ``open_plain`` opens with ``O_NOFOLLOW`` and
refuses anything but a plain file (a link, a folder, a FIFO, a device) with
``NotPlainFileError``; ``plain_files`` lists only plain files. ``append_bytes`` writes a piece
whole or fails, ``truncate`` undoes a partial write, and ``is_disk_full`` tells a full disk from
any other write error.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # so that a FIFO planted in the folder cannot block
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_BINARY = getattr(os, "O_BINARY", 0)


class NotPlainFileError(OSError):
    """An entry of the folder that is a symbolic link, or not a plain file: never opened."""


def open_plain(path: Path, flags: int) -> int:
    """A descriptor of the plain file ``path`` (an entry of the folder), opened without
    following a symbolic link there; ``NotPlainFileError`` for a link or anything but
    a plain file (a folder, a FIFO, a device)."""
    try:
        fd = os.open(path, flags | _NOFOLLOW | _NONBLOCK | _CLOEXEC | _BINARY, 0o666)
    except OSError as exc:
        # Linux and macOS answer ELOOP for a link under O_NOFOLLOW, FreeBSD EMLINK
        if exc.errno in (errno.ELOOP, errno.EMLINK) or (
            exc.errno in (errno.EISDIR, errno.ENXIO) and not flags & os.O_CREAT
        ):
            raise NotPlainFileError(
                exc.errno, "Not a plain file of the folder", str(path)
            ) from None
        raise
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotPlainFileError(errno.EINVAL, "Not a plain file of the folder", str(path))
        if _NONBLOCK:
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def plain_files(root: Path) -> list[tuple[str, int]]:
    """The name and size of each plain file in ``root`` (none when it does not exist); a
    symbolic link is not one."""
    found = []
    try:
        with os.scandir(root) as entries:
            for entry in entries:
                try:
                    if entry.is_file(follow_symlinks=False):
                        found.append((entry.name, entry.stat(follow_symlinks=False).st_size))
                except OSError:  # removed meanwhile
                    continue
    except FileNotFoundError:
        return []
    return found


def append_bytes(media: BinaryIO, data: bytes) -> None:
    """Write all of ``data`` at the end of ``media`` (an unbuffered file opened to append)."""
    view = memoryview(data)
    while view:  # a full disk fails here, inside the caller's try
        written = media.write(view)
        if not written:
            raise OSError(errno.EIO, "The recording could not be written")
        view = view[written:]


def truncate(media: BinaryIO, size: int) -> None:
    """Cut ``media`` back to ``size`` bytes (what a failed write left), if it can be."""
    with contextlib.suppress(OSError):  # the write error is what the caller reports
        os.ftruncate(media.fileno(), size)


def is_disk_full(error: OSError) -> bool:
    """Whether ``error`` says the disk (or the user's quota) has no room left."""
    return error.errno in (errno.ENOSPC, errno.EDQUOT)


def holds(media: BinaryIO, offset: int, data: bytes) -> bool:
    """Whether ``media`` holds ``data`` at ``offset`` already."""
    media.seek(offset)
    return media.read(len(data)) == data
