"""Where a person may be sent after signing in: a path of this site, never another origin."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# One slash, then not a slash or backslash (browsers read "//x" and "/\x" as another host), and no
# control characters or spaces a browser would strip or reinterpret.
_OWN_PATH = re.compile(r"/(?![/\\])[^\\\x00-\x20\x7f]*")
MAX_NEXT_LENGTH = 500


def safe_next(candidate: str | None, default: str = "/") -> str:
    """``candidate`` if it is a relative path of this site (query allowed), else ``default``."""
    if not candidate or len(candidate) > MAX_NEXT_LENGTH or not _OWN_PATH.fullmatch(candidate):
        return default
    parts = urlsplit(candidate)
    if parts.scheme or parts.netloc:
        return default
    return candidate
