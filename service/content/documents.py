"""Markdown documents with front matter: the article, the legal texts a patient agrees to, and
the privacy notice.

Each file is read and rendered once per process; the pages reuse the cached result.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from markdown_it import MarkdownIt
from markupsafe import Markup

CONTENT_DIR = Path(__file__).resolve().parent
LEGAL_KINDS = ("disclaimer", "health_data", "marketing")

_markdown = MarkdownIt("commonmark", {"html": False, "typographer": True}).enable("replacements")


@dataclass(frozen=True, slots=True)
class Document:
    meta: dict[str, str]
    body: str
    html: Markup

    def __getattr__(self, name: str) -> str:
        try:
            return self.meta[name]
        except KeyError:
            raise AttributeError(name) from None


@dataclass(frozen=True, slots=True)
class LegalText:
    """A legal text as shown on the page; `sha256` identifies exactly what was shown."""

    kind: str
    version: str
    label: str
    body: str
    html: Markup
    sha256: str


def parse(source: str) -> Document:
    """Split `---`-fenced `key: value` front matter from the Markdown body, and render it."""
    meta: dict[str, str] = {}
    body = source
    if source.startswith("---\n"):
        header, _, body = source[4:].partition("\n---\n")
        for line in header.splitlines():
            key, sep, value = line.partition(":")
            if sep:
                meta[key.strip()] = value.strip()
    body = body.strip() + "\n"
    return Document(meta=meta, body=body, html=Markup(_markdown.render(body)))  # noqa: S704 - html disabled in the renderer


@cache
def article(slug: str) -> Document:
    return parse((CONTENT_DIR / "articles" / f"{slug}.md").read_text(encoding="utf-8"))


@cache
def privacy_notice() -> Document:
    return parse((CONTENT_DIR / "privacy" / "notice.md").read_text(encoding="utf-8"))


@cache
def legal_texts() -> dict[str, LegalText]:
    texts = {}
    for kind in LEGAL_KINDS:
        doc = parse((CONTENT_DIR / "legal" / f"{kind}.md").read_text(encoding="utf-8"))
        fingerprint = f"{doc.meta['version']}\n{doc.meta['label']}\n{doc.body}"
        texts[kind] = LegalText(
            kind=kind,
            version=doc.meta["version"],
            label=doc.meta["label"],
            body=doc.body,
            html=doc.html,
            sha256=hashlib.sha256(fingerprint.encode("utf-8")).hexdigest(),
        )
    return texts
