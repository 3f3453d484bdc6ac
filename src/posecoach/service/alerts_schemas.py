"""Request and answer bodies of the fall alert routes (`alerts_routes`), and the check of a webhook URL."""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from posecoach.service.schemas import Time

MAX_URL = 2048


def webhook_refusal(url: str) -> str | None:
    """Why ``url`` cannot be an alert destination, None when it can: an absolute http(s) URL with a host, no
    user name or password in it (put a token in the path or query instead), no spaces."""
    if len(url) > MAX_URL:
        return f"the URL is longer than {MAX_URL} characters"
    if any(c.isspace() or not c.isprintable() for c in url):
        return "the URL must not contain spaces or control characters"
    try:
        parts = urlsplit(url)
        port = parts.port  # a port that is not a number raises
    except ValueError:
        return "this is not a valid URL"
    if parts.scheme.lower() not in ("http", "https"):
        return "the URL must start with https:// (or http://)"
    if not parts.hostname:
        return "the URL needs a host name, e.g. https://alerts.example.com/posecoach"
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        return "put no user name or password in the URL (use a token in its path or query instead)"
    if port == 0:
        return "the URL's port must be from 1 to 65535"
    return None


class DestinationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    webhook_url: str = Field(min_length=1, max_length=MAX_URL,
                             description="https:// (or http://) URL that receives each fall alert as a JSON POST")

    @field_validator("webhook_url")
    @classmethod
    def _valid(cls, value: str) -> str:
        value = value.strip()
        refusal = webhook_refusal(value)
        if refusal:
            raise ValueError(refusal)
        return value


class DestinationOut(BaseModel):
    webhook_url: str | None = Field(description="where your fall alerts are POSTed; None: nowhere (the alert log only)")
    updated_at: Time | None = None


class TestOut(BaseModel):
    delivered: bool
    status: int | None = Field(description="the receiver's HTTP status; None when it could not be reached")
    detail: str = Field(description="what happened, naming the destination by its host only")


class AcknowledgeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str | None = Field(None, max_length=500, description="what was done, e.g. 'called her, she is fine'")


class AlertOut(BaseModel):
    id: str
    owner: str = Field(description="whose alert: the user's name")
    source: Literal["upload", "live"] = Field(description="an uploaded video's fall check, or a live camera")
    name: str = Field(description="the clip's file name, or 'Live camera'")
    job_id: str | None = Field(description="the fall check's job (``#/falls?job=ID``); None for a live camera")
    created_at: Time = Field(description="when the alert fired (for an upload: when its check finished)")
    alert_s: float = Field(description="when the alert fired, in seconds into the clip or live session")
    impact_s: float | None
    outcome: Literal["down", "lost", "got_up"] = Field(description="what became of the person: still down, not "
                                                       "seen since the fall, or got up")
    outcome_text: str
    confirmed: bool = Field(description="false: the clip or session ended before the drop was confirmed")
    confidence: float | None
    acknowledged_at: Time | None
    acknowledged_by: str | None = Field(description="who acknowledged it (their name then)")
    note: str | None
    delivery: Literal["none", "pending", "sending", "sent", "failed"] = Field(
        description="its webhook delivery: none (no destination set when it fired), pending (waiting to be sent "
        "or tried again), sending, sent, failed (gave up; delivery_error says why)")
    delivered_at: Time | None
    delivery_attempts: int
    delivery_error: str | None
