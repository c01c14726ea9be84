"""Keep secrets that logs hold (JWTs, bearer tokens, cookies, API and bypass keys) out of output.

Every output path (text, JSON, markdown, plots, notebook reprs, error messages) passes the text
it shows through ``redact``. A redacted value keeps what lets a reader recognise it (the header or
field name, the token kind, a short hash) and never the value itself: ``[JWT sha256:1a2b3c4d]``.
"""

from __future__ import annotations


def redact(text: str | None) -> str | None:
    """``text`` with every secret replaced by a recognisable marker."""
    raise NotImplementedError
