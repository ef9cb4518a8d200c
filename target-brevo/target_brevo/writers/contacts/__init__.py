"""Contacts, their attribute values, list memberships and blocklists (`writer.ContactWriter`)."""
