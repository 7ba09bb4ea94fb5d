"""The REST API: one router per resource, response models apart from the wire's payloads."""

from __future__ import annotations

from diagnostics.api.routes import api_router

__all__ = ["api_router"]
