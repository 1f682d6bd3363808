"""Every word a person reads, rendered: the Jinja environment over templates/, French
filters, SMS in GSM-7."""
