"""Hostile numbers and JSON to the staff API answer 4xx, never a 500 (issue 11, defect 6)."""

from __future__ import annotations

import httpx
import pytest

import jack_host.testing.channel
from jack_host.testing import make_app, running_app
from tests.staff_helpers import bearer, env, guest_says, make_users, token_for

HUGE = "99999999999999999999999"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("hostile")
    app = make_app(tmp_path, plugins=[("test_channel", jack_host.testing.channel)], env=env(tmp_path))
    make_users(app)
    with running_app(app) as base_url:
        yield base_url, bearer(token_for(base_url, "staff"))


@pytest.mark.parametrize("path", [f"/api/v1/conversations?offset={HUGE}", f"/api/v1/tasks?offset={HUGE}",
                                  f"/api/v1/conversations?limit=5&offset=-{HUGE}",
                                  f"/api/v1/conversations/1/messages?before={HUGE}",
                                  f"/api/v1/tasks?conversation_id={HUGE}",
                                  f"/api/v1/conversations?assignee={HUGE}", "/api/v1/tasks?assignee=%C2%B2"])
def test_out_of_range_query_numbers_are_422(server, path):
    base_url, staff = server
    response = httpx.get(base_url + path, headers=staff)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "validation_failed"


@pytest.mark.parametrize("path", [f"/api/v1/conversations/{HUGE}", f"/api/v1/conversations/{HUGE}/messages",
                                  f"/api/v1/tasks/{HUGE}/claim"])
def test_out_of_range_ids_are_404(server, path):
    base_url, staff = server
    method = "POST" if path.endswith("claim") else "GET"
    response = httpx.request(method, base_url + path, headers=staff)
    assert response.status_code == 404, response.text


def test_the_largest_offset_still_answers_an_empty_page(server):
    base_url, staff = server
    guest_says(base_url, "hostile-1", "Hello")
    page = httpx.get(f"{base_url}/api/v1/conversations?offset={2**63 - 1}", headers=staff)
    assert page.status_code == 200 and page.json()["items"] == [] and page.json()["total"] == 1


@pytest.mark.parametrize("path", ["/api/v1/auth/login", "/api/v1/conversations/1/messages"])
def test_deeply_nested_json_is_400(server, path):
    base_url, staff = server
    json_type = {**staff, "Content-Type": "application/json"}
    # The 100,000 brackets are over the 64 KiB cap of these routes: refused unread.
    too_big = httpx.post(base_url + path, content=b"[" * 100_000, headers=json_type)
    assert too_big.status_code == 413 and too_big.json()["error"] == "body_too_large"
    response = httpx.post(base_url + path, content=b"[" * 60_000, headers=json_type)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "malformed_json" and "nested" in response.json()["detail"]
    # A merely deep (but sane) document still gets the usual field errors, not a 400.
    sane = httpx.post(base_url + path, json={"email": [[[["x"]]]], "password": "p", "body": [[["x"]]]}, headers=staff)
    assert sane.status_code == 422
