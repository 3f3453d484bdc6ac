"""Request and response bodies of the account routes (`account_routes`): passwords, one-time codes, API keys,
the admin's view of the accounts. Accounts are named by username; a key's id is its owner's to see only."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from posecoach.service.schemas import Role, Time

Scope = Literal["read", "write", "admin"]
KeyState = Literal["active", "expired", "revoked"]


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    current_password: str | None = Field(None, max_length=1024, description="Needed when the account has one")
    new_password: str = Field(max_length=1024)


class TotpCode(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=6, max_length=8, pattern=r"^[0-9 ]+$", description="The 6-digit one-time code")


class TotpOff(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str | None = Field(None, max_length=8, description="A current one-time code")


class TotpEnrolment(BaseModel):
    """The new secret, as text and as the ``otpauth://`` URI an authenticator app takes (shown once); confirm
    with a code (``POST /v1/me/totp/confirm``) before it is required."""

    secret: str
    otpauth_uri: str


class Account(BaseModel):
    """An account as the admin (or its owner) sees it: no password hash, no secret, no id."""

    name: str
    role: Role
    created_at: Time
    disabled: bool
    password: bool = Field(description="a password is set")
    totp: bool = Field(description="one-time codes are required at sign-in")


class PasswordReset(BaseModel):
    model_config = ConfigDict(extra="forbid")
    password: str | None = Field(None, max_length=1024, description="The new password; none: one is made and "
                                 "shown in the answer once")
    clear_totp: bool = Field(False, description="Also turn off one-time codes (a lost device)")


class ResetDone(BaseModel):
    user: Account
    password: str | None = Field(None, description="The password made for the account (shown once), if none "
                                 "was given")


class KeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100, pattern=r"^[\w .@+:-]+$")
    scopes: list[Scope] = Field(default_factory=lambda: ["read", "write"], min_length=1, max_length=3)
    expires_in_days: float | None = Field(None, gt=0, le=3650, description="None: no expiry")


class KeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    name: str
    prefix: str = Field(description="the key's first characters, to tell keys apart")
    scopes: list[Scope]
    state: KeyState
    created_at: Time
    expires_at: Time | None
    last_used_at: Time | None
    revoked_at: Time | None


class NewKey(BaseModel):
    key: KeyOut
    api_key: str = Field(description="Shown once: only its hash is stored.")
