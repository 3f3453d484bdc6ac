"""`posecoach users list|add|disable|enable|reset` and `posecoach keys list|create|revoke|rotate`: the service's
accounts and API keys, on the database the settings name (``POSECOACH_DATABASE_URL``, else SQLite in
``POSECOACH_DATA_DIR``). The first admin is made here (``posecoach users add NAME --role admin``), never by the
server: passwords are typed at a hidden prompt or read from standard input, never taken as an argument (which
the shell's history and ``ps`` would show), and a new API key is printed once, to this terminal only.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from posecoach.cli.serve import _database
from posecoach.errors import InputError

if TYPE_CHECKING:
    from posecoach.service.db import Database
    from posecoach.service.settings import Settings

users = typer.Typer(help="Service accounts: list, add, disable, enable, reset a password.", no_args_is_help=True)
keys = typer.Typer(help="API keys of service accounts (for programs): list, create, revoke, rotate.",
                   no_args_is_help=True)
out = Console(highlight=False, soft_wrap=True)


@contextmanager
def _opened() -> Iterator[tuple[Settings, Database]]:
    """The settings and their database, closed at the end; an unknown account or key, or a refused value
    (`accounts_db.NotFound`, `accounts_db.Invalid`), becomes the command's one-line error."""
    from posecoach.service import accounts_db

    settings, db = _database()
    try:
        yield settings, db
    except (accounts_db.NotFound, accounts_db.Invalid) as exc:
        raise InputError(str(exc)) from None
    finally:
        db.close()


def _when(value: object) -> str:
    return "-" if value is None else f"{value:%Y-%m-%d %H:%M}"  # type: ignore[str-format]


def _read_password(name: str, stdin: bool, min_length: int) -> str:
    """A new password: the first line of standard input with ``--password-stdin`` (or when it is not a
    terminal), else typed twice at a hidden prompt; checked against the policy."""
    from posecoach.service import accounts_db

    if stdin or not sys.stdin.isatty():
        line = sys.stdin.readline()
        if not line:
            raise InputError("no password on standard input: pipe one line, or run in a terminal to be asked")
        password = line.rstrip("\r\n")
    else:
        password = typer.prompt(f"password for {name}", hide_input=True, confirmation_prompt=True)
    refusal = accounts_db.password_refusal(password, min_length, name)
    if refusal:
        raise InputError(refusal)
    return password


def _print_key(owner: str, key: str) -> None:
    out.print(f"API key of [bold]{owner}[/] (shown once; send it as the X-API-Key header):")
    out.print(key)


@users.command("list")
def list_users() -> None:
    """Every account: name, role, whether a password is set, one-time codes, disabled."""
    from posecoach.service import accounts_db

    with _opened() as (_, db):
        found = accounts_db.users(db)
    table = Table("name", "role", "password", "one-time codes", "state", "created")
    for u in found:
        table.add_row(u.name, u.role, "yes" if u.password_hash else "no", "on" if u.totp_enabled_at else "off",
                      "disabled" if u.disabled_at else "active", _when(u.created_at))
    out.print(table if found else "no accounts yet: `posecoach users add NAME --role admin` makes the first")


@users.command("add")
def add_user(
    name: Annotated[str, typer.Argument(help="The account name (letters, digits, . @ + - _).")],
    role: Annotated[str, typer.Option(help="user, clinician or admin.")] = "user",
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from the first "
                                                 "line of standard input instead of a prompt.")] = False,
    no_password: Annotated[bool, typer.Option("--no-password", help="No password: the account signs in with "
                                              "an API key only (use with --key).")] = False,
    key: Annotated[bool, typer.Option("--key", help="Also create an API key with every scope (printed once).")
                   ] = False,
) -> None:
    """Create an account with a password (prompted for, or read from stdin); --key also prints an API key."""
    import re

    from posecoach.service import accounts_db

    if not re.fullmatch(r"[\w.@+-]{1,100}", name):
        raise InputError(f"bad account name {name!r}: letters, digits and . @ + - _ only, at most 100")
    if no_password and not key:
        raise InputError("an account without a password needs an API key: add --key")
    with _opened() as (settings, db):
        hashed = None if no_password else accounts_db.hash_password(
            _read_password(name, password_stdin, settings.password_min_length))
        try:
            user, made = db.create_user(name, role, password_hash=hashed, with_key=key)
        except ValueError as exc:
            raise InputError(str(exc)) from None
    out.print(f"created {user.role} [bold]{user.name}[/]" + ("" if no_password else " with a password"))
    if made:
        _print_key(user.name, made)


