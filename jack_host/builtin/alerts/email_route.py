"""The ``email`` alert route: pages an ``email`` contact through the Mailer service (the e-mail channel's SMTP sender)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from jack_host.builtin.alerts.service import contacts_of
from jack_host.contract.interfaces import Alert, AlertRoute, ComponentHealth, NotConfiguredError
from jack_host.contract.services import Mailer

if TYPE_CHECKING:
    from jack_host.contract.app import App

SUBJECTS = {"trigger": "[Jack {severity}] {summary}", "acknowledge": "[Jack acknowledged] {summary}",
            "resolve": "[Jack resolved] {summary}"}


def alert_text(alert: Alert, action: str) -> str:
    """The plain-text body of an alert message (e-mail, SMS, a voice call)."""
    lines = [alert.summary, "", f"Alert: {alert.name} ({alert.severity})"]
    if action == "acknowledge":
        lines.insert(0, "ACKNOWLEDGED: the escalation has stopped.")
    elif action == "resolve":
        lines.insert(0, "RESOLVED.")
    for key, value in sorted(alert.details.items()):
        lines.append(f"{key}: {value}")
    alert_id = alert.details.get("alert_id")
    if action == "trigger" and alert_id:
        lines += ["", f"Acknowledge it with `jack alerts ack {alert_id}` or on the dashboard's System page."]
    return "\n".join(lines)


class EmailAlertRoute(AlertRoute):
    name = "email"
    contact_type = "email"

    def __init__(self, app: App):
        self.app = app

    def mailer(self) -> Mailer:
        mailer = self.app.services.find(Mailer)
        if mailer is None:
            raise NotConfiguredError("no plugin provides the Mailer service: install the e-mail channel (channel_email) and set SMTP_HOST")
        return mailer

    async def health(self) -> ComponentHealth:
        if not contacts_of(self.app, "email"):
            return ComponentHealth.not_configured("no email contact in oncall.yaml")
        if self.app.services.find(Mailer) is None:
            return ComponentHealth.not_configured("no Mailer service: the e-mail channel (channel_email) sends alert e-mails")
        return ComponentHealth.connected("alert e-mails go through the e-mail channel's SMTP server")

    async def send(self, alert: Alert) -> None:
        raise NotConfiguredError("the email route only pages email contacts of oncall.yaml")

    async def page(self, alert: Alert, target: str, action: str) -> str:
        subject = SUBJECTS[action].format(severity=alert.severity.upper(), summary=alert.summary)[:200]
        message_id = await self.mailer().send_mail(target, subject, alert_text(alert, action))
        return f"sent {message_id}"
