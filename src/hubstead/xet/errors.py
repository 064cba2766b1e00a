"""The errors the Xet format modules raise.

Both are ValueErrors: the input, not the code, is at fault. A server answers the first with a
400 or a 500, depending on whose bytes they are, and the second with a 416.

    ValueError
    ├── XetFormatError       bytes, or records, that are not a valid Xet object
    └── WindowPastEndError   a byte window that starts at or past the end of a file
"""


class XetFormatError(ValueError):
    """Bytes that are not a valid Xet object, or not the one their hash names."""


class WindowPastEndError(ValueError):
    """A byte window of a file that starts at or past its end (HTTP answers 416)."""

    def __init__(self, start: int, size: int) -> None:
        super().__init__(f"the window starts at byte {start}, the file holds {size} bytes")
        self.start = start
        self.size = size
