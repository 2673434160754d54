"""The llm_ollama plugin loads through its entry point and is honest about what it can do."""

import asyncio

import jack_llm_ollama.plugin

from jack_host.testing import make_app


def test_llm_ollama_registers_and_reports_not_configured(tmp_path):
    app = make_app(tmp_path, plugins=[("llm_ollama", jack_llm_ollama.plugin)])
    component = app.llm_providers["ollama"]
    health = asyncio.run(component.health())
    assert health.state == "not_configured"
    assert health.detail
