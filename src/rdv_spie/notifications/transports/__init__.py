"""Transports: how a rendered message leaves (SMTP, Twilio, files). Only ``notifications``
imports this package."""
