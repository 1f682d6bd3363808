"""Domain errors: services raise these; web/errors.py maps them to problem details or pages.

Each carries a stable ``code`` (for clients and for French page templates), an English
``detail`` a developer can act on, and the ``field`` it is about when there is one.

Every ``DomainError`` there is, with the HTTP status it answers (the API's problem details and
the page's status alike) and its default code; a class defined outside this module is named by
its module under ``rdv_spie`` (``tests/unit/test_error_tree.py`` holds the drawing to the code)::

    DomainError                          400  invalid
    ├── Invalid                          422  invalid
    │   └── people.table.CsvFormatError  422  a code per fault (empty_file, undecodable…)
    ├── NotFound                         404  not_found
    ├── Conflict                         409  conflict
    ├── Forbidden                        403  forbidden
    ├── Unauthorized                     401  unauthorized
    ├── Expired                          410  expired
    └── web.ratelimit.TooManyRequests    429  rate_limited, with Retry-After

A page gets the French words of its code (pages/error.html); ``link_invalid`` gets the page of
an unknown invitation link. Not domain errors: a transport's ``DeliveryError`` (retried or
recorded by the deliverer, never an HTTP answer) and ``web.auth.LoginRequired`` (a redirect to
the login form).
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
