"""The dashboard settings store: values in the database, secrets encrypted, applied to ``app.settings`` live."""

from __future__ import annotations

import asyncio
import base64
import logging
import threading
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import DatabaseError, OperationalError, ProgrammingError
from sqlmodel import Session, select

from jack_host.builtin.app_settings import secret_box
from jack_host.builtin.app_settings.models import KeyMaterial, StoredSetting
from jack_host.config.settings import Setting, mask
from jack_host.contract.services import AppSettings, Audit, Events
from jack_host.db.models import utcnow

if TYPE_CHECKING:
    from cryptography.fernet import Fernet

    from jack_host.web.app import JackApp

log = logging.getLogger("jack.app_settings")
#: Plugins whose settings are read before the database is open (ports, database, the keys themselves).
START_UP_ONLY_PLUGINS = frozenset({"jack.host", "jack.app_settings"})


class DashboardSettings(AppSettings):
    """``app.services.app_settings``: what the Engine > Apps page stores and applies."""

    def __init__(self, app: JackApp):
        self.app = app
        #: The value and source each overridden setting had before the dashboard's, to go back to when it is removed.
        self._base: dict[str, tuple[Any, str]] = {}
        self._applied: dict[str, Any] = {}
        self._fernets: dict[tuple[str, str], Fernet] = {}
        self._lock = threading.Lock()
        #: Why stored values could not be read (a wrong ENCRYPTION_KEY), shown on the Apps page.
        self.problem: str | None = None

    # ---- what may be set
    def declared_by_plugin(self) -> dict[str, list[Setting]]:
        return self.app.hooks.settings_by_plugin()

    def editable(self) -> dict[str, tuple[str, Setting]]:
        """Every setting the dashboard may set: ``name -> (plugin, Setting)``."""
        found: dict[str, tuple[str, Setting]] = {}
        for plugin, settings in self.declared_by_plugin().items():
            if plugin in START_UP_ONLY_PLUGINS:
                continue
            for setting in settings:
                found.setdefault(setting.name.upper(), (plugin, setting))
        return found

    # ---- the key
    def _fernet(self, encryption_key: str, salt: str) -> Fernet:
        cached = self._fernets.get((encryption_key, salt))
        if cached is None:
            cached = secret_box.derive_fernet(encryption_key, base64.b64decode(salt))
            self._fernets[(encryption_key, salt)] = cached
        return cached

    def _current_key(self) -> str:
        return str(self.app.settings.get("ENCRYPTION_KEY") or "")

    def _fernet_for_writing(self, session: Session) -> Fernet:
        """The current key's Fernet; the first secret stored makes the salt and the check token."""
        material = session.get(KeyMaterial, 1)
        key = self._current_key()
        if material is None:
            salt = base64.b64encode(secret_box.new_salt()).decode()
            fernet = self._fernet(key, salt)
            session.add(KeyMaterial(id=1, salt=salt, check=secret_box.check_token(fernet)))
            return fernet
        fernet = self._fernet(key, material.salt)
        if not secret_box.opens(fernet, material.check):
            raise secret_box.SecretKeyError(wrong_key_message())
        return fernet

    # ---- reading
    def stored(self) -> dict[str, Any]:
        """The stored values, secrets decrypted; ``{}`` before the table exists (a database not migrated yet)."""
        try:
            with Session(self.app.engine) as session:
                rows = session.exec(select(StoredSetting)).all()
                material = session.get(KeyMaterial, 1)
        except (OperationalError, ProgrammingError, DatabaseError):  # not migrated yet, or damaged (refused later)
            return {}
        values: dict[str, Any] = {}
        fernet = None
        self.problem = None
        if any(row.secret for row in rows):
            try:
                if material is None:
                    raise secret_box.SecretKeyError("the key's salt is missing from app_settings_key")
                fernet = self._fernet(self._current_key(), material.salt)
                if not secret_box.opens(fernet, material.check):
                    raise secret_box.SecretKeyError(wrong_key_message())
            except secret_box.SecretKeyError as exc:
                self.problem = f"stored secrets are not used: {exc}"
                log.error("dashboard settings: %s", self.problem)
                fernet = None
        declared = self.editable()
        for row in rows:
            if row.secret:
                if fernet is None:
                    continue
                values[row.name] = secret_box.decrypt(fernet, row.value)
            else:
                values[row.name] = row.value
            if row.name in declared:
                try:
                    values[row.name] = declared[row.name][1].coerce(values[row.name])
                except ValueError:
                    log.error("dashboard setting %s holds a value that is no longer valid; ignored", row.name)
                    values.pop(row.name)
        return values

    def overrides(self) -> dict[str, Any]:
        return dict(self._applied)

    def source_of(self, name: str) -> str | None:
        return "dashboard" if name.upper() in self._applied else None

    # ---- applying
    def apply(self, values: dict[str, Any]) -> None:
        """Make ``values`` the dashboard's overrides in ``app.settings``; removed ones go back to their old value."""
        settings = self.app.settings
        with self._lock:
            for name in list(self._applied):
                if name not in values:
                    value, source = self._base.pop(name, (None, "default"))
                    settings.set(name, value, source=source)
            for name, value in values.items():
                if name not in self._base:
                    self._base[name] = (settings.get(name), settings.source(name))
                settings.set(name, value, source="dashboard")
            self._applied = dict(values)

    def load(self) -> None:
        """Apply what is stored and rebuild the components that keep their settings (start-up)."""
        self.apply(self.stored())
        if self._applied:
            self.rebuild_components()

    def rebuild_components(self) -> None:
        """AI providers keep the model and server they were made with: make them again from the settings."""
        app = self.app
        fresh = app.hooks.register_llm_providers(app)
        app.llm_providers.clear()
        app.llm_providers.update(fresh)

    async def refresh_health(self, plugins: set[str]) -> None:
        """Check again, now, the components of ``plugins`` and every (rebuilt) AI provider."""
        monitor, owners = self.app.health_monitor, self.app.hooks.component_owners
        due = [c for c in monitor.components()
               if c.kind == "llm_provider" or owners.get((c.kind, c.name)) in plugins]
        await asyncio.gather(*(monitor.check(component) for component in due))

    # ---- changing
    def shown(self, name: str, value: Any) -> Any:
        setting = self.editable().get(name)
        return mask(value) if (setting and setting[1].is_secret and value not in (None, "")) else value

    def _prepare(self, values: dict[str, Any]) -> dict[str, Any]:
        """Check and coerce the submitted values; a secret left masked or empty keeps the stored one."""
        declared = self.editable()
        start_up_only = {s.name.upper() for p in START_UP_ONLY_PLUGINS for s in self.declared_by_plugin().get(p, [])}
        prepared: dict[str, Any] = {}
        errors = []
        for raw_name, value in values.items():
            name = str(raw_name).upper()
            if name in start_up_only:
                errors.append(f"{name}: read at start-up only; set it in .env or the environment")
                continue
            if name not in declared:
                errors.append(f"{name}: not a setting any installed plugin declares")
                continue
            setting = declared[name][1]
            if value is None:
                prepared[name] = None
                continue
            if isinstance(value, dict | list):
                errors.append(f"{name}: expected {setting.expected()}")
                continue
            if setting.is_secret:
                current = self.app.settings.get(name)
                if str(value) == "" or (current not in (None, "") and str(value) == mask(current)):
                    continue  # left as shown: keep the stored secret
            try:
                prepared[name] = setting.coerce(value)
            except ValueError as exc:
                errors.append(f"{name}={self.shown(name, value)!s}: expected {exc}")
        if errors:
            raise ValueError("; ".join(errors))
        return prepared

    async def update(self, values: dict[str, Any], actor: str) -> list[str]:
        prepared = self._prepare(values)
        before = {name: self.app.settings.get(name) for name in prepared}
        changed = [name for name, value in prepared.items() if value is None and name in self._applied or
                   value is not None and (name not in self._applied or self._applied[name] != value)]
        if not changed:
            return []
        try:
            await asyncio.to_thread(self._write, {name: prepared[name] for name in changed}, actor)
        except secret_box.SecretKeyError as exc:
            raise ValueError(str(exc)) from None
        self.apply(await asyncio.to_thread(self.stored))
        self.rebuild_components()
        plugins = sorted({self.editable()[name][0] for name in changed})
        await self.refresh_health(set(plugins))
        after = {name: self.app.settings.get(name) for name in changed}
        secret_names = tuple(name for name in changed if self.editable()[name][1].is_secret)
        audit = self.app.services.find(Audit)
        if audit is not None:
            await asyncio.to_thread(audit.record, actor, "app.settings", ",".join(f"app:{p}" for p in plugins),
                                    {n: before[n] for n in changed}, after, secret_keys=secret_names)
        events = self.app.services.find(Events)
        if events is not None:
            events.publish("settings.changed", {"names": changed})
        return changed

    def _write(self, values: dict[str, Any], actor: str) -> None:
        declared = self.editable()
        with Session(self.app.engine) as session:
            fernet = None
            for name, value in values.items():
                row = session.get(StoredSetting, name)
                if value is None:
                    if row is not None:
                        session.delete(row)
                    continue
                plugin, setting = declared[name]
                text = _as_text(value)
                if setting.is_secret:
                    fernet = fernet or self._fernet_for_writing(session)
                    text = secret_box.encrypt(fernet, text)
                if row is None:
                    row = StoredSetting(name=name, plugin=plugin, value=text, secret=setting.is_secret)
                row.value, row.plugin, row.secret = text, plugin, setting.is_secret
                row.updated_at, row.updated_by = utcnow(), actor
                session.add(row)
            session.commit()

    # ---- rotation
    def rotate(self, old_key: str) -> int:
        """Re-encrypt every stored secret from ``old_key`` to the current ``ENCRYPTION_KEY``; return how many.

        :raises SecretKeyError: ``old_key`` does not open the stored secrets, or no current key is set.
        """
        new_key = self._current_key()
        if not new_key:
            raise secret_box.SecretKeyError("ENCRYPTION_KEY is not set: set the new key there, the old one in --old-key-env")
        with Session(self.app.engine) as session:
            material = session.get(KeyMaterial, 1)
            rows = [row for row in session.exec(select(StoredSetting)).all() if row.secret]
            if material is None:
                return 0
            old = self._fernet(old_key, material.salt)
            if not secret_box.opens(old, material.check):
                if secret_box.opens(self._fernet(new_key, material.salt), material.check):
                    raise secret_box.SecretKeyError("the stored secrets are already encrypted with ENCRYPTION_KEY: nothing to rotate")
                raise secret_box.SecretKeyError("the old key does not decrypt the stored secrets: pass the ENCRYPTION_KEY they were saved with")
            salt = base64.b64encode(secret_box.new_salt()).decode()
            new = self._fernet(new_key, salt)
            for row in rows:
                row.value = secret_box.encrypt(new, secret_box.decrypt(old, row.value))
                session.add(row)
            material.salt, material.check, material.updated_at = salt, secret_box.check_token(new), utcnow()
            session.add(material)
            session.commit()
            return len(rows)


def wrong_key_message() -> str:
    return ("ENCRYPTION_KEY is not the key the stored secrets were encrypted with; if you changed it, run "
            "`jack secrets rotate --old-key-env OLD_ENCRYPTION_KEY` with the old key in OLD_ENCRYPTION_KEY")


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
