"""Tags the Singer way: a `tags` stream (tag id → name) plus a `contact_tags` stream (one row
per contact and tag) → the contact's `AC_TAGS` text attribute (`|customer|vip|`).

The shape of singer-io's tap-activecampaign 1.3.1 (the Meltano Hub default) and of this
repository's tap. A tag change rides in the contact's import row of the flush: no request of
its own (the batch's pre-read already shows what Brevo holds).

Neither shape sends a removal: ActiveCampaign deletes the contactTag row, so a removed tag is
only *absent*. What absence means depends on how the tap read the stream:

- **full scan** (every contact tag of the account; singer-io without a bookmark for the
  stream, i.e. a first sync or a full refresh): a contact's tags are exactly the rows seen for
  it in the run, so tags missing from them are removed; at the end of the run, contacts whose
  record came in this run without any row lose all their tags.
- **incremental** (only rows created or changed since the bookmark; singer-io with a
  bookmark): rows only add tags; removals wait for the next full scan.

`full_scan: "auto"` (default) decides per stream from the tap's STATE just before the stream's
first record: a bookmark for the stream means incremental. `true`/`false` force either.
A contact record that carries the tags itself (`contacts.tags`, this repository's tap) is the
whole set and wins over `contact_tags` rows in the same flush.
"""

from __future__ import annotations

import logging
import typing as t
from dataclasses import dataclass, field

from target_brevo.conversions import attribute_name, tags_value
from target_brevo.ext_id_set import ExtIdSet
from target_brevo.settings import DEFAULTS
from target_brevo.writers.contacts.rows import Row

if t.TYPE_CHECKING:
    from target_brevo.context import WriteContext
    from target_brevo.rejects import Rejects
    from target_brevo.staged import Staged
    from target_brevo.writers.contacts.rows import ContactBatch

LOGGER = logging.getLogger("target_brevo.tags")


def tag_names(value: t.Any) -> set[str]:
    """The names an `AC_TAGS` value (or a list of names) holds, normalised as written."""
    text = tags_value(value) if not isinstance(value, str) else value
    return {n for n in str(text or "").split("|") if n}


def normalised(name: str) -> str:
    return tags_value([name]).strip("|")


@dataclass
class TagChange:
    """What the rows of one contact say, for its row in the flush."""

    attribute: str
    names: set[str] = field(default_factory=set)
    replace: bool = False  # the names are the whole set (full scan)

    def value(self, current: t.Any) -> str:
        kept = set() if self.replace else tag_names(current)
        return tags_value(sorted(kept | self.names))


@dataclass(slots=True)
class _Touched:
    stream: str
    key: t.Any
    contact: t.Any
    attribute: str
    full_scan: bool


