"""`workbench serve` and `workbench apikey create|list|revoke`."""

from __future__ import annotations

import click

from workbench.cli.common import Env, command_options, print_json, print_table
from workbench.core.permissions import DEFAULT_ROLE, ROLE_SUMMARIES, ROLES


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8000, show_default=True)
@click.option("--strict-limits", is_flag=True, help="Enforce the API's per-endpoint rate limits (429 with Retry-After).")
@command_options
def serve(env: Env, host: str, port: int, strict_limits: bool) -> None:
    """Serve the Tools API on /v1/{organization}/tool/... (OpenAPI document at /openapi.json)."""
    import uvicorn

    from workbench.server.app import create_app

    click.echo(f"serving the Tools API for data directory {env.settings.paths().home} on http://{host}:{port}", err=True)
    uvicorn.run(create_app(env.local_service("serving the Tools API"), strict_limits=strict_limits), host=host, port=port, log_level="warning")


@click.group("apikey")
def apikey_group() -> None:
    """API keys for signing in to `workbench serve` (per organization)."""


ROLE_HELP = "; ".join(f"{role}: {summary}" for role, summary in ROLE_SUMMARIES.items())


@apikey_group.command("create")
@click.option("--user", "user_id", default=None, help="The user the key signs in as (default: $WORKBENCH_USER or your login).")
@click.option("--name", default="", help="A note to recognise the key by.")
@click.option("--role", type=click.Choice(ROLES), default=DEFAULT_ROLE, show_default=True, help=f"What the key may do. {ROLE_HELP}.")
@command_options
def create(env: Env, user_id: str | None, name: str, role: str) -> None:
    """Create a key; its secret is shown this once and never again."""
    user = user_id or env.settings.user
    created = env.service.create_api_key(env.org, user, name, role)
    key_id, secret = created.id, created.secret
    if env.as_json:
        print_json({"id": key_id, "secret": secret, "org_id": env.org, "user_id": user, "role": role})
        return
    click.echo(f"API key ({role}) for user {user} in organization {env.org} (the secret is shown only now):")
    click.echo(f"  x-api-key-id: {key_id}")
    click.echo(f"  x-api-key:    {secret}")
    click.echo(f"  x-user-id:    {user}")


@apikey_group.command("list")
@command_options
def list_keys(env: Env) -> None:
    """The organization's keys and their roles (never their secrets)."""
    keys = env.service.list_api_keys(env.org)
    if env.as_json:
        print_json(keys)
        return
    print_table(
        f"API keys of {env.org}",
        ["ID", "USER", "ROLE", "NAME", "CREATED", "STATE"],
        ([k.id, k.user_id, k.role, k.name, f"{k.created_at:%Y-%m-%d %H:%M:%S}", "revoked" if k.revoked else "active"] for k in keys),
    )


@apikey_group.command("revoke")
@click.argument("key_id")
@command_options
def revoke(env: Env, key_id: str) -> None:
    """Revoke a key: its tokens stop working at once."""
    env.service.revoke_api_key(env.org, key_id)
    if not env.as_json:
        click.echo(f"revoked {key_id}")
