"""The API's own documentation pages work on a machine without internet.

`/docs` (Swagger UI) and `/redoc` load their scripts and styles from the service itself
(packaged assets), never from a CDN; each asset a page names is served.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.api_server import serving, settings_for

if TYPE_CHECKING:
    from pathlib import Path


ASSET = re.compile(r"""(?:src|href)=["']([^"']+)["']""")


@pytest.mark.parametrize(
    ("page", "script"), [("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc")]
)
def test_the_docs_pages_load_only_what_the_service_serves(page, script, tmp_path: Path) -> None:
    with serving(settings_for(tmp_path / "diagnostics.sqlite")) as running:
        html = httpx.get(running.url + page, timeout=10)
        assert html.status_code == 200
        assets = ASSET.findall(html.text)
        assert any(script in a for a in assets), assets
        outside = [a for a in assets if a.startswith(("http:", "https:", "//"))]
        assert outside == [], f"{page} loads {outside} from outside"
        for asset in assets:
            served = httpx.get(running.url + asset, timeout=10)
            assert served.status_code == 200, asset
            assert len(served.content) > 1000, asset
        spec = httpx.get(running.url + "/openapi.json", timeout=10)
        assert spec.json()["info"]["title"] == "simlab diagnostics"
