"""Typed records of the emulated account.

Conventions: ids and counters are ints, times are UTC epoch seconds (int) or None (rendered as
null or as AC's zero-date sentinel, depending on the field: see `render.py`), flags are bools.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class User:
    id: int
    username: str
    first_name: str
    last_name: str
    email: str
    phone: str
    cdate: int
    #: the user's own time-zone setting (``localZoneid``); not necessarily the account's
    local_zone_id: str | None = None


@dataclass(slots=True)
class Contact:
    id: int
    email: str
    phone: str
    first_name: str
    last_name: str
    cdate: int
    udate: int | None  # None: never updated since an import (AC sends "udate": null)
    orgid: int = 0
    orgname: str | None = None
    bounced_hard: int = 0
    bounced_soft: int = 0
    bounced_date: str | None = None  # "YYYY-MM-DD", None → "0000-00-00"
    ip: int = 0
    ua: str = ""
    hash: str = ""
    sentcnt: int = 0
    gravatar: int = 0
    adate: int | None = None  # last activity, naive local; None → zero sentinel
    edate: int | None = None  # naive local; None → zero sentinel
    created_by: int | None = None
    updated_by: int | None = None
    score: int = 0


@dataclass(slots=True)
class MailingList:
    id: int
    name: str
    stringid: str
    userid: int
    cdate: int
    udate: int | None
    sender_name: str = ""
    sender_addr1: str = ""
    sender_city: str = ""
    sender_zip: str = ""
    sender_country: str = ""
    sender_url: str = ""
    sender_reminder: str = ""
    private: bool = False


@dataclass(slots=True)
class ContactList:
    """A list membership. status: 0 unconfirmed, 1 active, 2 unsubscribed, 3 bounced."""

    id: int
    contact: int
    list: int
    status: int
    sdate: int
    udate: int
    cdate: int
    first_name: str = ""
    last_name: str = ""
    form: int | None = None
    seriesid: int = 0
    sourceid: int = 0
    unsubreason: str | None = None
    campaign: int | None = None
    message: int | None = None
    automation: int | None = None


@dataclass(slots=True)
class Field:
    """A contact custom field. type: text, textarea, date, datetime, dropdown, listbox
    (multi-select), checkbox, radio, hidden."""

    id: int
    title: str
    type: str
    perstag: str
    ordernum: int
    cdate: int
    udate: int
    descript: str | None = None
    isrequired: bool = False
    defval: str | None = None
    visible: bool = True
    show_in_list: bool = False


@dataclass(slots=True)
class FieldOption:
    id: int
    field: int
    orderid: int
    value: str
    label: str
    isdefault: bool
    cdate: int
    udate: int


@dataclass(slots=True)
class FieldRel:
    id: int
    field: int
    relid: int  # list id, 0 = every list
    dorder: int
    cdate: int


@dataclass(slots=True)
class FieldValue:
    """A custom field value, stored as AC stores it (multi-select `||a||b||`, dates `YYYY-MM-DD`,
    date-times ISO with the account offset)."""

    id: int
    contact: int
    field: int
    value: str
    cdate: int
    udate: int


@dataclass(slots=True)
class Tag:
    id: int
    tag: str
    tag_type: str
    description: str
    cdate: int
    udate: int


@dataclass(slots=True)
class ContactTag:
    id: int
    contact: int
    tag: int
    cdate: int


@dataclass(slots=True)
class Message:
    id: int
    userid: int
    name: str
    subject: str
    fromname: str
    fromemail: str
    reply2: str
    preheader_text: str
    text: str
    html: str
    cdate: int
    mdate: int
    format: str = "mime"


@dataclass(slots=True)
class Campaign:
    """type: single, recurring, split, responder, reminder, special, activerss, text;
    status: 0 draft, 1 scheduled, 2 sending, 3 paused, 4 stopped, 5 complete, 6 disabled."""

    id: int
    name: str
    type: str
    status: int
    userid: int
    cdate: int
    mdate: int
    sdate: int | None
    ldate: int | None
    message_id: int
    automation: int | None = None
    send_amt: int = 0
    total_amt: int = 0
    opens: int = 0
    uniqueopens: int = 0
    linkclicks: int = 0
    uniquelinkclicks: int = 0
    hardbounces: int = 0
    softbounces: int = 0
    unsubscribes: int = 0
    list_ids: list[int] = field(default_factory=list)


@dataclass(slots=True)
class Automation:
    """status: 1 active, 2 inactive."""

    id: int
    name: str
    status: int
    userid: int
    cdate: int
    mdate: int
    entered: int = 0
    exited: int = 0
    hidden: bool = False


@dataclass(slots=True)
class ContactAutomation:
    """status: 1 active (in progress), 2 completed."""

    id: int
    contact: int
    automation: int
    status: int
    adddate: int
    remdate: int | None
    lastdate: int
    lastblock: int
    completed_elements: int
    total_elements: int


@dataclass(slots=True)
class DealGroup:
    id: int
    title: str
    currency: str
    cdate: int
    udate: int
    stages: list[int] = field(default_factory=list)


@dataclass(slots=True)
class DealStage:
    id: int
    title: str
    group: int
    order: int
    color: str
    cdate: int
    udate: int


@dataclass(slots=True)
class Deal:
    """status: 0 open, 1 won, 2 lost. value is in cents."""

    id: int
    title: str
    description: str
    contact: int
    account: int
    owner: int
    group: int
    stage: int
    value: int
    currency: str
    status: int
    percent: int
    cdate: int
    mdate: int | None  # None: never modified since an import
    edate: int | None
    win_probability: int
    win_probability_mdate: int | None
    activitycount: int = 0
    is_disabled: bool = False


@dataclass(slots=True)
class Account:
    id: int
    name: str
    account_url: str | None
    owner: int
    cdate: int
    udate: int


@dataclass(slots=True)
class AccountContact:
    id: int
    account: int
    contact: int
    job_title: str
    cdate: int
    udate: int
