"""Midjourney through the gateway: client, task tracking, commands and buttons.

``core.midjourney.service.Midjourney`` is created by ``ChatCore`` (``core.midjourney``
attribute ``ChatCore.midjourney``); see docs/ARCHITECTURE.md ("Midjourney").
"""
