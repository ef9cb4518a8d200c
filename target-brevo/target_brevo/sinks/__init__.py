"""Sinks stage records; writers put them into Brevo in dependency order."""
