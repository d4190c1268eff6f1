"""MkDocs hook: the repository's README.md becomes the site page ``readme.md``.

The README is the front page on a code host and links into ``docs/``; on the site those links
must drop the ``docs/`` prefix, and the pages that link back to ``../README.md`` must reach the
generated page. Nothing else is rewritten, so the README stays the one source of its text.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

_ROOT = Path(__file__).resolve().parents[2]
_TO_DOCS = re.compile(r"\]\(docs/")
_TO_README = re.compile(r"\]\((?:\.\./)+README\.md")


def on_files(files: Files, config: Any) -> Files:
    text = (_ROOT / "README.md").read_text(encoding="utf-8")
    files.append(File.generated(config, "readme.md", content=_TO_DOCS.sub("](", text)))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    if page.file.src_uri == "readme.md":
        return markdown
    depth = page.file.src_uri.count("/")
    return _TO_README.sub("](" + "../" * depth + "readme.md", markdown)
