"""``mma cipher``: make a store cipher key."""

from __future__ import annotations

import click

from mma_core.language.cli import TranslatedCommand, TranslatedGroup


def register(cli: click.Group) -> None:
    """Add the ``cipher`` group to ``cli``."""
    cli.add_command(cipher)


@click.group(cls=TranslatedGroup)
def cipher() -> None:
    """The store cipher key (MMA_CIPHER_KEY): make a new one and rotate to it."""


@click.command("new-key", cls=TranslatedCommand)
def new_key() -> None:
    """Print a fresh 256-bit key on stdout; how to rotate to it on stderr.

    \b
    Rotation: put the new key first and keep the old ones after it,
        MMA_CIPHER_KEY="NEW,OLD"
    New events are sealed with NEW; events sealed with OLD still open while OLD is in the list.
    A key file (MMA_CIPHER_KEY_FILE) holds the same comma-separated list.
    """
    from mma_core.storage.cipher import ENV_KEY, new_key

    key = new_key()
    click.echo(key)
    click.echo(
        f"Keep this key secret and backed up: without it the store cannot be read.\n"
        f"New store:   {ENV_KEY}=<new key>\n"
        f'Rotation:    {ENV_KEY}="<new key>,<current key(s)>" (newest first; keep every key '
        "that sealed an event)",
        err=True,
    )


cipher.add_command(new_key)
