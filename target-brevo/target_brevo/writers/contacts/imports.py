"""Imports: the batch's rows planned into `POST /contacts/import` calls, submitted, polled
and settled from their report CSVs. A row counts as written only when its import completed
and its report was read; rows refused for their phone number are imported again without it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import time
import typing as t
from dataclasses import dataclass, field

from target_brevo.errors import BrevoSystemic
from target_brevo.serialize import dumps
from target_brevo.writers.contacts.import_plan import plan_imports
from target_brevo.writers.contacts.rows import Row

if t.TYPE_CHECKING:
    from target_brevo.context import WriteContext
    from target_brevo.writers.contacts.rows import ContactBatch

LOGGER = logging.getLogger("target_brevo.contacts")


@dataclass
class Import:
    """One submitted import and the rows it carries, in jsonBody order."""

    rows: list[Row]
    list_ids: list[int]
    blocklist: bool
    process_id: int | None = None
    submitted_at: float = 0.0
    status: str = "queued"
    info: dict[str, t.Any] = field(default_factory=dict)
    # False when the report could not be read as documented (no URLs, no CSV header): its
    # rows count as written only when the read-back finds them
    report_trusted: bool = True


class Importer:
    """Plans, submits, polls and settles the imports of one flush."""

    def __init__(self, ctx: WriteContext, batch: ContactBatch) -> None:
        self.ctx = ctx
        self.batch = batch

    def import_rows(self, master: int) -> tuple[list[Import], dt.datetime]:
        """Import the batch's rows (then the membership-only imports); returns the contact
        imports and the time from which the read-back looks for their changes."""
        imports: list[Import] = []
        min_rows = self.ctx.settings.membership_import_min_rows
        planned, membership_imports = plan_imports(self.batch, min_rows)
        for lists, blocklist, rows in planned:
            for chunk in self.chunks(rows):
                imports.append(Import(rows=chunk, list_ids=sorted(lists), blocklist=blocklist))
        since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=15)  # allow for clock skew
        for imp in imports:
            self.submit(imp, master)
        if imports:
            self.wait(imports)
        if membership_imports:  # after the contacts exist: EXT_ID-only rows join big lists
            later = [
                Import(rows=chunk, list_ids=[list_id], blocklist=False)
                for list_id, rows in membership_imports
                for chunk in self.chunks(rows)
            ]
            for imp in later:
                self.submit(imp, master)
            self.wait(later)
            for imp in later:
                for kind, entries in self.report(imp).items():
                    for row, reason in entries:
                        self.ctx.rejects.add(
                            row.stream or "contacts", row.key, kind, reason, "list"
                        )
        return imports, since

    def settle(self, imports: list[Import], master: int) -> tuple[set[int], list[Row]]:
        """Read the imports' reports: rejects, phone fix-up imports, and the rows whose
        EXT_ID exists with another email. Returns (ids of failed rows, email changes)."""
        failed: set[int] = set()
        fixups: list[Row] = []
        email_changes: list[Row] = []
        problems: dict[int, tuple[Row, dict[str, str]]] = {}
        for imp in imports:
            for kind, entries in self.report(imp).items():
                for row, reason in entries:
                    problems.setdefault(id(row), (row, {}))[1][kind] = reason
        for row, kinds in problems.values():
            stream = row.stream or "contacts"
            key = row.key if row.key is not None else row.ext_id
            if "invalid_sms" in kinds:
                self.ctx.rejects.add(
                    stream, key, "invalid_sms", kinds.pop("invalid_sms"), "SMS", written=True
                )
            if not kinds:
                continue  # imported, without the SMS
            failed.add(id(row))
            if "invalid_emails" in kinds:
                self.ctx.rejects.add(stream, key, "invalid_email", kinds["invalid_emails"], "email")
                if row.ext_id:
                    self.ctx.rejected_contacts.add(row.ext_id)
            elif "duplicate_ext_id" in kinds and row.email and row.ext_id:
                email_changes.append(row)  # the source changed the email of this EXT_ID
            elif set(kinds) == {"duplicate_phone_id"}:
                self.ctx.rejects.add(
                    stream,
                    key,
                    "duplicate_phone",
                    f"SMS {row.sms} belongs to another Brevo contact; written without it",
                    "SMS",
                    written=True,
                )
                row.sms = None
                fixups.append(row)
            else:
                for kind, reason in kinds.items():
                    self.ctx.rejects.add(stream, key, kind, reason)
        if fixups:  # rows refused for their phone number: again, without it
            by_flags: dict[tuple[frozenset[int], bool], list[Row]] = {}
            for row in fixups:
                by_flags.setdefault((frozenset(row.lists), row.blocklist), []).append(row)
            fix_imports = [
                Import(rows=chunk, list_ids=sorted(lists), blocklist=bl)
                for (lists, bl), rows in by_flags.items()
                for chunk in self.chunks(rows)
            ]
            for imp in fix_imports:
                self.submit(imp, master)
            self.wait(fix_imports)
            fix_failed: set[int] = set()
            for imp in fix_imports:
                for kind, entries in self.report(imp).items():
                    for row, reason in entries:
                        self.ctx.rejects.add(row.stream or "contacts", row.key, kind, reason)
                        fix_failed.add(id(row))
            for row in fixups:
                if id(row) not in fix_failed:
                    failed.discard(id(row))
        return failed, email_changes

    def chunks(self, rows: list[Row]) -> list[list[Row]]:
        limit = self.ctx.settings.import_max_bytes
        chunks: list[list[Row]] = []
        current: list[Row] = []
        size = 2
        for row in rows:
            row_size = len(dumps(row.body()).encode()) + 1
            if current and size + row_size > limit:
                chunks.append(current)
                current, size = [], 2
            current.append(row)
            size += row_size
        if current:
            chunks.append(current)
        return chunks

    def submit(self, imp: Import, master: int) -> None:
        body: dict[str, t.Any] = {
            "jsonBody": [r.body() for r in imp.rows],
            "listIds": sorted({master, *imp.list_ids}),
            "updateExistingContacts": True,
            "emptyContactsAttributes": True,
            "disableNotification": True,
        }
        if imp.blocklist:
            body["emailBlacklist"] = True  # never send a false blocklist flag
        # An import is an idempotent upsert: retrying one that may have run is safe.
        resp = self.ctx.client.request("POST", "/contacts/import", body=body, idempotent=True)
        imp.process_id = int(resp.body["processId"])
        imp.submitted_at = time.monotonic()
        self.ctx.imported_rows += len(imp.rows)
        self.ctx.count("imports")
        self.ctx.count("import_rows", len(imp.rows))

    def wait(self, imports: list[Import]) -> None:
        """Wait for the imports to complete, polling sparingly (the `/processes` bucket
        allows 100 requests an hour).

        Each poll is one `GET /processes?limit=50` that answers for every import of the
        flush; an import the listing does not show (older than the account's 50 newest
        processes) or shows completed without its report is asked for by id. The first poll
        comes an estimate (proportional to the rows) after the last submit. Brevo runs an
        account's imports one after another, so the next waits for the imports still pending
        at the pace measured so far (or, before any completed, twice the last wait).
        """
        if not imports:
            return
        settings = self.ctx.settings
        timeout = settings.import_timeout_seconds
        started = time.monotonic()
        estimates = [
            settings.poll_initial_seconds
            + settings.poll_seconds_per_1000_rows * len(imp.rows) / 1000.0
            for imp in imports
        ]
        first_submit = min(imp.submitted_at for imp in imports)
        last = max(imports, key=lambda imp: imp.submitted_at)
        ready_at = last.submitted_at + estimates[imports.index(last)]
        self.ctx.client.sleep(max(0.0, ready_at - time.monotonic()))
        delay = max(estimates)
        pending = {int(imp.process_id): imp for imp in imports if imp.process_id is not None}
        while pending:
            listed = self._listed_processes() if len(pending) > 1 else {}
            for pid, imp in list(pending.items()):
                body = listed.get(pid)
                if body is None or (
                    str(body.get("status")) == "completed" and "info" not in body
                ):
                    body = self.ctx.client.get(f"/processes/{pid}") or {}
                    self.ctx.count("polls")
                imp.status = str(body.get("status", "queued"))
                imp.info = body.get("info") or {}
                if imp.status in ("failed", "cancelled"):
                    msg = f"import process {pid} ended {imp.status}"
                    raise BrevoSystemic(msg)
                if imp.status == "completed":
                    del pending[pid]
            if not pending:
                return
            if time.monotonic() - started > timeout:
                msg = f"import {min(pending)} not completed after {timeout:.0f}s"
                raise BrevoSystemic(msg)
            completed = len(imports) - len(pending)
            if completed:  # the pace so far, for the ones left
                pace = (time.monotonic() - first_submit) / completed
                delay = max(min(0.5, min(estimates)), pace * len(pending))
            else:
                delay *= 2
            delay = min(settings.poll_max_seconds, delay)
            self.ctx.client.sleep(delay)

    def _listed_processes(self) -> dict[int, dict[str, t.Any]]:
        """The account's 50 newest processes by id (one request)."""
        body = self.ctx.client.get("/processes", {"limit": 50, "offset": 0, "sort": "desc"})
        self.ctx.count("polls")
        out: dict[int, dict[str, t.Any]] = {}
        for process in (body or {}).get("processes") or []:
            if isinstance(process, dict) and process.get("id") is not None:
                try:
                    out[int(process["id"])] = process
                except (TypeError, ValueError):
                    continue
        return out

    def report(self, imp: Import) -> dict[str, list[tuple[Row, str]]]:
        """Read the completed import's report CSVs: kind → [(row, reason)]."""
        out: dict[str, list[tuple[Row, str]]] = {}
        reports = imp.info.get("import") if isinstance(imp.info, dict) else None
        if not isinstance(reports, dict):
            LOGGER.warning("import %s: no report in the process answer", imp.process_id)
            imp.report_trusted = False
            reports = {}
        for kind, url in reports.items():
            if url in (None, "", 0):
                continue
            if not isinstance(url, str) or not url.lower().startswith(("http://", "https://")):
                LOGGER.warning(
                    "import %s: report %s is %r, not a URL; its rows are checked by reading "
                    "them back",
                    imp.process_id,
                    kind,
                    url,
                )
                imp.report_trusted = False
                continue
            text = self.ctx.client.get_report(url)
            self.ctx.count("report_reads")
            reader = csv.DictReader(io.StringIO(text), delimiter=";")
            names = {str(n).strip().lower() for n in (reader.fieldnames or [])}
            if "row" not in names and not names & {"email", "ext_id"}:
                LOGGER.warning(
                    "import %s: report %s has no row;email;ext_id header; its rows are "
                    "checked by reading them back",
                    imp.process_id,
                    kind,
                )
                imp.report_trusted = False
                continue
            for line in reader:
                try:
                    index = int(line.get("row") or -1)
                except ValueError:
                    index = -1
                if 0 <= index < len(imp.rows):
                    row = imp.rows[index]
                else:  # fall back to the identifiers in the line
                    row = next(
                        (
                            r
                            for r in imp.rows
                            if (line.get("ext_id") and r.ext_id == line.get("ext_id"))
                            or (line.get("email") and r.email == line.get("email"))
                        ),
                        Row(ext_id=line.get("ext_id") or None, email=line.get("email") or None),
                    )
                out.setdefault(kind, []).append((row, str(line.get("reason") or kind)))
        return out
