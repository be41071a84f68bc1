"""Checking the catalog against what Runware serves today.

Runware publishes its model registry (`<schemas>/registry.json`) and each model's request schema
(`<schemas>/resolve/<AIR>`). At start-up and every few hours the checker (`checker`):
- marks catalog models missing from the registry as retired (menus drop them; cards, "Again"
  and remembered settings move to the successor the catalog names in `replaces`);
- validates every request the catalog can make for each live model against its schema
  (jsonschema) and withdraws the combinations it refuses;
- keeps the last known state in the database (`model_state`), so a restart without network
  keeps it, and tells the admins once per change.
A schema service that is down or answers nonsense changes nothing. Before every submit the
runner asks `refusal()`: an invalid request never leaves. `schemas`: the requests each model
is checked with, what a refusal withdraws, and how a model's state changed."""

from services.catalog_check.checker import CatalogChecker
from services.catalog_check.schemas import (
    ModelState,
    SchemaServiceError,
    first_error,
    requests_of,
    withdrawals,
)

__all__ = [
    "CatalogChecker",
    "ModelState",
    "SchemaServiceError",
    "first_error",
    "requests_of",
    "withdrawals",
]
