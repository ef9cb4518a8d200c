"""Brevo's flat error bodies: ``{"code", "message"[, "metadata"]}`` (notes §8)."""

from __future__ import annotations

from typing import Any


class BrevoError(Exception):
    """Raised by the store and handlers; the app turns it into Brevo's JSON error body."""

    def __init__(
        self, status: int, code: str, message: str, metadata: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.metadata = metadata

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.metadata is not None:
            out["metadata"] = self.metadata
        return out


def not_found(message: str) -> BrevoError:
    return BrevoError(404, "document_not_found", message)


def invalid(message: str, metadata: dict[str, Any] | None = None) -> BrevoError:
    return BrevoError(400, "invalid_parameter", message, metadata)


def missing(message: str) -> BrevoError:
    return BrevoError(400, "missing_parameter", message)
