"""A logging filter that scrubs secrets from every record before it is written.

The shop never logs keys, signatures, passwords or card data on purpose; this is the net
under that rule: Stripe keys (sk_/rk_), webhook secrets (whsec_), signature headers'
v1= values and long digit runs that could be card numbers are replaced.
"""

from __future__ import annotations

import logging
import re

_PATTERNS = [
    (re.compile(r"\b(sk|rk)_(test|live)_[A-Za-z0-9]+"), r"\1_\2_[redacted]"),
    (re.compile(r"\bwhsec_[A-Za-z0-9+/=_-]+"), "whsec_[redacted]"),
    (re.compile(r"\bv1=[0-9a-fA-F]{16,}"), "v1=[redacted]"),
    (re.compile(r"\b(?:\d[ -]?){12,18}\d\b"), "[digits redacted]"),
]


def scrub(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class ScrubSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = scrub(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            # Render the traceback now, scrubbed; the formatter then uses exc_text as is.
            formatter = logging.Formatter()
            record.exc_text = scrub(formatter.formatException(record.exc_info))
            record.exc_info = None
        return True
