"""Source text as numbered, highlighted lines (pygments), escaped before anything is marked safe.

Each line is its own piece of HTML: the tokens of a multi-line string or comment are cut at
line ends, so a page can number the lines in a table. Token classes are pygments' short names
prefixed with `tok-` (`tok-k`, `tok-s`, ...), styled by `hub.css`; no inline style (the
Content-Security-Policy allows none). A file pygments has no lexer for is plain text.
"""

from __future__ import annotations

from markupsafe import Markup, escape
from pygments.lexers import get_lexer_for_filename
from pygments.lexers.special import TextLexer
from pygments.token import STANDARD_TYPES, _TokenType
from pygments.util import ClassNotFound

MAX_HIGHLIGHTED_BYTES = 256 * 1024
"""Larger texts are shown plain: highlighting them would cost more than the page is worth."""


def _css_class(kind: _TokenType) -> str:
    while kind not in STANDARD_TYPES and kind.parent is not None:
        kind = kind.parent
    return str(STANDARD_TYPES.get(kind, ""))


def highlighted_lines(text: str, path: str) -> list[Markup]:
    """The lines of `text`, highlighted as the language `path`'s name suggests."""
    try:
        lexer = get_lexer_for_filename(path, stripnl=False, ensurenl=False)
    except ClassNotFound:
        lexer = TextLexer()
    if len(text) > MAX_HIGHLIGHTED_BYTES:
        lexer = TextLexer()
    lines: list[list[str]] = [[]]
    for kind, value in lexer.get_tokens(text):
        css = _css_class(kind)
        for i, piece in enumerate(value.split("\n")):
            if i:
                lines.append([])
            if piece:
                html = escape(piece)
                lines[-1].append(f'<span class="tok-{css}">{html}</span>' if css else str(html))
    if len(lines) > 1 and not lines[-1]:
        lines.pop()
    return [Markup("".join(parts)) for parts in lines]  # noqa: S704 (every piece escaped)
