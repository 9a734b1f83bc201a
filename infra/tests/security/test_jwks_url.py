"""Keys published at a JWKS URL are fetched by PyJWT with blocking I/O: a server verifying a
caller whose key it has not fetched yet goes on serving other calls meanwhile."""

from __future__ import annotations

import asyncio
import http.server
import json
import threading
from typing import Any

import pytest

from infra.security.tokens import (
    DEFAULT_AUDIENCE,
    DEFAULT_ISSUER,
    SigningKey,
    TokenVerifier,
    UrlKeySet,
)

pytestmark = pytest.mark.integration

KEY = SigningKey.generate(kid="k-url-1")


async def test_a_key_fetched_from_a_jwks_url_does_not_hold_up_the_event_loop() -> None:
    # given: an identity provider that takes a while to publish its keys
    document = json.dumps(KEY.jwks()).encode()

    class SlowJwks(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            threading.Event().wait(0.5)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(document)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), SlowJwks)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
        checker = TokenVerifier(UrlKeySet(url), issuer=DEFAULT_ISSUER, audience=DEFAULT_AUDIENCE)
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        ticker = asyncio.create_task(tick())
        # when
        principal = await checker.verify_call(KEY.mint("sup-1", ["supervisor"]))
        ticker.cancel()
    finally:
        server.shutdown()
        server.server_close()
    # then: the loop kept running other work through the half-second fetch
    assert principal.subject == "sup-1"
    assert ticks >= 20
