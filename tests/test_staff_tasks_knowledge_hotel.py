"""Tasks, knowledge and the hotel profile through the staff API, with the roles each needs."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from sqlmodel import Session

from jack_host.builtin.conversations.models import Task
from jack_host.testing import make_app, running_app
from tests.staff_helpers import bearer, env, make_users, token_for


@pytest.fixture
def server(tmp_path):
    app = make_app(tmp_path, env=env(tmp_path, HOTEL_NAME="Casa Azul", HOTEL_LANGUAGES="en,pt"))
    ids = make_users(app)
    with running_app(app) as base_url:
        yield app, base_url, ids


def add_task(app, **fields) -> int:
    with Session(app.engine) as session:
        task = Task(**fields)
        session.add(task)
        session.commit()
        return task.id


def test_tasks_list_claim_complete(server):
    app, base_url, ids = server
    now = dt.datetime.now(dt.UTC)
    towels = add_task(app, title="Towels to 204", department="housekeeping", priority="standard",
                      sla_due_at=now + dt.timedelta(hours=4))
    angry = add_task(app, title="Guest wants a manager", department="front_desk", priority="urgent",
                     sla_due_at=now + dt.timedelta(minutes=15))
    staff = bearer(token_for(base_url, "staff"))
    manager = bearer(token_for(base_url, "manager"))
    api = f"{base_url}/api/v1/tasks"

    listed = httpx.get(api, headers=staff).json()
    assert [t["id"] for t in listed["items"]] == [angry, towels]  # soonest deadline first
    assert listed["total"] == 2
    assert [t["id"] for t in httpx.get(api, headers=staff, params={"department": "housekeeping"}).json()["items"]] == [towels]
    assert [t["id"] for t in httpx.get(api, headers=staff, params={"priority": "urgent"}).json()["items"]] == [angry]

    claimed = httpx.post(f"{api}/{angry}/claim", headers=staff)
    assert claimed.status_code == 200
    assert claimed.json()["status"] == "in_progress" and claimed.json()["assignee_id"] == ids["staff"]
    assert httpx.post(f"{api}/{angry}/claim", headers=staff).status_code == 200  # claiming again is harmless
    taken = httpx.post(f"{api}/{angry}/claim", headers=manager)
    assert taken.status_code == 409 and f"claimed by user {ids['staff']}" in taken.json()["detail"]
    assert [t["id"] for t in httpx.get(api, headers=staff, params={"assignee": "me"}).json()["items"]] == [angry]
    assert [t["id"] for t in httpx.get(api, headers=staff, params={"assignee": "none"}).json()["items"]] == [towels]

    done = httpx.post(f"{api}/{angry}/complete", headers=staff)
    assert done.status_code == 200 and done.json()["status"] == "done" and done.json()["completed_at"]
    again = httpx.post(f"{api}/{angry}/complete", headers=staff)
    assert again.status_code == 409 and again.json() == {"error": "conflict", "detail": f"task {angry} is already done"}
    assert httpx.post(f"{api}/{angry}/claim", headers=staff).status_code == 409
    # Completing an unclaimed task credits whoever completed it.
    quick = httpx.post(f"{api}/{towels}/complete", headers=manager).json()
    assert quick["assignee_id"] == ids["manager"] and quick["status"] == "done"

    assert [t["id"] for t in httpx.get(api, headers=staff, params={"status": "open"}).json()["items"]] == []
    assert httpx.post(f"{api}/999/claim", headers=staff).status_code == 404
    bad = httpx.get(api, headers=staff, params={"status": "someday"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "status"


def test_knowledge_crud_and_search_with_roles(server):
    _, base_url, _ = server
    staff = bearer(token_for(base_url, "staff"))
    manager = bearer(token_for(base_url, "manager"))
    api = f"{base_url}/api/v1/knowledge"

    forbidden = httpx.post(api, headers=staff, json={"title": "Wifi", "body": "Password is sunshine"})
    assert forbidden.status_code == 403 and forbidden.json()["error"] == "forbidden"

    created = httpx.post(api, headers=manager, json={
        "title": "Breakfast", "body": "Breakfast is served 7:00-10:30 in the garden room.",
        "category": "dining", "tags": ["food", "morning"]})
    assert created.status_code == 201, created.text
    article = created.json()
    assert article["tags"] == ["food", "morning"]
    httpx.post(api, headers=manager, json={"title": "Parking", "body": "Garage on Rua Azul, 15 EUR per night."})

    duplicate = httpx.post(api, headers=manager, json={"title": "Breakfast", "body": "again"})
    assert duplicate.status_code == 409
    invalid = httpx.post(api, headers=manager, json={"title": "", "tags": "food"})
    assert invalid.status_code == 422
    assert {p["field"] for p in invalid.json()["detail"]} == {"title", "body", "tags"}

    found = httpx.get(f"{api}/search", headers=staff, params={"q": "when is breakfast served?"}).json()["items"]
    assert [a["title"] for a in found][:1] == ["Breakfast"] and found[0]["coverage"] > 0 and "confident" in found[0]
    assert httpx.get(f"{api}/search", headers=staff, params={"q": "garage NEAR("}).json()["items"][0]["title"] == "Parking"
    assert httpx.get(f"{api}/search", headers=staff).status_code == 422

    updated = httpx.put(f"{api}/{article['id']}", headers=manager, json={"body": "Brunch 9:00-12:00 on Sundays."})
    assert updated.status_code == 200 and updated.json()["title"] == "Breakfast"
    assert httpx.get(f"{api}/search", headers=staff, params={"q": "brunch"}).json()["items"][0]["id"] == article["id"]
    assert httpx.get(f"{api}/search", headers=staff, params={"q": "garden"}).json()["items"] == []  # index followed

    listing = httpx.get(api, headers=staff, params={"category": "dining"}).json()
    assert listing["total"] == 1 and listing["items"][0]["id"] == article["id"]
    assert httpx.get(f"{api}/{article['id']}", headers=staff).json()["body"].startswith("Brunch")

    assert httpx.delete(f"{api}/{article['id']}", headers=staff).status_code == 403
    assert httpx.delete(f"{api}/{article['id']}", headers=manager).status_code == 204
    assert httpx.get(f"{api}/{article['id']}", headers=staff).status_code == 404
    assert httpx.get(f"{api}/search", headers=staff, params={"q": "brunch"}).json()["items"] == []


def test_hotel_profile_read_by_all_edited_by_managers(server):
    app, base_url, _ = server
    staff = bearer(token_for(base_url, "staff"))
    admin = bearer(token_for(base_url, "admin"))
    profile = httpx.get(f"{base_url}/api/v1/hotel", headers=staff)
    assert profile.status_code == 200
    assert profile.json()["name"] == "Casa Azul" and profile.json()["languages"] == ["en", "pt"]

    assert httpx.put(f"{base_url}/api/v1/hotel", headers=staff, json={"name": "X"}).status_code == 403
    updated = httpx.put(f"{base_url}/api/v1/hotel", headers=admin,
                        json={"timezone": "Europe/Lisbon", "check_in_time": "14:00", "languages": ["PT", "en", "pt"]})
    assert updated.status_code == 200, updated.text
    assert updated.json()["timezone"] == "Europe/Lisbon" and updated.json()["languages"] == ["pt", "en"]
    assert updated.json()["name"] == "Casa Azul"  # untouched fields stay
    assert str(app.hotel_timezone()) == "Europe/Lisbon"
    assert httpx.get(f"{base_url}/api/v1/hotel", headers=staff).json()["check_in_time"] == "14:00"

    bad = httpx.put(f"{base_url}/api/v1/hotel", headers=admin,
                    json={"timezone": "Mars/Olympus", "check_out_time": "25:00", "stars": 5})
    assert bad.status_code == 422
    assert {p["field"] for p in bad.json()["detail"]} == {"timezone", "check_out_time", "stars"}
    broken = httpx.put(f"{base_url}/api/v1/hotel", headers=admin, content=b"{name: 1}")
    assert broken.status_code == 400 and broken.json()["error"] == "malformed_json"
