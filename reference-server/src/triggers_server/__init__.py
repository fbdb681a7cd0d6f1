"""Triggers reference server: the stateful implementation of openapi.yaml that SDKs are tested against."""

__version__ = "0.1.0"
