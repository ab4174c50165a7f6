"""What the app serves on its own: the icon browsers ask for at the site's root."""

from __future__ import annotations

from pathlib import Path

from litestar.testing import AsyncTestClient

from service.settings import ROOT

ICON = Path(ROOT / "static" / "favicon.ico").read_bytes()


async def test_the_favicon_is_served_from_static(client: AsyncTestClient) -> None:
    response = await client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/x-icon"
    assert response.content == ICON
    assert response.content[:4] == b"\x00\x00\x01\x00"  # an ICO file, with its own images
    assert "inline" in response.headers["content-disposition"]
    assert "max-age=86400" in response.headers["cache-control"]
    assert response.headers["x-content-type-options"] == "nosniff"
