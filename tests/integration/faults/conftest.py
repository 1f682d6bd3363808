"""Loopback SMTP and Twilio servers, settings pointing at them, and the job context."""

from tests.support.loopback import _fresh_servers, app, flow_settings, jobs, smtp, twilio

__all__ = ["_fresh_servers", "app", "flow_settings", "jobs", "smtp", "twilio"]
