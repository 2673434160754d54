"""The widget script, the full-page chat, the banner, settings and health."""

from __future__ import annotations

import asyncio

import httpx
import jack_channel_webchat.plugin
import pytest

from jack_host.config.settings import SettingsError
from jack_host.testing import make_app, wait_until


def test_webchat_js_is_served_with_type_and_caching(serve):
    _, url = serve()
    response = httpx.get(url + "/webchat.js")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert "max-age=3600" in response.headers["cache-control"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "data-jack-title" in response.text and "new WebSocket(" in response.text
    again = httpx.get(url + "/webchat.js", headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


def test_chat_page_uses_the_widget_and_follows_language(serve):
    _, url = serve({"WEBCHAT_TITLE": "Hotel <Aurora>"})
    page = httpx.get(url + "/chat")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<html lang="en" dir="ltr">' in page.text
    assert 'src="/webchat.js" data-jack-mode="page"' in page.text
    assert "Hotel &lt;Aurora&gt;" in page.text and "<Aurora>" not in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    arabic = httpx.get(url + "/chat", params={"lang": "ar"})
    assert '<html lang="ar" dir="rtl">' in arabic.text
    bad = httpx.get(url + "/chat", params={"lang": '"><script>'})
    assert bad.status_code == 400 and bad.json()["error"] == "bad_language"


def test_jack_serve_banner(tmp_path):
    app = make_app(tmp_path, plugins=[("channel_webchat", jack_channel_webchat.plugin)])
    lines = app.hooks.serve_banner(app, "http://localhost:3000")
    assert lines == ["Try the web chat: http://localhost:3000/chat"]


def test_health_is_connected_while_serving(serve):
    _, url = serve()
    document = wait_until(lambda: httpx.get(url + "/health").json(), what="health")
    assert document["channels"]["webchat"] == "connected"


def test_health_without_pipeline_is_an_error(tmp_path):
    app = make_app(
        tmp_path,
        plugins=[("channel_webchat", jack_channel_webchat.plugin)],
        env={"JACK_DISABLED_PLUGINS": "jack.conversations"},
    )
    health = asyncio.run(app.channels["webchat"].health())
    assert health.state == "error" and "pipeline" in health.detail


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("WEBCHAT_ALLOWED_ORIGINS", "hotel.example", "'hotel.example' is not one"),
        ("WEBCHAT_MAX_MESSAGE_CHARS", "lots", "a whole number"),
        ("WEBCHAT_RATE_LIMIT_PER_MINUTE", "0", "at least 1"),
    ],
)
def test_bad_settings_are_named(tmp_path, name, value, expected):
    with pytest.raises(SettingsError) as info:
        make_app(tmp_path, plugins=[("channel_webchat", jack_channel_webchat.plugin)], env={name: value})
    assert name in str(info.value) and expected in str(info.value)


def test_entry_point_loads_the_plugin(tmp_path):
    app = make_app(tmp_path, load_entrypoints=True, env={"JACK_ENABLED_PLUGINS": "channel_webchat"})
    assert "webchat" in app.channels
