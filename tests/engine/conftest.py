"""Fixtures for engine tests; helpers live in engine_support."""

from engine_support import platform

__all__ = ["platform"]
