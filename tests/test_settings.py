"""Settings: merge order, ${VAR} expansion, the deployment document's files, validation."""

from __future__ import annotations

import shutil

import pytest

from jack_host.config.settings import Setting, SettingsError, load_settings
from jack_host.testing import make_app, run_jack


def test_merge_order_each_source_overrides_the_one_before(tmp_path):
    (tmp_path / "settings.yaml").write_text("layer: settings\nfrom_settings: yes\nport: 1111\n")
    (tmp_path / "oncall.yaml").write_text("layer: oncall\nfrom_oncall: yes\n")
    (tmp_path / "costs.yaml").write_text("layer: costs\nfrom_costs: yes\n")
    (tmp_path / ".env").write_text("LAYER=dotenv\nFROM_DOTENV=yes\nPORT=2222\n")
    environ = {"JACK_CONFIG_DIR": str(tmp_path), "LAYER": "environment"}

    settings = load_settings(environ, declared=[Setting("PORT", int, 3000)])

    assert settings.get("LAYER") == "environment"
    assert settings.get("PORT") == 2222
    assert settings.get("from_settings") and settings.get("from_oncall") and settings.get("from_costs")
    assert settings.get("FROM_DOTENV") == "yes"
    del environ["LAYER"]
    assert load_settings(environ).get("LAYER") == "dotenv"
    (tmp_path / ".env").unlink()
    assert load_settings(environ).get("LAYER") == "costs"
    (tmp_path / "costs.yaml").unlink()
    assert load_settings(environ).get("LAYER") == "oncall"
    (tmp_path / "oncall.yaml").unlink()
    assert load_settings(environ).get("LAYER") == "settings"
    (tmp_path / "settings.yaml").unlink()
    assert load_settings(environ, declared=[Setting("PORT", int, 3000)]).get("PORT") == 3000


def test_files_are_found_in_config_dir_or_named_directly(tmp_path, fixtures):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copy(fixtures / "costs.yaml", elsewhere / "hotel-costs.yaml")
    settings = load_settings({"JACK_CONFIG_DIR": str(tmp_path), "COSTS_FILE": str(elsewhere / "hotel-costs.yaml")})
    assert settings.section("costs", "ai")["daily_budget"] == 100
    assert settings.files.costs == elsewhere / "hotel-costs.yaml"

    with pytest.raises(SettingsError) as error:
        load_settings({"JACK_CONFIG_DIR": str(tmp_path), "ONCALL_FILE": str(tmp_path / "missing.yaml")})
    assert "ONCALL_FILE" in str(error.value) and "missing.yaml" in str(error.value)


def test_current_folder_is_searched_when_no_config_dir_is_set(tmp_path, fixtures):
    shutil.copy(fixtures / "oncall.yaml", tmp_path / "oncall.yaml")
    settings = load_settings({"PAGERDUTY_SERVICE_KEY": "pd-key"}, cwd=tmp_path)
    assert settings.files.oncall == tmp_path / "oncall.yaml"


def test_oncall_yaml_from_the_deployment_document_expands_variables(config_dir):
    (config_dir / ".env").write_text("ONCALL_PHONE=+15550001111\n")
    environ = {"JACK_CONFIG_DIR": str(config_dir), "PAGERDUTY_SERVICE_KEY": "0123456789abcdef"}
    settings = load_settings(environ)
    levels = settings.section("escalation")["levels"]
    assert levels[0]["contacts"][0] == {"type": "pagerduty", "service_key": "0123456789abcdef"}
    assert levels[1]["contacts"][0]["number"] == "+15550001111"  # from .env, still a string with its +
    assert levels[1]["contacts"][1]["address"] == ""  # unset variable expands to empty
    assert settings.section("escalation", "quiet_hours")["start"] == "22:00"


def test_default_values_in_variables(tmp_path):
    (tmp_path / "oncall.yaml").write_text("pager:\n  key: ${PD_KEY:-fallback-key}\n  other: ${PD_OTHER:-x}\n")
    settings = load_settings({"JACK_CONFIG_DIR": str(tmp_path), "PD_OTHER": "set"})
    assert settings.section("pager") == {"key": "fallback-key", "other": "set"}


def test_secrets_stay_strings_even_when_they_look_like_numbers(tmp_path):
    settings = load_settings(
        {"JACK_CONFIG_DIR": str(tmp_path), "JWT_SECRET": "000123456789012345678901234567890", "TWILIO_PHONE_NUMBER": "+15551234567"}
    )
    assert settings.get("JWT_SECRET") == "000123456789012345678901234567890"
    assert settings.get("TWILIO_PHONE_NUMBER") == "+15551234567"


def test_deployment_env_works_unchanged_node_env_means_production(tmp_path, fixtures, strong_secrets):
    shutil.copy(fixtures / "deployment.env", tmp_path / ".env")
    settings = load_settings({"JACK_CONFIG_DIR": str(tmp_path)})
    assert settings.is_production
    assert settings.get("SMTP_PASSWORD") == "app-specific-password"
    assert settings.validate_secrets() and all("placeholder" in line for line in settings.validate_secrets())
    good = load_settings({"JACK_CONFIG_DIR": str(tmp_path), **strong_secrets})
    assert good.validate_secrets() == []
    assert load_settings({"JACK_CONFIG_DIR": str(tmp_path), "JACK_ENV": "development"}).is_production is False


def test_bad_value_gives_one_line_naming_setting_value_and_expectation(tmp_path):
    result = run_jack(tmp_path, "config", "check", env={"PORT": "eighty", "LOG_LEVEL": "loud"})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert "error: PORT=eighty: expected a whole number of at least 1" in lines
    assert any(line.startswith("error: LOG_LEVEL=loud: expected one of debug, info") for line in lines)
    assert "Traceback" not in result.stderr


def test_production_refuses_short_or_missing_secrets(tmp_path):
    with pytest.raises(SettingsError) as error:
        make_app(tmp_path, env={"JACK_ENV": "production", "JWT_SECRET": "short"})
    text = str(error.value)
    assert "JWT_SECRET" in text and "only 5 characters" in text
    assert "ENCRYPTION_KEY is not set" in text


def test_config_check_reports_files_read(config_dir, strong_secrets):
    result = run_jack(config_dir, "config", "check", env={"JACK_CONFIG_DIR": str(config_dir), **strong_secrets})
    assert result.returncode == 0, result.stderr
    assert "oncall.yaml" in result.stdout and "costs.yaml" in result.stdout


def test_config_show_masks_secrets(config_dir, strong_secrets):
    env = {"JACK_CONFIG_DIR": str(config_dir), "PAGERDUTY_SERVICE_KEY": "pd-secret-routing-key-123", **strong_secrets}
    result = run_jack(config_dir, "config", "show", "--json", env=env)
    assert result.returncode == 0, result.stderr
    assert strong_secrets["JWT_SECRET"] not in result.stdout
    assert "pd-secret-routing-key-123" not in result.stdout
    assert '"PORT": 3000' in result.stdout
    assert "daily_budget" in result.stdout
