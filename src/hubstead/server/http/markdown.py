"""Markdown that people write (comments, descriptions) rendered as HTML safe to show.

CommonMark with raw HTML turned off: tags in the text come out escaped, and links and images
keep only the URL schemes markdown-it allows (no `javascript:`, `vbscript:`, `file:`, and
`data:` for images only), so rendered text can never run script in a reader's browser.
"""

from __future__ import annotations

from markdown_it import MarkdownIt

_RENDERER = MarkdownIt("commonmark", {"html": False, "linkify": False})


def render_markdown(text: str) -> str:
    """The HTML of `text`, with any HTML it holds escaped."""
    html: str = _RENDERER.render(text)
    return html
