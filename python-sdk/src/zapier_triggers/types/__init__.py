"""The contract's models (generated into ``_models.py`` by datamodel-code-generator)."""

from ._models import *  # noqa: F403
