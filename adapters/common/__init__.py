"""Platform-free presentation shared by the adapters (presenter, surface protocols)."""
