"""Brevo API v3 emulator: `app.py` (the account and its hooks), `routes/` (the handlers, one
module per resource), `store.py` (SQLite) and the rule modules beside them."""
