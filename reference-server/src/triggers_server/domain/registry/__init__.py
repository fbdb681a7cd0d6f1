"""Schema registry: JSON Schema 2020-12 payload validation and the seven compatibility modes."""

from triggers_server.domain.registry.compat import CompatibilityMode, Incompatibility
from triggers_server.domain.registry.validation import InvalidSchema, SchemaValidationFailed

__all__ = ["CompatibilityMode", "Incompatibility", "InvalidSchema", "SchemaValidationFailed"]
