"""Settings: Dynaconf merges the sources; declared settings are typed and validated.

Order, each source overriding the one before:

1. built-in defaults (every declared :class:`Setting`),
2. an optional settings file (``JACK_SETTINGS_FILE`` or ``settings.yaml``),
3. ``oncall.yaml``,
4. the costs YAML (``costs.yaml``),
5. ``.env``,
6. the process environment.

Files are looked up in ``JACK_CONFIG_DIR`` (default: the current folder, then
``/etc/jack``); ``ONCALL_FILE``, ``COSTS_FILE`` and ``ENV_FILE`` name one directly.
``ONCALL_FILE``, ``COSTS_FILE`` and ``JACK_SETTINGS_FILE`` may also be written in ``.env``
(a relative path there is relative to the ``.env`` file's folder); the YAML files must end
in ``.yaml`` or ``.yml``, because the name decides how they are read.

Every value remembers its source (:meth:`Settings.source`): ``default``, ``file`` (``.env``
or a YAML file), ``environment``, or whatever a later source passes to :meth:`Settings.set`.
``${VAR}`` and ``${VAR:-default}`` in the YAML files expand from ``.env`` and the
environment.  Values from ``.env`` and the environment stay strings unless a
declared setting gives them another type, so a secret like ``0123`` is never
turned into the number 123.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dotenv import dotenv_values
from dynaconf import Dynaconf

PLACEHOLDER_SECRETS = frozenset(
    {
        "generate-a-secure-random-string-min-32-chars",
        "another-secure-random-string-32-chars",
        "change-me",
        "changeme",
        "secret",
    }
)
# Letters of the documentation's placeholders, lower-cased: "Generate_A_Secure-Random-String-64" is one too.
PLACEHOLDER_STEMS = ("generateasecurerandomstring", "anothersecurerandomstring", "securerandomstring", "changeme")
# zxcvbn's estimate of the guesses needed, as a power of ten. 32 random hex digits score about 31;
# `a` x 32, `changeme` x 4 and `password` x 4 score under 4.
MIN_SECRET_GUESSES_LOG10 = 20
SECRET_SUFFIXES = ("_SECRET", "_TOKEN", "_KEY", "_PASSWORD", "_SID")
PRODUCTION_NAMES = frozenset({"production", "prod"})
#: Read by :func:`locate_files` and the plugin loader, not declared as settings, but Jack's own names.
FILE_VARIABLES = ("JACK_SETTINGS_FILE", "ONCALL_FILE", "COSTS_FILE", "ENV_FILE")
KNOWN_UNDECLARED = frozenset({*FILE_VARIABLES, "JACK_CONFIG_DIR"})
YAML_SUFFIXES = (".yaml", ".yml")
_EXPAND = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class SettingsError(Exception):
    """One or more settings are wrong; ``errors`` holds one line per problem."""

    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class Setting:
    """A declared setting: its type, default and a help text for humans.

    ``type`` is ``str``, ``int``, ``float`` or ``bool``.  ``choices`` limits the
    values; ``minimum`` bounds numbers; ``check`` returns an error text or ``None``.
    """

    name: str
    type: type = str
    default: Any = None
    help: str = ""
    secret: bool | None = None
    choices: tuple[Any, ...] | None = None
    minimum: float | None = None
    check: Callable[[Any], str | None] | None = None

    @property
    def is_secret(self) -> bool:
        if self.secret is not None:
            return self.secret
        return self.name.upper().endswith(SECRET_SUFFIXES)

    def expected(self) -> str:
        if self.choices:
            return "one of " + ", ".join(str(c) for c in self.choices)
        kind = {int: "a whole number", float: "a number", bool: "true or false", str: "text"}[self.type]
        if self.minimum is not None:
            kind += f" of at least {self.minimum:g}"
        return kind

    def coerce(self, value: Any) -> Any:
        """Return ``value`` in this setting's type, or raise ``ValueError`` with a one-line reason."""
        if value is None:
            return None
        if self.type is bool:
            if isinstance(value, bool):
                result: Any = value
            elif str(value).strip().lower() in {"1", "true", "yes", "on"}:
                result = True
            elif str(value).strip().lower() in {"0", "false", "no", "off", ""}:
                result = False
            else:
                raise ValueError(self.expected())
        elif self.type is int:
            if isinstance(value, bool):
                raise ValueError(self.expected())
            try:
                result = int(str(value).strip())
            except ValueError:
                raise ValueError(self.expected()) from None
        elif self.type is float:
            try:
                result = float(str(value).strip())
            except ValueError:
                raise ValueError(self.expected()) from None
        else:
            result = value if isinstance(value, str) else str(value)
        if self.choices and result not in self.choices:
            lowered = str(result).lower()
            match = [c for c in self.choices if str(c).lower() == lowered]
            if not match:
                raise ValueError(self.expected())
            result = match[0]
        if self.minimum is not None and result < self.minimum:
            raise ValueError(self.expected())
        if self.check is not None:
            problem = self.check(result)
            if problem:
                raise ValueError(problem)
        return result


