"""`paperfeed user`: members from the command line (add, password, admin, tokens, list)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from .context import Context, pass_context

if TYPE_CHECKING:
    from ..members import Accounts
    from ..models import User


@click.group()
def user() -> None:
    """Manage members: add, list, set a password, make admin, API tokens."""


def _accounts(ctx: Context) -> Accounts:
    from ..members import Accounts
    from ..store import Store

    return Accounts(Store(ctx.settings.store_url).members, ctx.settings)


def _member(accounts: Accounts, username: str) -> User:
    from ..errors import NotFound

    found = accounts.members.user_by_name(username)
    if found is None:
        raise NotFound(f"no member called {username!r}")
    return found


@user.command("add")
@click.argument("username")
@click.option("--email", required=True)
@click.option("--admin", is_flag=True, help="Can hide submissions.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              envvar="PAPERFEED_NEW_PASSWORD",
              help="Prompted for if not given (or $PAPERFEED_NEW_PASSWORD).")
@pass_context
def user_add(ctx: Context, username: str, email: str, admin: bool, password: str) -> None:
    """Create a member (the first member is an admin anyway)."""
    created = _accounts(ctx).sign_up(username, email, password, is_admin=admin or None)
    click.echo(f"added {created.username}{' (admin)' if created.is_admin else ''}")


@user.command("password")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              envvar="PAPERFEED_NEW_PASSWORD")
@pass_context
def user_password(ctx: Context, username: str, password: str) -> None:
    """Set a member's password (ends their sessions)."""
    from ..members.accounts import hash_password

    accounts = _accounts(ctx)
    found = _member(accounts, username)
    accounts.members.set_password(found.id, hash_password(password))
    click.echo(f"password set for {found.username}")


@user.command("admin")
@click.argument("username")
@click.option("--revoke", is_flag=True, help="Take the admin role away.")
@pass_context
def user_admin(ctx: Context, username: str, revoke: bool) -> None:
    """Give a member the admin role."""
    accounts = _accounts(ctx)
    found = _member(accounts, username)
    accounts.members.set_admin(found.id, not revoke)
    click.echo(f"{found.username} is {'no longer' if revoke else 'now'} an admin")


@user.command("token")
@click.argument("username")
@click.option("--name", "label", default="", help="What the new token is for (a label).")
@click.option("--list", "list_tokens", is_flag=True, help="List the member's tokens instead.")
@click.option("--revoke", "revoke_id", type=click.IntRange(1, 2**62), metavar="ID",
              help="Revoke the member's token with this id (see --list) instead.")
@pass_context
def user_token(ctx: Context, username: str, label: str, list_tokens: bool,
               revoke_id: int | None) -> None:
    """Make a personal API token for USERNAME and print it, alone, on standard output
    (`TOKEN=$(paperfeed user token ada)`); or --list / --revoke ID their tokens."""
    if list_tokens and revoke_id is not None or label and (list_tokens or revoke_id):
        raise click.UsageError("choose one of: --name LABEL (make a token), --list, --revoke ID")
    accounts = _accounts(ctx)
    member = _member(accounts, username)
    if list_tokens:
        for made in accounts.tokens.of(member):
            click.echo(f"{made.id:>5}  {made.label:<32}  created {made.created_at}  "
                       f"last used {made.last_used_at or 'never'}")
    elif revoke_id is not None:
        accounts.tokens.revoke(member, revoke_id)
        click.echo(f"revoked token {revoke_id} of {member.username}", err=True)
    else:
        token, listed = accounts.tokens.create(member, label or "command line")
        click.echo(token)
        click.echo(f"token {listed.id} ({listed.label}) made for {member.username}; it is "
                   "not shown again", err=True)


@user.command("list")
@pass_context
def user_list(ctx: Context) -> None:
    """List members."""
    for member in _accounts(ctx).members.users():
        click.echo(f"{member.username:<24} {member.email:<32} "
                   f"{'admin' if member.is_admin else '':<6} {member.created_at}")
