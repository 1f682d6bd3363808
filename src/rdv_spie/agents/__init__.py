"""Agents room: agents, their role in each organisation, API keys, guards."""
