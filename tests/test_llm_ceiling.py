"""AI_MAX_CALLS_PER_MINUTE caps the calls that reach the model servers, fallbacks included (issue 11, defect 5).

The web chat's abuse tests show the guest's side (the knowledge answer or the holding reply);
this pins the count against the provider servers themselves.
"""

from __future__ import annotations

import asyncio

import pytest

from jack_host.contract.interfaces import LLMRequest
from jack_host.contract.services import AICallCeilingReached, AllProvidersFailed
from jack_host.testing import make_app

REQUEST = LLMRequest(messages=[{"role": "user", "content": "What time is breakfast?"}])


async def test_fallback_calls_count_towards_the_ceiling(tmp_path, fake_openai):
    env = {**fake_openai.env(), "AI_FALLBACK_MODEL": "openai/fake-fallback", "AI_MAX_CALLS_PER_MINUTE": "3"}
    app = make_app(tmp_path, env=env)
    fake_openai.fail_completions(500)
    # The primary fails (call 1), the fallback answers (call 2).
    result = await app.services.llm.complete(REQUEST)
    assert (result.provider, result.fallback) == ("secondary", True)
    # The primary fails again (call 3): the fallback would be call 4, over the ceiling, so it is not made.
    fake_openai.fail_completions(500)
    with pytest.raises(AllProvidersFailed) as failed:
        await app.services.llm.complete(REQUEST)
    assert "secondary: not called: the AI call ceiling (3 a minute) is reached" in failed.value.errors
    # Nothing more leaves: the next request is told to answer without the model.
    with pytest.raises(AICallCeilingReached) as ceiling:
        await app.services.llm.complete(REQUEST)
    assert ceiling.value.limit == 3 and 0 < ceiling.value.retry_after <= 60
    assert len(fake_openai.completion_requests()) == 3


async def test_concurrent_calls_do_not_pass_the_ceiling_together(tmp_path, fake_openai):
    fake_openai.delay = 0.3  # every call is still in flight when the others start
    app = make_app(tmp_path, env={**fake_openai.env(), "AI_MAX_CALLS_PER_MINUTE": "4"})
    outcomes = await asyncio.gather(*(app.services.llm.complete(REQUEST) for _ in range(10)), return_exceptions=True)
    assert sum(not isinstance(o, BaseException) for o in outcomes) == 4
    assert all(isinstance(o, AICallCeilingReached) for o in outcomes if isinstance(o, BaseException))
    assert len(fake_openai.completion_requests()) == 4


async def test_zero_means_no_ceiling(tmp_path, fake_openai):
    app = make_app(tmp_path, env={**fake_openai.env(), "AI_MAX_CALLS_PER_MINUTE": "0"})
    for _ in range(5):
        await app.services.llm.complete(REQUEST)
    assert len(fake_openai.completion_requests()) == 5