class TagSync:
    """Run-wide memory of tag names and contact tags (rows of a contact may come in several
    flushes, before or after its contact record)."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}  # tag id → name
        self.of_contact: dict[str, set[str]] = {}  # ext_id → tag ids seen in this run
        self.full_scan: dict[str, bool] = {}  # contact_tags stream → read in full?
        self.touched: dict[str, _Touched] = {}  # ext_id → its rows of the current flush
        self.last_touch: dict[str, _Touched] = {}  # ext_id → its latest rows in this run
        # ext_id → (stream, key): rows for a contact not (yet) in Brevo, applied when its
        # record comes later in the run, else reported at the end
        self.waiting: dict[str, tuple[str, t.Any]] = {}
        self.untagged: dict[str, str] = {}  # ext_id → attribute: records without tags
        # ext_ids whose contact record of this run carried its whole set of tags: their
        # contact_tags rows, in whatever flush, never override it
        self.carried = ExtIdSet()  # about one bit per contact (ext_id_set.py)
        self.unknown_reported: set[str] = set()
        self.final = False

    # -- input --------------------------------------------------------------------------
    def observe_stream(
        self, stream: str, mapping: t.Mapping[str, t.Any], state: t.Mapping[str, t.Any] | None
    ) -> None:
        """At a contact_tags stream's first record: full scan or incremental?"""
        if stream in self.full_scan:
            return
        option = mapping.get("full_scan", "auto")
        if isinstance(option, bool):
            self.full_scan[stream] = option
        else:
            bookmarks = (state or {}).get("bookmarks") or {}
            self.full_scan[stream] = stream not in bookmarks
        LOGGER.info(
            "%s: %s (tags absent from it are %s)",
            stream,
            "a full scan" if self.full_scan[stream] else "incremental",
            "removed" if self.full_scan[stream] else "kept until the next full scan",
        )

    def add_names(self, staged: Staged) -> None:
        id_field = staged.mapping.get("id", "id")
        name_field = staged.mapping.get("name", "tag")
        for record in staged.deduped():
            tag_id, name = record.get(id_field), record.get(name_field)
            if tag_id is not None and name is not None and str(name).strip():
                self.names[str(tag_id)] = str(name)

    def add_contact_tags(self, staged: Staged) -> None:
        mapping = staged.mapping
        prefix = str(mapping.get("ext_id_prefix") or DEFAULTS["ext_id_prefix"])
        contact_field, tag_field = mapping.get("contact", "contact"), mapping.get("tag", "tag")
        attribute = attribute_name(str(mapping.get("tags_attribute") or "AC_TAGS"))
        full = self.full_scan.get(staged.stream, False)
        for record in staged.deduped():
            contact, tag = record.get(contact_field), record.get(tag_field)
            if contact is None or tag is None:
                continue  # the sink reported it (missing key) or there is nothing to apply
            ext_id = f"{prefix}{contact}"
            if ext_id in self.carried:
                continue  # its contact record carried its tags: these rows change nothing
            self.of_contact.setdefault(ext_id, set()).add(str(tag))
            keys = [record.get(k) for k in staged.key_properties]
            key = keys[0] if len(keys) == 1 else (keys or (contact, tag))
            self.touched[ext_id] = _Touched(staged.stream, key, contact, attribute, full)
            self.last_touch[ext_id] = self.touched[ext_id]

    def note_contact(self, ext_id: str, attribute: str, *, carries_tags: bool) -> None:
        """A contact record of this run; without tags of its own it may lose them all at
        the end of a full scan of contact_tags that has no row for it."""
        if carries_tags:
            self.carried.add(ext_id)
            self.untagged.pop(ext_id, None)
            self.waiting.pop(ext_id, None)
            # nothing of its contact_tags rows is used again: only `carried` stays per
            # contact for the rest of the run (memory flat in the number of contacts)
            self.of_contact.pop(ext_id, None)
            self.last_touch.pop(ext_id, None)
            self.touched.pop(ext_id, None)
            return
        self.untagged.setdefault(ext_id, attribute)
        if ext_id in self.last_touch and ext_id not in self.touched:
            # its contact_tags rows came in an earlier flush (maybe before it existed)
            self.touched[ext_id] = self.last_touch[ext_id]
            self.waiting.pop(ext_id, None)

    def wait_for(self, row: Row) -> bool:
        """A row that only carries tags, for a contact Brevo does not have: kept for when
        its record comes later in the run (True), instead of an `unknown_contact` now."""
        change = row.tag_change
        if change is None or row.lists or set(row.attrs) - {change.attribute} or not row.ext_id:
            return False
        self.waiting[row.ext_id] = (row.stream or "contact_tags", row.key)
        return True

    def report_waiting(self, writer_rejects: t.Any) -> None:
        """End of the run: contacts whose tags came but whose record never did."""
        for ext_id, (stream, key) in sorted(self.waiting.items()):
            writer_rejects.add(
                stream,
                key,
                "unknown_contact",
                f"contact {ext_id} is not in Brevo and its record did not come in this run; "
                f"its tags were not written",
                "contact",
            )
        self.waiting.clear()

    # -- into the flush's rows ------------------------------------------------------------
    def _names_of(self, ids: set[str], touched: _Touched, rejects: Rejects) -> set[str]:
        out: set[str] = set()
        for tag_id in sorted(ids):
            name = self.names.get(tag_id)
            if name is None:
                if tag_id not in self.unknown_reported:
                    self.unknown_reported.add(tag_id)
                    rejects.add(
                        touched.stream,
                        touched.key,
                        "unknown_tag",
                        f"tag {tag_id} is not in the tags stream of this run; its contacts "
                        f"are written without it",
                        "tag",
                        written=True,
                    )
                continue
            out.add(normalised(name))
        return out

    def stage(self, ctx: WriteContext, batch: ContactBatch) -> None:
        """Put this flush's tag changes into the contact rows (new rows for contacts whose
        record is not in the flush), and at the end of a run with a full scan clear the tags
        of contacts it had no row for."""
        rejected = ctx.rejected_contacts
        for ext_id, touched in self.touched.items():
            if ext_id in rejected:
                continue
            row = batch.rows.get(ext_id)
            if ext_id in self.carried or (
                row is not None and row.full and touched.attribute in row.attrs
            ):
                continue  # the contact record (this flush or an earlier one) carried its tags
            ctx.resolver.ensure_attribute(touched.attribute, "text")
            change = TagChange(
                touched.attribute,
                self._names_of(self.of_contact.get(ext_id, set()), touched, ctx.rejects),
                replace=touched.full_scan,
            )
            if row is None:
                row = batch.rows[ext_id] = Row(
                    ext_id=ext_id, stream=touched.stream, key=touched.key
                )
            row.tag_change = change
        self.touched.clear()
        if self.final and any(self.full_scan.values()):
            for ext_id, attribute in self.untagged.items():
                if ext_id in self.of_contact or ext_id in rejected:
                    continue
                row = batch.rows.get(ext_id)
                if row is not None and attribute in row.attrs:
                    continue
                if row is None:
                    row = batch.rows[ext_id] = Row(ext_id=ext_id, stream="contact_tags")
                row.tag_change = TagChange(attribute, replace=True)
            self.untagged.clear()

    @staticmethod
    def apply(row: Row, contact: t.Mapping[str, t.Any] | None) -> None:
        """The row's tags attribute from its change and what Brevo holds (after the
        pre-read): added to, or replacing, the contact's current tags."""
        change = row.tag_change
        if change is None:
            return
        attrs = {str(k).upper(): v for k, v in ((contact or {}).get("attributes") or {}).items()}
        row.attrs[change.attribute] = change.value(attrs.get(change.attribute))
        row.types[change.attribute] = "text"
