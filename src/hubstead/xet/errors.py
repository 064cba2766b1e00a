"""The one error the Xet format modules raise."""


class XetFormatError(ValueError):
    """Bytes that are not a valid Xet object, or not the one their hash names."""
