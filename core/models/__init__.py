"""Model catalog and selection."""

from core.models.catalog import ModelCatalog, ModelInfo, Resolution, guess_vendor

__all__ = ["ModelCatalog", "ModelInfo", "Resolution", "guess_vendor"]
