"""How an alert is said on each channel: the text built from the incident's fields, escaped for the channel,
a webhook body that Slack and Teams incoming webhooks accept, and an e-mail sent over SMTP.

Article text is untrusted: the evidence sentence and even a place name (an editor may type anything)
are escaped for the channel they go to (Slack/Teams: `&`, `<`, `>`, which would otherwise make links
and @channel mentions; e-mail headers: one line).
"""
from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import httpx

EVIDENCE_CHARS = 300
TIMEOUT_S = 15


class DeliveryError(Exception):
    """A receiver did not take an alert (it is retried later)."""


def _one_line(value: Any) -> str:
    return " ".join(str(value).split()) if value is not None else ""


def slack_escape(text: str) -> str:
    """Slack's and Teams' mrkdwn control characters, as their webhook docs ask."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def alert_text(fields: Mapping[str, Any], escape: Callable[[str], str] = lambda s: s) -> str:
    """One human-readable paragraph about the alert, every value passed through `escape`."""
    kind = (fields.get("event_type") or "incident").replace("_", " ")
    place = _one_line(fields.get("place")) or "an unnamed place"
    if fields.get("country"):
        place += f" ({_one_line(fields['country'])})"
    when = f" on {fields['date']}" if fields.get("date") else ""
    tolls = [f"{fields[k]} {k}" for k in ("killed", "wounded") if fields.get(k) is not None]
    toll = f": {', '.join(tolls)}" if tolls else ""
    text = f"{kind.capitalize()} in {place}{when}{toll}. Watch area: {_one_line(fields.get('area'))}."
    evidence = _one_line(fields.get("evidence"))
    if evidence:
        quoted = evidence if len(evidence) <= EVIDENCE_CHARS else evidence[:EVIDENCE_CHARS - 1] + "…"
        text += f' "{quoted}"'
    return escape(text)


WEBHOOK_FIELDS = ("area", "incident_id", "event_type", "date", "place", "country", "lat", "lon", "killed",
                  "wounded", "casualties")


def webhook_body(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON posted to a webhook: `text` (what Slack and Teams show) and the incident's fields."""
    body = {k: fields.get(k) for k in WEBHOOK_FIELDS}
    body["text"] = alert_text(fields, slack_escape)
    return body


def post_webhook(client: httpx.Client, url: str, fields: Mapping[str, Any]) -> None:
    try:
        response = client.post(url, json=webhook_body(fields), timeout=TIMEOUT_S)
    except httpx.HTTPError as exc:
        raise DeliveryError(f"{type(exc).__name__}: {exc}") from None
    if response.status_code >= 300:
        raise DeliveryError(f"HTTP {response.status_code} {response.text[:200]!r}")


@dataclass(frozen=True)
class SmtpSettings:
    """`[atlas.smtp]` in .streamlit/secrets.toml: where e-mail alerts are sent from."""

    host: str
    sender: str
    port: int = 25
    username: str | None = None
    password: str | None = None
    security: str = "none"        # none, starttls or ssl

    @classmethod
    def from_secrets(cls, secrets: Mapping[str, Any]) -> "SmtpSettings | None":
        smtp = (secrets.get("atlas") or {}).get("smtp")
        if not smtp:
            return None
        if not smtp.get("host") or not smtp.get("sender"):
            raise ValueError("[atlas.smtp] needs host and sender")
        security = smtp.get("security", "none")
        if security not in ("none", "starttls", "ssl"):
            raise ValueError("[atlas.smtp] security is none, starttls or ssl")
        return cls(smtp["host"], smtp["sender"], int(smtp.get("port", 465 if security == "ssl" else 25)),
                   smtp.get("username"), smtp.get("password"), security)


def email_message(fields: Mapping[str, Any], sender: str, to: str) -> EmailMessage:
    message = EmailMessage()
    kind = (fields.get("event_type") or "incident").replace("_", " ")
    message["Subject"] = _one_line(f"[atlas] {kind} in {fields.get('place') or 'an unnamed place'} "
                                   f"({fields.get('area')})")[:200]
    message["From"], message["To"] = sender, to
    lines = [alert_text(fields), "", f"Incident: {fields.get('incident_id')}"]
    if fields.get("lat") is not None:
        lines.append(f"Location: {fields['lat']:.5f}, {fields['lon']:.5f}")
    message.set_content("\n".join(lines) + "\n")
    return message


def send_email(settings: SmtpSettings, to: str, fields: Mapping[str, Any]) -> None:
    message = email_message(fields, settings.sender, to)
    try:
        if settings.security == "ssl":
            client = smtplib.SMTP_SSL(settings.host, settings.port, timeout=TIMEOUT_S,
                                      context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(settings.host, settings.port, timeout=TIMEOUT_S)
        with client:
            if settings.security == "starttls":
                client.starttls(context=ssl.create_default_context())
            if settings.username:
                client.login(settings.username, settings.password or "")
            client.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryError(f"SMTP {settings.host}:{settings.port}: {exc}") from None
