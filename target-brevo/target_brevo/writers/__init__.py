"""The writers: each turns one kind of staged batch into Brevo requests."""
