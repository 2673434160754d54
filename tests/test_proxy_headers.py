"""Who the client is behind a proxy: the rightmost X-Forwarded-For entry that is not a trusted proxy.

The shipped nginx site sends ``X-Forwarded-For: $proxy_add_x_forwarded_for``: whatever the
client wrote, then the address nginx saw. Only that last part can be believed.
"""

from __future__ import annotations

import httpx
import pytest

from jack_host.testing import echo_plugin, make_app, running_app
from tests.staff_helpers import env, login, make_users


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """One app per FORWARDED_ALLOW_IPS value; the test server's peer is always 127.0.0.1."""
    started = {}
    contexts = []
    for allow in ("127.0.0.1", "127.0.0.1,10.0.0.0/8", "*", "10.0.0.0/8"):
        folder = tmp_path_factory.mktemp("proxy")
        app = make_app(folder, plugins=[echo_plugin(ip="client_ip")],
                       env=env(folder, FORWARDED_ALLOW_IPS=allow, STAFF_LOGIN_MAX_FAILURES_PER_IP="3"))
        context = running_app(app)
        started[allow] = (app, context.__enter__())
        contexts.append(context)
    yield started
    for context in contexts:
        context.__exit__(None, None, None)


# (FORWARDED_ALLOW_IPS, X-Forwarded-For as received, the client) -- uvicorn's ProxyHeadersMiddleware answers
CASES = [
    ("127.0.0.1", "203.0.113.50", "203.0.113.50"),
    # nginx appended the real address to what the client forged
    ("127.0.0.1", "1.2.3.4, 203.0.113.50", "203.0.113.50"),
    ("127.0.0.1", "1.2.3.4,203.0.113.50", "203.0.113.50"),
    # two proxies: the load balancer (10.0.0.2) in front of nginx on loopback
    ("127.0.0.1,10.0.0.0/8", "1.2.3.4, 203.0.113.50, 10.0.0.2", "203.0.113.50"),
    # every entry is a trusted proxy: the client is a proxy too, the leftmost
    ("127.0.0.1,10.0.0.0/8", "10.0.0.3, 10.0.0.2", "10.0.0.3"),
    ("127.0.0.1", "[2001:db8::7]:4711", "2001:db8::7"),
    ("127.0.0.1", "203.0.113.50:4711", "203.0.113.50"),
    # "*" trusts everyone, so the leftmost entry
    ("*", "1.2.3.4, 203.0.113.50", "1.2.3.4"),
    # the peer (127.0.0.1) is not a trusted proxy: the header is ignored
    ("10.0.0.0/8", "1.2.3.4, 203.0.113.50", "127.0.0.1"),
]


@pytest.mark.parametrize(("allow", "forwarded_for", "client"), CASES)
def test_the_client_is_the_rightmost_untrusted_address(servers, allow, forwarded_for, client):
    _, url = servers[allow]
    assert httpx.get(url + "/echo", headers={"X-Forwarded-For": forwarded_for}).json() == {"ip": client}


def test_the_same_answers_as_uvicorns_proxy_headers_middleware(servers):
    import asyncio

    from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

    async def uvicorn_says(allow: str, forwarded_for: str) -> str:
        scope = {"type": "http", "client": ("127.0.0.1", 50000), "headers": [(b"x-forwarded-for", forwarded_for.encode())]}

        async def app(scope, receive, send):
            pass

        await ProxyHeadersMiddleware(app, trusted_hosts=allow)(scope, None, None)
        return scope["client"][0]

    for allow, forwarded_for, client in CASES:
        assert asyncio.run(uvicorn_says(allow, forwarded_for)) == client, (allow, forwarded_for)


def test_a_forged_leftmost_entry_does_not_escape_the_per_address_sign_in_limit(servers):
    app, url = servers["127.0.0.1"]
    make_users(app)
    for n in range(3):
        forged = {"X-Forwarded-For": f"10.9.9.{n}, 203.0.113.77"}
        assert login(url, f"guess{n}@hotel.test", "guess", headers=forged).status_code == 401
    refused = login(url, "admin@hotel.test", "guess", headers={"X-Forwarded-For": "10.9.9.99, 203.0.113.77"})
    assert refused.status_code == 429
