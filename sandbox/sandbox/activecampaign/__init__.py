"""ActiveCampaign API v3 emulator.

- `model.py`    typed records (ints, UTC epoch seconds, None), one dataclass per resource
- `generate.py` the seeded data set (`generate(contacts, seed)`)
- `store.py`    the in-memory account: tables, indexes, mutations
- `render.py`   typed records → AC's string-typed, account-local-time JSON shapes (vendor quirks)
- `query.py`    limit/offset, orders[...], filters[...], id_greater, date-filter semantics
- `state.py`    `ACState`: the account (store, settings, quirks) and its query caches
- `sideloads.py` `include=` and child-row sideloads, as tables (`CONTACT_INCLUDES`, `CHILDREN`)
- `routes/`     the `/api/3/...` routes: `collections.py` (declared in `COLLECTIONS`),
                `contacts.py` (keyset paging, `include=`), `common.py` (shared helpers)
- `control.py`  AC-only control routes: `/__sandbox/mutate`, `/__sandbox/clock`
- `dump.py`     `/__sandbox/dump`: typed, UTC, stream-shaped (contracts §3)
- `app.py`      CLI flags, auth, rate limit, error bodies; `build_app(args)`
"""
