"""The model catalog, in four parts:

- `models`: what each model takes according to Runware's documentation (services/models.toml,
  read into `VideoModel`s);
- `live`: the `Catalog` menus, cards and jobs use, which joins the file with what the live
  check (services/catalog_check.py) found Runware serving today;
- `choices`: the one check of a user's choice (`validate_params`, `check_prompt`) and what one
  changed parameter does to the others (`apply_choice`);
- `task`: the videoInference task a valid choice becomes."""

from services.catalog.choices import (
    NEGATIVE_MIN,
    SEED_MAX,
    SEED_MIN,
    Problem,
    ValidParams,
    apply_choice,
    check_prompt,
    enumerate_choices,
    validate_params,
)
from services.catalog.live import AdvancedOffer, Catalog, LiveState, Withdrawal, load_catalog
from services.catalog.models import (
    CATALOG_PATH,
    CatalogError,
    Format,
    Mode,
    OptionSpec,
    OptionValue,
    VideoModel,
)
from services.catalog.task import video_task

__all__ = [
    "CATALOG_PATH",
    "NEGATIVE_MIN",
    "SEED_MAX",
    "SEED_MIN",
    "AdvancedOffer",
    "Catalog",
    "CatalogError",
    "Format",
    "LiveState",
    "Mode",
    "OptionSpec",
    "OptionValue",
    "Problem",
    "ValidParams",
    "VideoModel",
    "Withdrawal",
    "apply_choice",
    "check_prompt",
    "enumerate_choices",
    "load_catalog",
    "validate_params",
    "video_task",
]
