"""`jack secrets rotate` re-encrypts the dashboard's secrets for a new ENCRYPTION_KEY; `jack config show`
names the dashboard as the source of the values set there."""

from __future__ import annotations

import asyncio
import sqlite3

from jack_host.testing import make_app, run_jack

OLD_KEY = "9d41c8e2b7a05f36e1d94c7b28a6f03e"
NEW_KEY = "52be07f9a4c1d68e3b90f7a215c4e8d6"
AUTH_TOKEN = "twilio-secret-auth-token-4242"


def stored(database) -> dict[str, str]:
    with sqlite3.connect(database) as con:
        return dict(con.execute("SELECT name, value FROM app_settings"))


def test_rotate_round_trip_and_config_show_sources(tmp_path):
    app = make_app(tmp_path, env={"ENCRYPTION_KEY": OLD_KEY}, load_entrypoints=True)
    changed = asyncio.run(app.services.app_settings.update(
        {"TWILIO_AUTH_TOKEN": AUTH_TOKEN, "SMS_HELP_TEXT": "Text HELP to reach the desk"}, "admin@hotel.test"))
    assert sorted(changed) == ["SMS_HELP_TEXT", "TWILIO_AUTH_TOKEN"]
    app.engine.dispose()
    database = tmp_path / "data" / "jack.db"
    before = stored(database)

    shown = run_jack(tmp_path, "config", "show", env={"ENCRYPTION_KEY": OLD_KEY, "TWILIO_ACCOUNT_SID": "AC1"})
    assert shown.returncode == 0, shown.stderr
    sources = {line.split()[0]: line.split()[-1] for line in shown.stdout.splitlines() if line[:1].isupper() and "  " in line}
    assert (sources["TWILIO_AUTH_TOKEN"], sources["SMS_HELP_TEXT"]) == ("dashboard", "dashboard")
    assert (sources["TWILIO_ACCOUNT_SID"], sources["TWILIO_API_URL"]) == ("environment", "default")
    assert AUTH_TOKEN not in shown.stdout and "tw****42" in shown.stdout

    # The new key in ENCRYPTION_KEY, the old one named: every secret re-encrypted, nothing else touched.
    rotated = run_jack(tmp_path, "secrets", "rotate", "--old-key-env", "OLD_ENCRYPTION_KEY",
                       env={"ENCRYPTION_KEY": NEW_KEY, "OLD_ENCRYPTION_KEY": OLD_KEY})
    assert rotated.returncode == 0, rotated.stderr
    assert rotated.stdout.strip() == "Re-encrypted 1 stored secret(s) with the current ENCRYPTION_KEY."
    after = stored(database)
    assert after["TWILIO_AUTH_TOKEN"] != before["TWILIO_AUTH_TOKEN"] and after["SMS_HELP_TEXT"] == before["SMS_HELP_TEXT"]
    assert AUTH_TOKEN not in str(after)

    fresh = make_app(tmp_path, env={"ENCRYPTION_KEY": NEW_KEY}, load_entrypoints=True, migrate=False)
    assert fresh.settings.get("TWILIO_AUTH_TOKEN") == AUTH_TOKEN
    fresh.engine.dispose()

    # Running it again, or with a wrong old key, changes nothing and says why.
    again = run_jack(tmp_path, "secrets", "rotate", "--old-key-env", "OLD_ENCRYPTION_KEY",
                     env={"ENCRYPTION_KEY": NEW_KEY, "OLD_ENCRYPTION_KEY": "0" * 32})
    assert again.returncode == 1 and again.stderr.strip().splitlines()[-1] == (
        "error: the stored secrets are already encrypted with ENCRYPTION_KEY: nothing to rotate")
    wrong = run_jack(tmp_path, "secrets", "rotate", "--old-key-env", "OLD_ENCRYPTION_KEY",
                     env={"ENCRYPTION_KEY": "f" * 32, "OLD_ENCRYPTION_KEY": "0" * 32})
    assert wrong.returncode == 1 and "the old key does not decrypt the stored secrets" in wrong.stderr
    unset = run_jack(tmp_path, "secrets", "rotate", "--old-key-env", "OLD_ENCRYPTION_KEY", env={"ENCRYPTION_KEY": NEW_KEY})
    assert unset.returncode == 1 and unset.stderr.strip().splitlines()[-1] == "error: OLD_ENCRYPTION_KEY is not set: put the previous ENCRYPTION_KEY in it"
    assert stored(database) == after

    # A server started with the wrong key still starts; the secret is not used and the Apps page says why.
    wrong_key = make_app(tmp_path, env={"ENCRYPTION_KEY": "f" * 32}, load_entrypoints=True, migrate=False)
    assert not wrong_key.settings.get("TWILIO_AUTH_TOKEN") and "jack secrets rotate" in wrong_key.services.app_settings.problem
    assert wrong_key.settings.get("SMS_HELP_TEXT") == "Text HELP to reach the desk"
    wrong_key.engine.dispose()

    helped = run_jack(tmp_path, "secrets", "rotate", "--help")
    assert helped.returncode == 0 and "jack secrets rotate --old-key-env OLD_ENCRYPTION_KEY" in helped.stdout
