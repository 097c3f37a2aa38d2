"""Bytes written to a terminal, with what a terminal would obey shown as text instead."""

from __future__ import annotations

import codecs
import io
from typing import IO, Any

from mma_core.domain.values import has_control


class TerminalSafe(io.RawIOBase):
    """A binary stream to a terminal that writes what it is given with every control
    character escaped as ``\\x1b``, except the line ends ``\\n`` and ``\\r\\n``. An
    export to a terminal (``mma export csv`` without ``-o``) thus shows an escape sequence or a
    bell from an old or tampered store as text instead of obeying it."""

    def __init__(self, raw: IO[bytes]) -> None:
        super().__init__()
        self.raw = raw
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="backslashreplace")
        self.carriage = False  # a CR was the last character: escaped unless LF follows

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._put(self.decoder.decode(bytes(data)))
        return len(data)

    def _put(self, text: str) -> None:
        out: list[str] = []
        for c in text:
            if self.carriage:
                out.append("\r" if c == "\n" else "\\r")
                self.carriage = False
            if c == "\r":
                self.carriage = True
            elif c == "\n" or not has_control(c):
                out.append(c)
            else:
                out.append(c.encode("unicode_escape").decode("ascii"))
        self.raw.write("".join(out).encode("utf-8"))

    def flush(self) -> None:
        self._put(self.decoder.decode(b"", final=True))
        if self.carriage:
            self.raw.write(b"\\r")
            self.carriage = False
        self.raw.flush()
