"""SOP text written in the app: Markdown to HTML that cannot run anything.

markdown-it-py in CommonMark mode with raw HTML switched off (``html=False``:
typed tags come out as text), then nh3 (the Ammonia sanitiser) with a short
allow-list of tags and attributes as a second, independent guard. Links may
only be http(s), mailto or in-app paths; ``javascript:`` and ``data:`` are
dropped, and every link gets ``rel="noopener noreferrer"``.
"""
from __future__ import annotations

import functools

import nh3

TAGS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "strong", "em", "a", "blockquote",
        "code", "pre", "hr", "br", "table", "thead", "tbody", "tr", "th", "td"}
ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"scope"}}
SCHEMES = {"http", "https", "mailto"}

@functools.cache
def _parser():
    # Imported here: markdown-it is 60 modules, needed only by pages showing an SOP.
    from markdown_it import MarkdownIt
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")


def to_html(markdown: str) -> str:
    """Safe HTML for a page (mark it safe in the template only through this)."""
    rendered = _parser().render(markdown or "")
    return nh3.clean(rendered, tags=TAGS, attributes=ATTRIBUTES, url_schemes=SCHEMES,
                     link_rel="noopener noreferrer", strip_comments=True)
