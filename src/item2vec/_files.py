"""Atomic file writing: a temporary file beside the target, renamed over it on success."""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

__all__ = ["atomic_write", "sync_directory", "synced_open"]


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str], mode: str = "wb") -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path``; on success, flush it to disk and rename it.

    A crash or an exception before the rename leaves any earlier file at
    ``path`` untouched and removes the temporary one. A symbolic link is
    written through: its target is replaced atomically and the link stays.
    A directory, FIFO, socket or device at ``path`` is refused (ValueError):
    replacing it with a file would destroy what the name pointed to.
    """
    path = Path(path)
    if path.is_symlink():
        path = Path(os.path.realpath(path))
    if path.exists() and not path.is_file():
        raise ValueError(
            f"{path} exists and is not a regular file (a directory, FIFO, socket or device): "
            f"refusing to replace it"
        )
    with _terminate_as_exit(), _temporary_beside(path, mode) as handle:
        yield handle


@contextlib.contextmanager
def synced_open(path: str | os.PathLike[str], mode: str, **options: Any) -> Iterator[IO[Any]]:
    """``open(path, mode, **options)`` for writing; when the block ends without an error,
    the file is flushed and synced to disk before it is closed."""
    with open(path, mode, **options) as handle:
        yield handle
        handle.flush()
        os.fsync(handle.fileno())


def sync_directory(path: str | os.PathLike[str]) -> None:
    """Flush a directory's entries to disk, so a rename inside it survives a power loss
    (POSIX; elsewhere the rename itself is all there is)."""
    if os.name != "posix":
        return
    fd = os.open(os.fspath(path) or ".", os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def _terminate_as_exit() -> Iterator[None]:
    """Turn SIGTERM into SystemExit meanwhile, so a terminated process still removes
    its temporary file (the default action would end it on the spot). Only the main
    thread can set handlers, and a handler the program installed is left alone."""
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
    ):
        yield
        return

    def exit_on_terminate(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, exit_on_terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


@contextlib.contextmanager
def _temporary_beside(path: Path, mode: str) -> Iterator[IO[Any]]:
    handle = tempfile.NamedTemporaryFile(
        mode, dir=path.parent if str(path.parent) else ".", prefix=f".{path.name}.",
        suffix=".tmp", delete=False,
    )  # fmt: skip
    try:
        with handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        # temporary files are private (0600); give the result the usual umask mode
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(handle.name, 0o666 & ~umask)
        os.replace(handle.name, path)
        sync_directory(path.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(handle.name)
