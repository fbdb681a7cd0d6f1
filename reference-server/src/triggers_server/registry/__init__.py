"""Schema registry: JSON Schema 2020-12 payload validation and the seven compatibility modes."""

from .compat import CompatibilityMode, Incompatibility
from .validation import InvalidSchema, SchemaValidationFailed

__all__ = ["CompatibilityMode", "Incompatibility", "InvalidSchema", "SchemaValidationFailed"]
