"""``POST /contacts/import``: the asynchronous bulk upsert and its process (notes §2.6 to §2.7,
docs/contracts.md §4).

At request time (``check_request``): exactly one of ``fileUrl``/``fileBody``/``jsonBody``; each
body at most 10 MB (400 ``invalid_parameter``); ``listIds`` or ``newList`` (400
``missing_parameter``); the lists (and ``newList.folderId``) must exist (400); a non-empty
``consentGroupIds`` → 403 (consent groups are not enabled on the sandbox account). The answer is
202 ``{"processId"}`` and the process is ``queued``.

``ImportWorker`` runs processes one at a time, in order: ``queued`` → ``in_process`` after half
the import delay → ``completed`` (or ``failed``) after the full delay. The import's effects are
applied at completion, atomically, in one SQLite transaction (``apply_import``); a ``fileUrl``
import fails (the sandbox never fetches remote files), as does one whose lists were deleted
meanwhile, and the next N imports when ``POST /__sandbox/imports {"fail_next": N}`` asks so.
Processes still pending when the server stops are picked up again at start (``--db`` file).

Row rules (contracts §4): a ``jsonBody`` row is ``{"email", "attributes": {"EXT_ID", "SMS",
...}}``; a ``fileBody`` is semicolon CSV whose header names attributes (``EMAIL`` for the email,
header names upper-cased; cells typed by the attribute: float, boolean ``true/false/yes/no/1/0``,
category integer, multiple-choice ``a,b``; an empty cell is an empty value). A row is the
contact of its first identifier (email, else EXT_ID, else SMS; a new contact when nobody holds
it); a row whose other identifiers belong to a different contact (a new email with a taken EXT_ID
or SMS included) is not imported (``duplicate_email_id``/``duplicate_ext_id``/
``duplicate_phone_id``); an identifier
repeated inside the import keeps the first row; an invalid email rejects the row
(``invalid_emails``), as does a row without any identifier; an invalid SMS is dropped from the
row (``invalid_sms``). Unknown attributes are ignored, wrong-typed values not stored; with
``emptyContactsAttributes`` (and ``updateExistingContacts``) an empty value erases. With
``updateExistingContacts: false`` a matched contact is only added to the lists. ``listIds`` (and
the ``newList``, created at completion) get every imported row; ``emailBlacklist`` /
``smsBlacklist`` blocklist every imported row.

Reports: ``info.import`` maps each kind to a URL (``/import-reports/<pid>/<kind>.csv`` on the
sandbox's origin, outside ``/v3``: no auth, no rate limit) or null when it has no rows. The CSV is
``row;email;ext_id;sms;reason`` with a header; ``row`` is the 0-based row index.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from sandbox.brevo import attributes as attrs_mod
from sandbox.brevo.errors import BrevoError, invalid, missing
from sandbox.brevo.identifiers import is_valid_email, normalize_email, normalize_sms
from sandbox.brevo.store import Contact, Store

log = logging.getLogger("sandbox.brevo.imports")

MAX_BODY_BYTES = 10 * 1024 * 1024
REPORT_KINDS = (
    "invalid_emails",
    "invalid_sms",
    "duplicate_contact_id",
    "duplicate_ext_id",
    "duplicate_email_id",
    "duplicate_phone_id",
)
DUPLICATE_KIND = {"email": "duplicate_email_id", "ext_id": "duplicate_ext_id",
                  "sms": "duplicate_phone_id"}
LABEL = {"email": "email", "ext_id": "EXT_ID", "sms": "SMS"}
REPORT_HEADER = "row;email;ext_id;sms;reason"
PROCESS_NAME = "IMPORTUSER"


class ImportFailed(Exception):
    """The process ends ``failed`` with this message; nothing is applied."""


def check_request(store: Store, body: dict[str, Any], raw_size: int) -> None:
    """The request-time checks of ``POST /contacts/import`` (raises ``BrevoError``)."""
    sources = [k for k in ("fileUrl", "fileBody", "jsonBody") if body.get(k) is not None]
    if not sources:
        raise missing("One of fileUrl, fileBody or jsonBody is required")
    if len(sources) > 1:
        raise invalid(f"Pass only one of fileUrl, fileBody or jsonBody (got {', '.join(sources)})")
    if "fileBody" in sources and len(body["fileBody"].encode()) > MAX_BODY_BYTES:
        raise invalid("fileBody exceeds the maximum allowed size of 10 MB")
    if "jsonBody" in sources:
        if raw_size > MAX_BODY_BYTES and len(orjson.dumps(body["jsonBody"])) > MAX_BODY_BYTES:
            raise invalid("jsonBody exceeds the maximum allowed size of 10 MB")
        if not body["jsonBody"]:
            raise missing("jsonBody is empty")
    list_ids = list(body.get("listIds") or [])
    new_list = body.get("newList")
    if not list_ids and not new_list:
        raise missing("listIds or newList is required")
    unknown = sorted(set(list_ids) - store.existing_list_ids(list_ids))
    if unknown:
        raise invalid(f"listIds: list(s) {', '.join(map(str, unknown))} do not exist")
    if new_list is not None:
        if not new_list.get("listName"):
            raise missing("newList.listName is missing")
        folder_id = new_list.get("folderId")
        if folder_id is not None and store.folder(folder_id) is None:
            raise invalid(f"newList.folderId: folder {folder_id} does not exist")
    if body.get("consentGroupIds"):
        raise BrevoError(
            403, "permission_denied",
            "CONSENT_GROUP_NOT_ENABLED: consent groups are not enabled on this account",
        )


@dataclass
class _Row:
    index: int
    email: str | None
    ext_id: str | None
    sms: str | None
    attributes: dict[str, Any]


def _csv_value(attr: attrs_mod.AttributeDef, text: str) -> Any:
    """A CSV cell as the attribute's type wants it (left as text when it doesn't parse)."""
    t = attr.type
    if text == "":
        return ""
    try:
        if t == "float":
            return float(text) if any(ch in text for ch in ".eE") else int(text)
        if t in ("category", "id"):
            return int(text)
    except ValueError:
        return text
    if t == "boolean":
        low = text.strip().lower()
        if low in ("true", "yes", "1"):
            return True
        if low in ("false", "no", "0"):
            return False
        return text
    if t == "multiple-choice":
        return [p.strip() for p in text.split(",") if p.strip()]
    return text


def _rows_from_csv(text: str, defs: dict[str, attrs_mod.AttributeDef]) -> list[dict[str, Any]]:
    reader = csv.reader(io.StringIO(text), delimiter=";")
    try:
        header = [h.strip().upper() for h in next(reader)]
    except StopIteration:
        raise ImportFailed("fileBody is empty") from None
    if not {"EMAIL", "EXT_ID", "SMS"} & set(header):
        raise ImportFailed("fileBody has no EMAIL, EXT_ID or SMS column")
    rows: list[dict[str, Any]] = []
    for cells in reader:
        if not any(c.strip() for c in cells):
            continue
        row: dict[str, Any] = {"attributes": {}}
        for name, cell in zip(header, cells, strict=False):
            if name == "EMAIL":
                row["email"] = cell.strip()
            elif name in ("EXT_ID", "SMS"):
                row["attributes"][name] = cell.strip()
            elif name in defs:
                row["attributes"][name] = _csv_value(defs[name], cell)
        rows.append(row)
    return rows


def _identifier(value: Any) -> str | None:
    if value is None or value == "" or isinstance(value, bool | dict | list):
        return None
    return str(value)


def apply_import(store: Store, process_id: int, body: dict[str, Any]) -> dict[str, Any]:
    """Apply one import in one transaction; returns the process ``info`` (report counts)."""
    if body.get("fileUrl") is not None:
        raise ImportFailed("fileUrl imports are not supported by the sandbox (no remote fetch)")
    defs = store.attributes()
    if body.get("fileBody") is not None:
        raw_rows = _rows_from_csv(body["fileBody"], defs)
    else:
        raw_rows = list(body.get("jsonBody") or [])
    update_existing = body.get("updateExistingContacts", True) is not False
    erase_empty = bool(body.get("emptyContactsAttributes")) and update_existing
    email_block = bool(body.get("emailBlacklist"))
    sms_block = bool(body.get("smsBlacklist"))
    list_ids = list(dict.fromkeys(body.get("listIds") or []))
    if set(list_ids) - store.existing_list_ids(list_ids):
        raise ImportFailed("a list of the import no longer exists")

    reports: list[tuple[str, int, Any, Any, Any, str]] = []
    rows: list[_Row] = []
    seen: dict[str, dict[str, int]] = {"email": {}, "ext_id": {}, "sms": {}}
    for index, raw in enumerate(raw_rows):
        attrs: dict[str, Any] = dict(raw.get("attributes") or {})
        email_raw = raw.get("email")
        ext_id = _identifier(attrs.get("EXT_ID"))
        sms_raw = attrs.get("SMS")
        email: str | None = None
        if email_raw not in (None, ""):
            if not isinstance(email_raw, str) or not is_valid_email(email_raw):
                reports.append(("invalid_emails", index, email_raw, ext_id, sms_raw,
                                "invalid email address"))
                continue
            email = normalize_email(email_raw)
        sms: str | None = None
        if sms_raw not in (None, ""):
            sms = normalize_sms(sms_raw)
            if sms is None:
                reports.append(("invalid_sms", index, email, ext_id, sms_raw,
                                "invalid phone number (country code required); SMS not imported"))
        if not (email or ext_id or sms):
            reports.append(("invalid_emails", index, email_raw, ext_id, sms_raw,
                            "no email, EXT_ID or SMS to identify the contact"))
            continue
        values = {"email": email, "ext_id": ext_id, "sms": sms}
        repeated = [k for k, v in values.items() if v and v in seen[k]]
        if repeated:
            for k in repeated:
                first = seen[k][values[k] or ""]
                reports.append((DUPLICATE_KIND[k], index, email, ext_id, sms,
                                f"{LABEL[k]} repeated in this import (kept row {first})"))
            continue
        for k, v in values.items():
            if v:
                seen[k][v] = index
        rows.append(_Row(index, email, ext_id, sms, attrs))

    by = {
        "email": store.contacts_by_column("email", [r.email for r in rows if r.email]),
        "ext_id": store.contacts_by_column("ext_id", [r.ext_id for r in rows if r.ext_id]),
        "sms": store.contacts_by_column("sms", [r.sms for r in rows if r.sms]),
    }
    stamp = store.now()
    created: list[Contact] = []
    updated: dict[int, Contact] = {}
    members: list[int] = []
    touched: list[int] = []

    def reindex(c: Contact, old: dict[str, str | None]) -> None:
        for k in ("email", "ext_id", "sms"):
            new = getattr(c, k)
            if old[k] != new:
                if old[k] is not None:
                    by[k].pop(old[k], None)  # type: ignore[arg-type]
                if new is not None:
                    by[k][new] = c

    for row in rows:
        values = {"email": row.email, "ext_id": row.ext_id, "sms": row.sms}
        owners = {k: by[k][v] for k, v in values.items() if v and v in by[k]}
        # The row's first identifier (email, else EXT_ID, else SMS) decides which contact it is;
        # a row with an unknown email is a new contact even if its SMS or EXT_ID is taken, and
        # then reported as a duplicate below (never merged into the holder of that SMS).
        primary = next(k for k in ("email", "ext_id", "sms") if values[k])
        target = owners.get(primary)
        if target is None and len(owners) > 0:
            for k in owners:
                reports.append((DUPLICATE_KIND[k], row.index, row.email, row.ext_id, row.sms,
                                f"{LABEL[k]} belongs to another contact"))
            continue
        if target is not None:
            clashes = [k for k, c in owners.items() if c.id != target.id]
            if clashes:
                for k in clashes:
                    reports.append((DUPLICATE_KIND[k], row.index, row.email, row.ext_id, row.sms,
                                    f"{LABEL[k]} belongs to another contact"))
                continue
        is_new = target is None
        if target is None:
            target = Contact(id=0, email=None, ext_id=None, sms=None, attributes={},
                             email_blacklisted=False, sms_blacklisted=False,
                             created_at=stamp, modified_at=stamp)
        elif not update_existing:
            members.append(target.id)
            touched.append(target.id)
            continue
        old = {"email": target.email, "ext_id": target.ext_id, "sms": target.sms}
        if row.email and row.email != target.email:
            if target.email is not None:
                target.email_blacklisted = False
            target.email = row.email
        if row.ext_id:
            target.ext_id = row.ext_id
        if row.sms:
            target.sms = row.sms
        for name, value in row.attributes.items():
            if name in ("EXT_ID", "SMS", "EMAIL"):
                continue
            attr = defs.get(name)
            if attr is None:
                continue
            if attrs_mod.is_empty(value):
                if erase_empty and not is_new:
                    target.attributes.pop(name, None)
                continue
            coerced = attrs_mod.coerce_value(attr, value)
            if not attrs_mod.is_skip(coerced):
                target.attributes[name] = coerced
        if email_block:
            target.email_blacklisted = True
        if sms_block:
            target.sms_blacklisted = True
        target.modified_at = stamp
        if is_new:
            created.append(target)
        else:
            updated[target.id] = target
        reindex(target, old)

    with store.transaction():
        new_list = body.get("newList")
        if new_list:
            folder_id = new_list.get("folderId")
            if folder_id is None:
                folders, _ = store.folders(1, 0, "asc")
                folder_id = folders[0]["id"] if folders else store.create_folder("Imports")
            list_ids.append(store.create_list(new_list["listName"], folder_id))
        # Identifiers can move between contacts within one import (X gives up an email that a
        # later row gives to Y): clear them first so no intermediate state breaks UNIQUE.
        store.clear_identifiers(list(updated))
        store.update_contacts(list(updated.values()))
        for c in created:
            store.insert_contact(c)
        store.touch_contacts(touched, stamp)
        ids = [c.id for c in created] + list(updated) + members
        store.add_to_lists([(lid, cid) for lid in list_ids for cid in ids], stamp)
        store.insert_reports(process_id, reports)
        counts = {k: 0 for k in REPORT_KINDS}
        for r in reports:
            counts[r[0]] += 1
        info = {
            "reports": counts,
            "created": len(created),
            "updated": len(updated),
            "unchanged": len(members),
            "listIds": list_ids,
        }
        store.set_process_status(process_id, "completed", info=info)
    return info


REPORT_MODES = ("urls", "counts", "no_header")


def process_api(process: dict[str, Any], origin: str, mode: str = "urls") -> dict[str, Any]:
    """A process as ``GET /processes/{id}`` answers it. ``mode`` (``POST /__sandbox/imports
    {"reports": ...}``): ``urls`` (default), ``counts`` (``info.import`` holds the number of
    rows per kind instead of URLs, as Brevo's own mock answers show)."""
    out: dict[str, Any] = {"id": process["id"], "name": process["name"],
                           "status": process["status"]}
    info = process.get("info")
    if process["status"] == "completed" and process["name"] == PROCESS_NAME and info:
        counts = info.get("reports", {})
        if mode == "counts":
            out["info"] = {"import": {kind: int(counts.get(kind) or 0) for kind in REPORT_KINDS}}
            return out
        out["info"] = {
            "import": {
                kind: (f"{origin}/import-reports/{process['id']}/{kind}.csv"
                       if counts.get(kind) else None)
                for kind in REPORT_KINDS
            }
        }
    if process["status"] == "failed" and process.get("error"):
        out["error"] = process["error"]
    return out


def report_csv(store: Store, process_id: int, kind: str, header: bool = True) -> str:
    """The CSV served at a report URL (``header=False``: the ``no_header`` report mode)."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";", lineterminator="\n")
    if header:
        buf.write(REPORT_HEADER + "\n")
    for row in store.report_rows(process_id, kind):
        writer.writerow(["" if v is None else v for v in row])
    return buf.getvalue()


class ImportWorker:
    """Runs queued import processes one after another on the event loop."""

    def __init__(self, store: Store, delay: float) -> None:
        self.store = store
        self.delay = max(0.0, delay)
        self.fail_next = 0
        self.reports = "urls"
        self._queue: asyncio.Queue[tuple[int, float]] | None = None
        self._task: asyncio.Task[None] | None = None
        self._generation = 0
        self.on_complete: Callable[[int], None] | None = None

    def _ensure(self) -> asyncio.Queue[tuple[int, float]]:
        if self._queue is None:
            self._queue = asyncio.Queue()
            self._task = asyncio.get_running_loop().create_task(self._run())
        return self._queue

    def submit(self, process_id: int) -> None:
        self._ensure().put_nowait((process_id, time.monotonic()))

    def resume_pending(self) -> None:
        for pid in self.store.pending_processes():
            self.submit(pid)

    def forget(self) -> None:
        """Called on reset: processes already queued are dropped."""
        self._generation += 1
        if self._queue is not None:
            while not self._queue.empty():
                self._queue.get_nowait()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        assert self._queue is not None
        while True:
            pid, submitted = await self._queue.get()
            generation = self._generation
            try:
                await self._process(pid, submitted, generation)
            except Exception:  # keep the worker alive for the next imports
                log.exception("import %s: worker error", pid)

    async def _process(self, pid: int, submitted: float, generation: int) -> None:
        half = submitted + self.delay / 2
        wait = half - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        if generation != self._generation or self.store.process(pid) is None:
            return
        self.store.set_process_status(pid, "in_process")
        wait = submitted + self.delay - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        if generation != self._generation or self.store.process(pid) is None:
            return
        raw = self.store.process_request(pid)
        try:
            if self.fail_next > 0:
                self.fail_next -= 1
                raise ImportFailed("Import failed (simulated by the sandbox)")
            if raw is None:
                raise ImportFailed("Import request lost")
            apply_import(self.store, pid, orjson.loads(raw))
        except ImportFailed as exc:
            self.store.set_process_status(pid, "failed", error=str(exc))
        except Exception as exc:  # a sandbox bug must not leave the process in_process
            log.exception("import %s failed", pid)
            self.store.set_process_status(pid, "failed", error=f"Internal error: {exc}")
        if self.on_complete is not None:
            self.on_complete(pid)
