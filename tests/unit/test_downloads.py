"""`Content-Disposition` for downloads: the base name only, plain ASCII in `filename`, exact in `filename*`."""

from __future__ import annotations

import pytest

from core.files import content_disposition


@pytest.mark.parametrize(
    ("name", "header"),
    [
        ("quote.pdf", 'attachment; filename="quote.pdf"'),
        ("../../../../etc/passwd.pdf", 'attachment; filename="passwd.pdf"'),
        ("..\\..\\boot.ini", 'attachment; filename="boot.ini"'),
        ("Angebot für Müller.pdf",
         "attachment; filename=\"Angebot fur Muller.pdf\"; filename*=UTF-8''Angebot%20f%C3%BCr%20M%C3%BCller.pdf"),
        ("报价.pdf", "attachment; filename=\".pdf\"; filename*=UTF-8''%E6%8A%A5%E4%BB%B7.pdf"),
        ("a\r\nSet-Cookie: x=1",
         "attachment; filename=\"a__Set-Cookie: x=1\"; filename*=UTF-8''a%0D%0ASet-Cookie%3A%20x%3D1"),
        ('say "hi".pdf', "attachment; filename=\"say _hi_.pdf\"; filename*=UTF-8''say%20%22hi%22.pdf"),
        ("/", 'attachment; filename="file"'),
        ("", 'attachment; filename="file"'),
    ],
)  # fmt: skip
def test_content_disposition(name: str, header: str) -> None:
    assert content_disposition(name) == header
