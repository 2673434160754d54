"""The llm_ollama plugin against a fake Ollama server speaking /api/chat and /api/tags."""

from __future__ import annotations

import jack_llm_ollama.plugin
import pytest
from sqlmodel import Session, select

from jack_host.builtin.costs.models import AIUsage
from jack_host.config.settings import SettingsError
from jack_host.contract.interfaces import LLMRequest
from jack_host.testing import free_port, make_app
from jack_host.testing.fake_llm import FakeOllama
from jack_host.web.health import health_document

PLUGIN = ("llm_ollama", jack_llm_ollama.plugin)


async def test_llm_ollama_answers_through_api_chat_and_costs_zero(tmp_path):
    with FakeOllama(input_tokens=42, output_tokens=7) as ollama:
        app = make_app(tmp_path, plugins=[PLUGIN], env={"OLLAMA_BASE_URL": ollama.base_url, "AI_PROVIDER_ORDER": "ollama"})
        result = await app.services.llm.complete(LLMRequest(messages=[{"role": "user", "content": "Pool hours?"}]), conversation_id=5)

        [sent] = ollama.completion_requests()
        assert sent.path == "/api/chat"
        assert sent.json()["model"] == "llama3.1" and sent.json()["stream"] is False and sent.json()["format"] == "json"
        assert (result.provider, result.fallback) == ("ollama", False)
        assert (result.response.input_tokens, result.response.output_tokens) == (42, 7)
        with Session(app.engine) as session:
            row = session.exec(select(AIUsage)).one()
        assert (row.model, row.is_local, row.estimated_cost, row.price_source) == ("ollama_chat/llama3.1", True, 0.0, "local")


async def test_llm_ollama_health_connected_model_missing_and_unreachable(tmp_path):
    with FakeOllama(models=("llama3.1:latest", "mistral:7b")) as ollama:
        app = make_app(tmp_path, plugins=[PLUGIN], env={"OLLAMA_BASE_URL": ollama.base_url})
        health = await app.llm_providers["ollama"].health()
        assert health.state == "connected" and "llama3.1" in health.detail
        assert ollama.requests[-1].path == "/api/tags"

        missing = make_app(tmp_path / "m", plugins=[PLUGIN], env={"OLLAMA_BASE_URL": ollama.base_url, "OLLAMA_MODEL": "qwen2.5"})
        health = await missing.llm_providers["ollama"].health()
        assert health.state == "error" and "`ollama pull qwen2.5`" in health.detail

    nowhere = f"http://127.0.0.1:{free_port()}"
    app = make_app(tmp_path / "u", plugins=[PLUGIN], env={"OLLAMA_BASE_URL": nowhere})
    await app.start()  # an absent Ollama never blocks start-up
    try:
        document, unhealthy = health_document(app)
        ollama_health = document["components"]["llm_providers"]["ollama"]
        assert ollama_health["state"] == "error"
        assert ollama_health["detail"].startswith(f"Ollama unreachable at {nowhere}")
        assert not unhealthy
    finally:
        await app.stop()


def test_llm_ollama_rejects_a_base_url_that_is_not_a_url(tmp_path):
    with pytest.raises(SettingsError) as error:
        make_app(tmp_path, plugins=[PLUGIN], env={"OLLAMA_BASE_URL": "ollama:11434"})
    assert error.value.errors == ["OLLAMA_BASE_URL=ollama:11434: expected a URL such as http://localhost:11434 (http://ollama:11434 in docker compose)"]
