"""The error every Xet parser raises for bytes it cannot accept."""

from __future__ import annotations


class XetFormatError(ValueError):
    """Bytes that are not a valid Xet object, or not the one their hash names."""