def _set_disabled(name: str, disabled: bool) -> None:
    from posecoach.service import accounts_db

    with _opened() as (_, db):
        accounts_db.set_disabled(db, name, disabled)
    out.print(f"{name}: {'disabled (its sessions ended, its keys stopped working)' if disabled else 'enabled'}")


@users.command("disable")
def disable_user(name: Annotated[str, typer.Argument(help="The account name.")]) -> None:
    """Disable an account: its sessions end and its API keys stop working until it is enabled again."""
    _set_disabled(name, True)


@users.command("enable")
def enable_user(name: Annotated[str, typer.Argument(help="The account name.")]) -> None:
    """Enable a disabled account again."""
    _set_disabled(name, False)


@users.command("reset")
def reset_user(
    name: Annotated[str, typer.Argument(help="The account name.")],
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the new password from the "
                                                 "first line of standard input instead of a prompt.")] = False,
    clear_totp: Annotated[bool, typer.Option("--clear-totp", help="Also turn off its one-time codes (a lost "
                                             "device).")] = False,
) -> None:
    """Set a new password for an account; its sessions end."""
    from posecoach.service import accounts_db

    with _opened() as (settings, db):
        user = accounts_db.user_named(db, name)
        password = _read_password(name, password_stdin, settings.password_min_length)
        accounts_db.set_password(db, user, accounts_db.hash_password(password))
        if clear_totp:
            accounts_db.totp_disable(db, user, None, by_admin=True)
    out.print(f"{name}: new password set; its sessions ended" + ("; one-time codes off" if clear_totp else ""))


# keys ------------------------------------------------------------------------------------------------------------
@keys.command("list")
def list_keys(user: Annotated[str, typer.Argument(help="Whose keys.")]) -> None:
    """An account's API keys: id, name, first characters, scopes, state, expiry, last use (never the key)."""
    from posecoach.service import accounts_db

    with _opened() as (_, db):
        rows = accounts_db.keys(db, accounts_db.user_named(db, user))
    if not rows:
        out.print(f"{user} has no API keys")
    for row in rows:  # one line per key: the id is whole, to copy into `keys revoke|rotate`
        out.print(f"{row.id}  {row.name!r}  {row.prefix}…  scopes={','.join(row.scopes.split())}  "
                  f"{accounts_db.key_state(row)}  expires={_when(row.expires_at)}  "
                  f"last_used={_when(row.last_used_at)}")


@keys.command("create")
def create_key(
    user: Annotated[str, typer.Argument(help="Whose key.")],
    name: Annotated[str, typer.Option(help="What the key is for.")] = "key",
    scopes: Annotated[str, typer.Option(help="Comma-separated: read, write, admin (admin accounts only).")
                      ] = "read,write",
    expires_days: Annotated[float | None, typer.Option(min=0.001, max=3650, help="Days until it expires; "
                                                       "default: never.")] = None,
) -> None:
    """Create an API key (printed once)."""
    from posecoach.service import accounts_db
    from posecoach.service.db import utcnow

    wanted = [s.strip() for s in scopes.split(",") if s.strip()]
    with _opened() as (_, db):
        owner = accounts_db.user_named(db, user)
        expires = utcnow() + timedelta(days=expires_days) if expires_days else None
        row, key = accounts_db.create_key(db, owner, name[:100], wanted, expires)
    out.print(f"key {row.id} ({row.name}; scopes: {row.scopes}; expires: {_when(row.expires_at)})")
    _print_key(user, key)


@keys.command("revoke")
def revoke_key(user: Annotated[str, typer.Argument(help="Whose key.")],
               key_id: Annotated[str, typer.Argument(help="The key's id (`posecoach keys list USER`).")]) -> None:
    """Revoke an API key: it stops working at once."""
    from posecoach.service import accounts_db

    with _opened() as (_, db):
        accounts_db.revoke_key(db, accounts_db.user_named(db, user), key_id)
    out.print(f"key {key_id} of {user} revoked")


@keys.command("rotate")
def rotate_key(user: Annotated[str, typer.Argument(help="Whose key.")],
               key_id: Annotated[str, typer.Argument(help="The key's id (`posecoach keys list USER`).")]) -> None:
    """Replace an API key: a new one with the same name, scopes and lifetime (printed once); the old is revoked."""
    from posecoach.service import accounts_db

    with _opened() as (_, db):
        row, key = accounts_db.rotate_key(db, accounts_db.user_named(db, user), key_id)
    out.print(f"key {key_id} revoked; its replacement is {row.id}")
    _print_key(user, key)


def register(app: typer.Typer) -> None:
    app.add_typer(users, name="users")
    app.add_typer(keys, name="keys")
