"""jack_host.kit.text_hygiene: control characters out (newline and tab kept), a cap per channel."""

from __future__ import annotations

import pytest

from jack_host.kit.text_hygiene import (
    CHANNEL_LIMITS,
    DEFAULT_LIMIT,
    clean_inbound,
    clean_outbound,
    has_text,
    strip_control,
)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("plain text", "plain text"),
        ("tab\tand\nnewline", "tab\tand\nnewline"),
        ("windows\r\nline\rends", "windows\nline\nends"),
        ("nul\x00 bell\x07 esc\x1b[2J del\x7f c1\x85\x9b end", "nul bell esc[2J del c1 end"),
        ("ünïcödé, 日本語, emoji 🛎️", "ünïcödé, 日本語, emoji 🛎️"),
    ],
)
def test_strip_control_keeps_newlines_and_tabs_only(raw, clean):
    assert strip_control(raw) == clean


def test_each_channel_has_its_cap_and_the_cut_is_marked():
    assert CHANNEL_LIMITS == {"whatsapp": 4096, "sms": 1600, "webchat": 4000, "email": 20000}
    text, cut = clean_inbound("a" * 5_000_000, "whatsapp")
    assert (len(text), cut, text[-1]) == (4096, True, "…")
    assert clean_inbound("short", "sms") == ("short", False)
    assert len(clean_inbound("x" * 10_000, "some_new_channel")[0]) == DEFAULT_LIMIT
    assert clean_inbound(None, "sms") == ("", False)


def test_outbound_text_is_trimmed_and_capped():
    assert clean_outbound("  Hello\x00 there \n", "sms") == "Hello there"
    assert len(clean_outbound("y" * 3000, "sms")) == 1600


def test_has_text_ignores_control_characters_and_blanks():
    assert has_text("ok") and not has_text("\x00\x1b \t\n") and not has_text(None)
