"""Kept as an alias for code outside this service that still imports the settings from here; they
live in ``main.py`` (the composition root), like every service's settings."""

from services.notifications.main import CONFIG_KEY, Config, NotificationsConfig, current_config

__all__ = ["CONFIG_KEY", "Config", "NotificationsConfig", "current_config"]
