"""Carrier keywords: STOP and its synonyms opt a number out, START opts back in, HELP asks for help.

A keyword counts only when it is the whole message (case and surrounding spaces or
punctuation ignored), as carriers and Twilio apply them; "please stop the music" is a message.
"""

from __future__ import annotations

import string

OPT_OUT = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
OPT_IN = frozenset({"START", "YES", "UNSTOP"})
HELP = frozenset({"HELP", "INFO"})


def keyword_action(body: str) -> str | None:
    """``opt_out``, ``opt_in``, ``help`` or ``None`` for an ordinary message."""
    word = (body or "").strip().strip(string.punctuation + " ").upper()
    if word in OPT_OUT:
        return "opt_out"
    if word in OPT_IN:
        return "opt_in"
    if word in HELP:
        return "help"
    return None
