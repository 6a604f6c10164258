"""golive.loopback: the one answer to "is this address this machine?"."""

from __future__ import annotations

import pytest

from golive.loopback import is_loopback_host, is_loopback_url


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("[::1]", True),
        ("::ffff:127.0.0.1", True),  # IPv4-mapped
        ("localhost", True),
        ("LOCALHOST", True),
        ("10.0.0.7", False),
        ("0.0.0.0", False),  # lands on this machine on Linux, but is not loopback
        ("::ffff:10.0.0.1", False),
        ("example.com", False),
        ("localhost.example.com", False),
        ("127.0.0.1.nip.io", False),
        ("", False),
        (None, False),
    ],
)
def test_hosts(host: str | None, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:8000/hook", True),
        ("https://localhost/hook", True),
        ("http://[::1]:9000/hook", True),
        ("http://127.8.9.10/hook", True),
        ("http://10.0.0.1/hook", False),
        ("http://0.0.0.0/hook", False),
        ("http://localhost.example.com/hook", False),
        ("http://127.0.0.1.nip.io/hook", False),
        ("http://example.com/hook", False),
        ("ftp://127.0.0.1/hook", False),
        ("http://[::1/hook", False),  # unparsable
        ("not a url", False),
    ],
)
def test_urls(url: str, loopback: bool) -> None:
    assert is_loopback_url(url) is loopback
