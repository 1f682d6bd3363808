"""Domain errors: services raise these; web/errors.py maps them to problem details or pages.

Each carries a stable ``code`` (for clients and for French page templates), an English
``detail`` a developer can act on, and the ``field`` it is about when there is one.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a service raises on purpose."""

    status = 400
    default_code = "invalid"

    def __init__(self, detail: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.code = code or self.default_code


class Invalid(DomainError):
    """The request is well-formed but breaks a rule (bad date, overlapping rule…)."""

    status = 422
    default_code = "invalid"


class NotFound(DomainError):
    """The thing does not exist, or the caller may not know it exists."""

    status = 404
    default_code = "not_found"


class Conflict(DomainError):
    """The request lost against the current state (slot just taken, key reused…)."""

    status = 409
    default_code = "conflict"


class Forbidden(DomainError):
    """The caller is known but not allowed to do this."""

    status = 403
    default_code = "forbidden"


class Unauthorized(DomainError):
    """No or bad credentials."""

    status = 401
    default_code = "unauthorized"


class Expired(DomainError):
    """A link, token or deadline has passed."""

    status = 410
    default_code = "expired"
