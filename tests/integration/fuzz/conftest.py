"""The authorization matrix's application and client, for the form fuzz (it walks the same
pages as the matrix, with the same actors)."""

from tests.integration.authz.conftest import authz_app, authz_client, authz_settings

__all__ = ["authz_app", "authz_client", "authz_settings"]
