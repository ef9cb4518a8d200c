"""The writers: each turns one kind of staged batch into Brevo requests (attributes, lists,
contacts and their memberships, campaigns, events, webhook events), in the flush order of
sync.py."""
