"""Markdown that people write (comments, descriptions) rendered as HTML safe to show.

CommonMark with raw HTML turned off: tags in the text come out escaped, and links and images
keep only the URL schemes markdown-it allows (no `javascript:`, `vbscript:`, `file:`, and
`data:` for images only), so rendered text can never run script in a reader's browser. GFM
tables are on: a cell is inline markdown like any other text, under the same rules; a column's
alignment becomes a class (`align-left`, `align-center`, `align-right`), not markdown-it's
`style` attribute, which the web hub's content security policy would refuse.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token

_ALIGNMENTS = {
    "text-align:left": "align-left",
    "text-align:center": "align-center",
    "text-align:right": "align-right",
}


def _cell_open(renderer: Any, tokens: Sequence[Token], index: int, options: Any, env: Any) -> str:
    """A table cell's opening tag, its alignment as a class instead of a `style` attribute."""
    token = tokens[index]
    style = token.attrs.pop("style", None)
    if isinstance(style, str) and style in _ALIGNMENTS:
        token.attrSet("class", _ALIGNMENTS[style])
    html: str = renderer.renderToken(tokens, index, options, env)
    return html


_RENDERER = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
_RENDERER.add_render_rule("th_open", _cell_open)
_RENDERER.add_render_rule("td_open", _cell_open)


def render_markdown(text: str) -> str:
    """The HTML of `text`, with any HTML it holds escaped."""
    html: str = _RENDERER.render(text)
    return html
