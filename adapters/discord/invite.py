"""The OAuth2 URL that adds the bot to a server with the permissions it needs."""

from __future__ import annotations

from urllib.parse import urlencode

import discord

SCOPES = ("bot", "applications.commands")
"""OAuth2 scopes: the bot user plus slash commands."""


def required_permissions() -> discord.Permissions:
    """Channel permissions the adapter uses (threads, files, history, commands)."""
    return discord.Permissions(
        view_channel=True,
        send_messages=True,
        send_messages_in_threads=True,
        create_public_threads=True,
        read_message_history=True,
        attach_files=True,
        embed_links=True,
        add_reactions=True,
        use_application_commands=True,
    )


def invite_url(application_id: int) -> str:
    """The invite link for ``application_id`` (scopes ``bot`` + ``applications.commands``)."""
    query = urlencode(
        {
            "client_id": str(application_id),
            "permissions": str(required_permissions().value),
            "scope": " ".join(SCOPES),
        }
    )
    return f"https://discord.com/oauth2/authorize?{query}"