def mask(value: Any) -> str:
    """Hide a secret but keep enough to recognise which one is set."""
    text = str(value)
    if not text:
        return ""
    return "****" if len(text) < 12 else f"{text[:2]}****{text[-2:]}"


def expand_variables(value: Any, environ: Mapping[str, str]) -> Any:
    """Expand ``${VAR}`` and ``${VAR:-default}`` in every string inside ``value``."""
    if isinstance(value, str):
        return _EXPAND.sub(lambda m: environ.get(m.group(1)) or (m.group(2) or ""), value)
    if isinstance(value, Mapping):
        return {k: expand_variables(v, environ) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [expand_variables(v, environ) for v in value]
    return value


@dataclass(frozen=True)
class ConfigFiles:
    settings: Path | None
    oncall: Path | None
    costs: Path | None
    env: Path | None

    def present(self) -> list[Path]:
        return [p for p in (self.settings, self.oncall, self.costs, self.env) if p is not None]


def locate_files(environ: Mapping[str, str], cwd: Path | None = None) -> ConfigFiles:
    """Find the optional settings file, ``oncall.yaml``, ``costs.yaml`` and ``.env``.

    A file named directly (``ONCALL_FILE``...) must exist; a missing one is an error,
    because a typo there would otherwise silently drop the whole on-call schedule.
    """
    cwd = cwd or Path.cwd()
    if environ.get("JACK_CONFIG_DIR"):
        search = [Path(environ["JACK_CONFIG_DIR"])]
    else:
        search = [cwd, Path("/etc/jack")]
    errors = []

    def find(explicit_var: str, names: Iterable[str]) -> Path | None:
        explicit = environ.get(explicit_var)
        if explicit:
            path = Path(explicit)
            if not path.is_file():
                errors.append(f"{explicit_var}={explicit}: file not found (expected an existing file)")
                return None
            if explicit_var != "ENV_FILE" and path.suffix.lower() not in YAML_SUFFIXES:
                errors.append(
                    f"{explicit_var}={explicit}: expected a file ending in .yaml or .yml "
                    "(the name decides how it is read; rename it)"
                )
                return None
            return path
        for folder in search:
            for name in names:
                candidate = folder / name
                if candidate.is_file():
                    return candidate
        return None

    files = ConfigFiles(
        settings=find("JACK_SETTINGS_FILE", ["settings.yaml", "settings.yml"]),
        oncall=find("ONCALL_FILE", ["oncall.yaml", "oncall.yml"]),
        costs=find("COSTS_FILE", ["costs.yaml", "costs.yml"]),
        env=find("ENV_FILE", [".env"]),
    )
    if errors:
        raise SettingsError(errors)
    return files


class Settings:
    """The merged settings of one Jack application.

    Top-level keys are case-insensitive (``settings.get("port")`` works).  Nested
    YAML sections are plain dicts (``settings.get("costs")["ai"]``).
    """

    def __init__(
        self,
        store: Dynaconf,
        files: ConfigFiles,
        declared: dict[str, Setting],
        raw_env: dict[str, str],
        sources: dict[str, str] | None = None,
    ):
        self._store = store
        self.files = files
        self.declared = declared
        self._raw_env = raw_env
        #: Where each top-level value came from, upper-case key to source name; absent means ``default``.
        self.sources: dict[str, str] = dict(sources or {})
        #: ``.env`` and environment variables as read (names as written), for :func:`settings_warnings`.
        self.raw_names: dict[str, str] = {}
        #: :func:`settings_warnings`' lines once computed (after every plugin declared its settings).
        self.warnings: list[str] | None = None

    # ---- access
    def get(self, key: str, default: Any = None) -> Any:
        value = self._store.get(key.upper(), None)
        if value is None:
            value = self._store.get(key, None)
        if value is None:
            return default
        return _plain(value)

    def __getitem__(self, key: str) -> Any:
        sentinel = object()
        value = self.get(key, sentinel)
        if value is sentinel:
            raise KeyError(key)
        return value

    def section(self, *path: str) -> dict[str, Any]:
        """Return a nested YAML section, e.g. ``section("costs", "ai")``; ``{}`` when absent."""
        node: Any = self.get(path[0], {})
        for part in path[1:]:
            node = node.get(part, {}) if isinstance(node, Mapping) else {}
        return dict(node) if isinstance(node, Mapping) else {}

    def set(self, key: str, value: Any, source: str | None = None) -> None:
        """Change a value; ``source`` names where it came from for ``jack config show`` (e.g. ``dashboard``)."""
        self._store.set(key.upper(), value, tomlfy=False)
        if source is not None:
            self.sources[key.upper()] = source

    def source(self, key: str) -> str:
        """``default``, ``file``, ``environment``, or the source a later :meth:`set` named."""
        return self.sources.get(key.upper(), "default")

    @property
    def environment(self) -> str:
        return str(self.get("JACK_ENV") or self.get("NODE_ENV") or "development").lower()

    @property
    def is_production(self) -> bool:
        return self.environment in PRODUCTION_NAMES

    # ---- declaration and validation
    def declare(self, settings: Iterable[Setting]) -> list[str]:
        """Add declared settings: fill defaults, coerce types; return error lines."""
        errors = []
        for setting in settings:
            key = setting.name.upper()
            self.declared[key] = setting
            current = self._store.get(key, None)
            if current is None or (isinstance(current, str) and current == "" and setting.type is not str):
                if setting.default is not None:
                    self._store.set(key, setting.default, tomlfy=False)
                continue
            try:
                self._store.set(key, setting.coerce(_plain(current)), tomlfy=False)
            except ValueError as exc:
                shown = mask(current) if setting.is_secret else current
                errors.append(f"{key}={shown!s}: expected {exc}")
        return errors

    def validate_secrets(self) -> list[str]:
        """Production refuses missing, short, guessable, placeholder or equal ``JWT_SECRET`` / ``ENCRYPTION_KEY``."""
        if not self.is_production:
            return []
        problems = [problem for problem in (secret_problem(k, self.get(k)) for k in ("JWT_SECRET", "ENCRYPTION_KEY")) if problem]
        jwt_secret, encryption_key = self.get("JWT_SECRET"), self.get("ENCRYPTION_KEY")
        if not problems and str(jwt_secret) == str(encryption_key):
            # One leaked value must not give away both the sign-ins and the encrypted data.
            problems.append(f"ENCRYPTION_KEY={mask(encryption_key)}: the same as JWT_SECRET; "
                            "expected a different random string of at least 32 characters")
        return problems

    def as_display_dict(self) -> dict[str, Any]:
        """Declared settings and YAML sections, secrets masked, for ``jack config show``."""
        shown: dict[str, Any] = {}
        for key in sorted(self.declared):
            value = self.get(key)
            shown[key] = mask(value) if (self.declared[key].is_secret and value) else value
        for key, value in self._store.as_dict().items():
            if isinstance(value, Mapping) and key.upper() not in shown:
                shown[key.lower()] = _mask_tree(_plain(value))
        return shown


def settings_warnings(settings: Settings) -> list[str]:
    """Names in ``.env`` or the environment that look like a mistake, one line each.

    A name close to a declared setting (``DATABSE_PATH``) names the one probably meant; an unknown
    name with one of Jack's prefixes (``JACK_``, or the first word shared by several declared
    settings, such as ``SMTP_`` or ``TWILIO_``) says that nothing reads it.
    """
    if settings.warnings is not None:
        return settings.warnings
    known = set(settings.declared) | KNOWN_UNDECLARED
    by_initial: dict[str, list[str]] = {}
    for name in sorted(settings.declared):
        by_initial.setdefault(name[:1], []).append(name)
    words: dict[str, int] = {}
    for name in settings.declared:
        if "_" in name:
            words[name.split("_")[0] + "_"] = words.get(name.split("_")[0] + "_", 0) + 1
    prefixes = {"JACK_"} | {word for word, count in words.items() if count >= 2}
    warnings = []
    for name, where in sorted(settings.raw_names.items()):
        key = name.upper()
        if key in known or not key.replace("_", "").isalnum():
            continue
        # Same first letter only: a typo rarely hits it, and comparing every environment variable
        # with every setting cost config check 0.1 s.
        close = difflib.get_close_matches(key, by_initial.get(key[:1], []), n=1, cutoff=0.85)
        if close:
            warnings.append(f"{name} ({where}) is not a setting; did you mean {close[0]}? It is ignored.")
        elif key.startswith(tuple(prefixes)) and where != "environment":
            warnings.append(f"{name} ({where}) is not a setting of Jack or of any loaded plugin; it is ignored.")
        elif key.startswith("JACK_"):
            warnings.append(f"{name} ({where}) is not a setting of Jack or of any loaded plugin; it is ignored.")
    settings.warnings = warnings
    return warnings


def secret_problem(name: str, value: Any) -> str | None:
    """Describe why ``value`` is not acceptable as the production secret ``name``, if it is not."""
    text = "" if value is None else str(value)
    if not text:
        return f"{name} is not set: expected a random string of at least 32 characters (e.g. from `openssl rand -hex 32`)"
    if text.strip().lower() in PLACEHOLDER_SECRETS:
        return f"{name}={mask(text)}: still the documentation's placeholder; expected your own random string of at least 32 characters"
    if len(text) < 32:
        return f"{name}={mask(text)}: only {len(text)} characters; expected at least 32"
    letters = re.sub(r"[^a-z]", "", text.lower())
    if any(stem in letters for stem in PLACEHOLDER_STEMS):
        return f"{name}={mask(text)}: a variant of the documentation's placeholder; expected your own random string of at least 32 characters"
    if guesses_log10(text) < MIN_SECRET_GUESSES_LOG10:
        return (f"{name}={mask(text)}: too easy to guess (repeated, sequential or dictionary words); "
                "expected a random string of at least 32 characters (e.g. from `openssl rand -hex 32`)")
    return None


def guesses_log10(text: str) -> float:
    """zxcvbn's estimate of how many guesses ``text`` takes, as a power of ten."""
    # Imported here: only production start-up and `jack doctor` need it (it loads word lists).
    from zxcvbn import zxcvbn

    # zxcvbn's run time grows with length; the first 64 characters decide a secret's fate anyway.
    return float(zxcvbn(text[:64])["guesses_log10"])


def _mask_tree(value: Any, key: str = "") -> Any:
    if isinstance(value, Mapping):
        return {k: _mask_tree(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_tree(v, key) for v in value]
    if value and key.upper().endswith(SECRET_SUFFIXES):
        return mask(value)
    return value


def _plain(value: Any) -> Any:
    """Turn Dynaconf's Box containers into plain dicts and lists."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def load_settings(
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    declared: Iterable[Setting] = (),
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Merge every source into a :class:`Settings`; raise :class:`SettingsError` on bad input.

    ``environ`` defaults to ``os.environ``; tests pass their own so several apps
    with different settings can live in one process.  ``declared`` settings are
    coerced and validated here; plugins' settings are added later by the app.
    """
    environ = dict(os.environ if environ is None else environ)
    files = locate_files(environ, cwd)
    dotenv: dict[str, str] = {}
    if files.env is not None:
        dotenv = {k: v for k, v in dotenv_values(files.env).items() if v is not None}
        named = {
            key: value if Path(value).is_absolute() else str(files.env.parent / value)
            for key, value in dotenv.items()
            if key in FILE_VARIABLES and key != "ENV_FILE" and value and key not in environ
        }
        if named:  # ONCALL_FILE... written in .env name the files as if they were set in the environment
            files = locate_files({**environ, **named}, cwd)
    raw_env = {**dotenv, **environ}

    yaml_files = [str(p) for p in (files.settings, files.oncall, files.costs) if p is not None]
    store = Dynaconf(
        settings_files=yaml_files,
        core_loaders=["YAML"],
        environments=False,
        merge_enabled=True,
        load_dotenv=False,
        # The environment is merged below by us, from ``raw_env``, so values stay strings.
        envvar_prefix="JACK_DYNACONF_IGNORED",
        apply_default_on_none=True,
    )
    try:
        for key, value in list(store.as_dict().items()):
            store.set(key, expand_variables(_plain(value), raw_env), tomlfy=False, merge=False)
    except Exception as exc:  # yaml errors name the file and line
        raise SettingsError([f"could not read the settings files ({', '.join(yaml_files)}): {exc}"]) from None
    sources = {str(key).upper(): "file" for key in store.as_dict()}
    for key, value in raw_env.items():
        if key and key.replace("_", "").isalnum():
            store.set(key.upper(), value, tomlfy=False)
            sources[key.upper()] = "environment" if key in environ else "file"
    for key, value in (overrides or {}).items():
        store.set(key.upper(), value, tomlfy=False)
        sources[key.upper()] = "override"

    settings = Settings(store, files, {}, raw_env, sources)
    settings.raw_names = {
        **{key: f"in {files.env}" for key in dotenv},
        **{key: "environment" for key in environ},
    }
    errors = settings.declare(declared)
    if errors:
        raise SettingsError(errors)
    return settings
