"""Jack on PostgreSQL (``DATABASE_URL``): migrations, the conversation pipeline and the cost ledger.

A throwaway PostgreSQL server runs on loopback (``jack_host.testing.postgres``); each test
gets a database of its own.  The SQLite suite covers the behaviour in depth; these tests
make sure the same SQL runs on PostgreSQL (its stricter grammar once broke the job queue).
"""

from __future__ import annotations

import logging

import pytest
from sqlmodel import Session, select

from jack_host.builtin.costs.models import AIUsage
from jack_host.testing import run_jack
from jack_host.testing.fake_llm import FakeOpenAI
from jack_host.testing.postgres import PostgresServer, available
from tests.test_conversations_pipeline import guest_message, messages, sent_count, started_app

pytestmark = pytest.mark.skipif(not available(), reason="PostgreSQL is not installed (apt-get install postgresql)")

ANSWER = {"reply": "Breakfast is from 7:00 to 10:30 in the Garden Room.", "language": "en", "confident": True, "needs_human": False}


@pytest.fixture(scope="module")
def postgres():
    with PostgresServer() as server:
        yield server


@pytest.fixture(autouse=True)
def no_errors_logged(caplog):
    """A statement PostgreSQL rejects in a background loop is logged, not raised: fail on it."""
    yield
    # Alerts written to the log (the log alert route) are raised on purpose, e.g. repeated sign-in failures.
    errors = [f"{r.name}: {r.getMessage()}" for r in caplog.get_records("call")
              if r.levelno >= logging.ERROR and r.name != "jack.alerts.log"]
    assert not errors, errors


@pytest.fixture
def database_url(postgres, request):
    return postgres.create_database(f"jack_{request.node.name[:40].lower()}")


async def test_a_question_is_answered_by_the_model_priced_and_a_duplicate_ignored(tmp_path, database_url):
    with FakeOpenAI(reply=ANSWER, model="gpt-4o-mini") as llm:
        async with started_app(tmp_path, {**llm.env(), "DATABASE_URL": database_url}) as app:
            assert app.engine.dialect.name == "postgresql"
            received = await app.services.inbox.receive(guest_message("What time is breakfast?", "wa-1"))
            again = await app.services.inbox.receive(guest_message("What time is breakfast?", "wa-1"))
            await sent_count(app, 1)

            assert again.duplicate and again.message_id == received.message_id
            reply = messages(app, received.conversation_id, "ai")[0]
            assert reply["body"] == ANSWER["reply"] and reply["meta"]["path"] == "llm"
            assert reply["status"] == "sent" and reply["provider_message_id"]
            assert len(llm.requests) == 1
            assert "Garden Room" in llm.requests[0].json()["messages"][0]["content"]  # the article found by search
            with Session(app.engine) as session:
                [usage] = session.exec(select(AIUsage)).all()
            assert usage.model == "openai/gpt-4o-mini" and usage.price_source == "litellm" and usage.estimated_cost > 0
            assert usage.conversation_id == received.conversation_id


async def test_a_request_for_a_manager_escalates_with_a_task_and_staff_reply_goes_out(tmp_path, database_url):
    async with started_app(tmp_path, {"DATABASE_URL": database_url}) as app:
        received = await app.services.inbox.receive(guest_message("I want to speak to a manager", "wa-1"))
        await sent_count(app, 1)
        conversation = app.services.conversations.get_conversation(received.conversation_id)
        assert conversation["state"] == "escalated"
        [task] = app.services.tasks.list()
        assert task["conversation_id"] == received.conversation_id and task["reason"] == "human_request"

        await app.services.conversations.send_staff_reply(received.conversation_id, "Hello, this is Ana from the front desk.", None)
        await sent_count(app, 2)
        assert app.channels["test"].sent[1].body == "Hello, this is Ana from the front desk."
        assert app.services.conversations.get_conversation(received.conversation_id)["state"] == "staff"


async def test_without_a_model_the_knowledge_base_answers(tmp_path, database_url):
    async with started_app(tmp_path, {"DATABASE_URL": database_url}) as app:
        received = await app.services.inbox.receive(guest_message("Where can I park my car?", "wa-1"))
        await sent_count(app, 1)
        reply = messages(app, received.conversation_id, "ai")[0]
        assert reply["meta"]["path"] == "knowledge"
        assert reply["body"] == "Guests park in the underground garage for 15 EUR per night."


def test_jack_db_migrate_and_status_on_postgresql(tmp_path, database_url):
    first = run_jack(tmp_path, "db", "migrate", env={"DATABASE_URL": database_url})
    assert first.returncode == 0, first.stderr
    status = run_jack(tmp_path, "db", "status", env={"DATABASE_URL": database_url})
    assert status.returncode == 0, status.stderr
    assert "pending:  none" in status.stdout and "staff_0002" in status.stdout, status.stdout


def test_a_database_url_whose_driver_is_not_installed_is_a_clear_error(tmp_path):
    result = run_jack(tmp_path, "db", "status", env={"DATABASE_URL": "postgresql+pg8000://jack@127.0.0.1:1/jack"})
    assert result.returncode == 2
    assert "DATABASE_URL needs the database driver 'pg8000', which is not installed" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_sign_in_limit_holds_against_parallel_guesses_on_postgresql(tmp_path, database_url):
    from jack_host.testing import make_app, running_app
    from tests.staff_helpers import env, login, make_users
    from tests.test_staff_login_limits import burst

    app = make_app(tmp_path, env=env(tmp_path, DATABASE_URL=database_url, STAFF_LOGIN_MAX_FAILURES="5"))
    assert app.engine.dialect.name == "postgresql"
    make_users(app)
    with running_app(app) as base_url:
        statuses = burst([base_url], [{"email": "staff@hotel.test", "password": f"guess {n}"} for n in range(30)],
                         "203.0.113.60")
        assert statuses == {401: 5, 429: 25}
        assert login(base_url, "staff@hotel.test", headers={"X-Forwarded-For": "198.51.100.60"}).status_code == 200
