"""Typed records → ActiveCampaign's JSON shapes. Every vendor quirk of the payloads lives here:

- ids, counters and flags are strings (except deals' `winProbability` int / `isDisabled` bool and
  contactAutomations' `completed`/`completeValue` ints, as the spec shows);
- `cdate`/`udate`/`mdate`/`sdate`/`adddate`... are ISO 8601 in the account time zone with the
  DST-dependent offset (`2026-03-08T01:30:00-06:00`);
- `*_timestamp`, `*_utc_timestamp`, `adate`, `edate` are naive account-local wall time
  (`2026-03-08 01:30:00`), including the "utc" ones, as AC's own examples show;
- missing dates are `"0000-00-00 00:00:00"` / `"0000-00-00"` sentinels or null, per field;
- every object has a `links` map of absolute URLs under the request's API base.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sandbox.activecampaign.model import (
    Account,
    AccountContact,
    Automation,
    Campaign,
    Contact,
    ContactAutomation,
    ContactList,
    ContactTag,
    Deal,
    DealGroup,
    DealStage,
    Field,
    FieldOption,
    FieldRel,
    FieldValue,
    MailingList,
    Message,
    Tag,
    User,
)

ZERO_DATETIME = "0000-00-00 00:00:00"
ZERO_DATE = "0000-00-00"

CONTACT_LINKS = (
    "bounceLogs", "contactAutomations", "contactData", "contactGoals", "contactLists",
    "contactLogs", "contactTags", "contactDeals", "deals", "fieldValues", "geoIps", "notes",
    "organization", "plusAppend", "trackingLogs", "scoreValues", "accountContacts",
    "automationEntryCounts",
)


def b(flag: bool) -> str:
    return "1" if flag else "0"


def opt(value: int | None) -> str | None:
    return None if value is None else str(value)


class LocalClock:
    """Fast account-local formatting of epoch seconds.

    Every real UTC offset and DST transition falls on a 15-minute boundary, so within one
    15-minute UTC block the offset is constant and the local block starts at minute 0, 15, 30
    or 45. The block's date/hour prefix is computed once (zoneinfo) and cached; the minutes and
    seconds are added by arithmetic.
    """

    BLOCK = 900

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz
        self._blocks: dict[int, tuple[str, str, int, str]] = {}
        self._iso: dict[int, str] = {}  # the same instant recurs (a contact and its rows)

    def _block(self, k: int) -> tuple[str, str, int, str]:
        b = self._blocks.get(k)
        if b is None:
            if len(self._blocks) > 500_000:
                self._blocks.clear()
            dt = datetime.fromtimestamp(k * self.BLOCK, self.tz)
            iso = dt.isoformat()  # YYYY-MM-DDTHH:MM:SS+HH:MM
            b = (iso[:14], iso[:10] + " " + iso[11:14], dt.minute, iso[19:])
            self._blocks[k] = b
        return b

    def iso(self, ts: int) -> str:
        out = self._iso.get(ts)
        if out is None:
            k, d = divmod(ts, self.BLOCK)
            iso_prefix, _, minute, suffix = self._block(k)
            out = f"{iso_prefix}{minute + d // 60:02d}:{d % 60:02d}{suffix}"
            if len(self._iso) > 300_000:
                self._iso.clear()
            self._iso[ts] = out
        return out

    def naive(self, ts: int) -> str:
        k, d = divmod(ts, self.BLOCK)
        _, naive_prefix, minute, _ = self._block(k)
        return f"{naive_prefix}{minute + d // 60:02d}:{d % 60:02d}"


_CLOCKS: dict[str, LocalClock] = {}


def local_clock(tz: ZoneInfo) -> LocalClock:
    clock = _CLOCKS.get(tz.key)
    if clock is None:
        clock = _CLOCKS[tz.key] = LocalClock(tz)
    return clock


class Renderer:
    """Renders records for one request (`api` = absolute API base used in `links`)."""

    def __init__(self, tz: ZoneInfo, api: str) -> None:
        self.tz = tz
        self.api = api
        clock = local_clock(tz)
        self.iso = clock.iso
        self.naive = clock.naive

    # ----- time ---------------------------------------------------------------------------
    def iso_or_none(self, ts: int | None) -> str | None:
        return None if ts is None else self.iso(ts)

    def naive_or_zero(self, ts: int | None) -> str:
        return ZERO_DATETIME if ts is None else self.naive(ts)

    def _links(self, kind: str, rid: int, names: tuple[str, ...]) -> dict[str, str]:
        base = f"{self.api}/{kind}/{rid}/"
        return {n: base + n for n in names}

    # ----- contacts -----------------------------------------------------------------------
    def contact(self, c: Contact, account_contact_ids: list[int] | None = None) -> dict[str, Any]:
        email = c.email
        at = email.rfind("@")
        cdate, udate = self.iso(c.cdate), self.iso_or_none(c.udate)
        # a never-updated contact: udate null, its naive update stamps those of its creation
        naive_c = self.naive(c.cdate)
        naive_u = naive_c if c.udate is None else self.naive(c.udate)
        cid = str(c.id)
        return {
            "cdate": cdate,
            "email": email,
            "phone": c.phone,
            "firstName": c.first_name,
            "lastName": c.last_name,
            "orgid": str(c.orgid),
            "orgname": c.orgname,
            "segmentio_id": "",
            "bounced_hard": str(c.bounced_hard),
            "bounced_soft": str(c.bounced_soft),
            "bounced_date": c.bounced_date or ZERO_DATE,
            "ip": str(c.ip),
            "ua": c.ua,
            "hash": c.hash,
            "socialdata_lastcheck": ZERO_DATETIME,
            "email_local": email[:at] if at > 0 else "",
            "email_domain": email[at + 1 :] if at > 0 else "",
            "sentcnt": str(c.sentcnt),
            "rating_tstamp": ZERO_DATE,
            "gravatar": str(c.gravatar),
            "deleted": "0",
            "anonymized": "0",
            "adate": self.naive_or_zero(c.adate),
            "udate": udate,
            "edate": self.naive_or_zero(c.edate),
            "deleted_at": ZERO_DATETIME,
            "created_utc_timestamp": naive_c,
            "updated_utc_timestamp": naive_u,
            "created_timestamp": naive_c,
            "updated_timestamp": naive_u,
            "created_by": opt(c.created_by),
            "updated_by": opt(c.updated_by),
            "mpp_tracking": "0",
            "email_empty": not email,
            "scoreValues": [],
            "accountContacts": [str(i) for i in account_contact_ids or ()],
            "links": self._links("contacts", c.id, CONTACT_LINKS),
            "id": cid,
            "organization": str(c.orgid) if c.orgid else None,
        }

    def contact_list(self, m: ContactList) -> dict[str, Any]:
        return {
            "contact": str(m.contact),
            "list": str(m.list),
            "form": opt(m.form),
            "seriesid": str(m.seriesid),
            "sdate": self.iso(m.sdate),
            "udate": self.iso(m.udate),
            "status": str(m.status),
            "responder": "1",
            "sync": "0",
            "unsubreason": m.unsubreason,
            "campaign": opt(m.campaign),
            "message": opt(m.message),
            "first_name": m.first_name,
            "last_name": m.last_name,
            "ip4Sub": "0",
            "sourceid": str(m.sourceid),
            "autosyncLog": None,
            "ip4_last": "0",
            "ip4Unsub": "0",
            "created_timestamp": self.naive(m.cdate),
            "updated_timestamp": self.naive(m.udate),
            "created_by": None,
            "updated_by": None,
            "unsubscribeAutomation": None,
            "links": self._links("contactLists", m.id, (
                "automation", "list", "contact", "form", "autosyncLog", "campaign",
                "unsubscribeAutomation", "message")),
            "id": str(m.id),
            "automation": opt(m.automation),
        }

    def contact_tag(self, ct: ContactTag) -> dict[str, Any]:
        return {
            "contact": str(ct.contact),
            "tag": str(ct.tag),
            "cdate": self.iso(ct.cdate),
            "created_timestamp": self.naive(ct.cdate),
            "updated_timestamp": self.naive(ct.cdate),
            "created_by": None,
            "updated_by": None,
            "links": self._links("contactTags", ct.id, ("contact", "tag")),
            "id": str(ct.id),
        }

    def field_value(self, fv: FieldValue) -> dict[str, Any]:
        return {
            "contact": str(fv.contact),
            "field": str(fv.field),
            "value": fv.value,
            "cdate": self.iso(fv.cdate),
            "udate": self.iso(fv.udate),
            "created_by": None,
            "updated_by": None,
            "links": self._links("fieldValues", fv.id, ("owner", "field")),
            "id": str(fv.id),
            "owner": str(fv.contact),
        }

    def contact_automation(self, ca: ContactAutomation) -> dict[str, Any]:
        done = ca.status == 2
        return {
            "contact": str(ca.contact),
            "seriesid": str(ca.automation),
            "startid": "0",
            "status": str(ca.status),
            "batchid": None,
            "adddate": self.iso(ca.adddate),
            # the collection's schema has a string here; AC uses its zero sentinel until exit
            "remdate": self.iso(ca.remdate) if ca.remdate is not None else ZERO_DATETIME,
            "timespan": str(ca.remdate - ca.adddate) if ca.remdate is not None else "0",
            "lastblock": str(ca.lastblock),
            "lastlogid": "0",
            "lastdate": self.iso(ca.lastdate),
            "completedElements": str(ca.completed_elements),
            "totalElements": str(ca.total_elements),
            "completed": 1 if done else 0,
            "completeValue": 100 if done else int(100 * ca.completed_elements
                                                  / max(1, ca.total_elements)),
            "links": self._links("contactAutomations", ca.id,
                                 ("automation", "contact", "contactGoals")),
            "id": str(ca.id),
            "automation": str(ca.automation),
        }

    # ----- lists, fields, tags --------------------------------------------------------------
    def mailing_list(self, lst: MailingList) -> dict[str, Any]:
        return {
            "stringid": lst.stringid,
            "userid": str(lst.userid),
            "name": lst.name,
            "cdate": self.iso(lst.cdate),
            "p_use_tracking": "1",
            "p_use_analytics_read": "0",
            "p_use_analytics_link": "0",
            "p_use_twitter": "0",
            "p_use_facebook": "0",
            "p_embed_image": "1",
            "p_use_captcha": "1",
            "send_last_broadcast": "0",
            "private": b(lst.private),
            "analytics_domains": None,
            "analytics_source": "",
            "analytics_ua": "",
            "twitter_token": "",
            "twitter_token_secret": "",
            "facebook_session": None,
            "carboncopy": None,
            "subscription_notify": None,
            "unsubscription_notify": None,
            "require_name": "0",
            "get_unsubscribe_reason": "0",
            "to_name": "Subscriber",
            "optinoptout": "1",
            "sender_name": lst.sender_name,
            "sender_addr1": lst.sender_addr1,
            "sender_addr2": "",
            "sender_city": lst.sender_city,
            "sender_state": "",
            "sender_zip": lst.sender_zip,
            "sender_country": lst.sender_country,
            "sender_phone": "",
            "sender_url": lst.sender_url,
            "sender_reminder": lst.sender_reminder,
            "fulladdress": f"{lst.sender_name}, {lst.sender_addr1}, {lst.sender_city} "
                           f"{lst.sender_zip}, {lst.sender_country}",
            "optinmessageid": "0",
            "optoutconf": "0",
            "deletestamp": None,
            "udate": self.iso_or_none(lst.udate),
            "created_timestamp": self.naive(lst.cdate),
            "updated_timestamp": self.naive(lst.udate if lst.udate is not None else lst.cdate),
            "created_by": None,
            "updated_by": None,
            "links": self._links("lists", lst.id, ("contactGoalLists", "user", "addressLists")),
            "id": str(lst.id),
            "user": str(lst.userid),
        }

    def field(self, f: Field, option_ids: list[int], rel_ids: list[int]) -> dict[str, Any]:
        return {
            "title": f.title,
            "descript": f.descript,
            "type": f.type,
            "isrequired": b(f.isrequired),
            "perstag": f.perstag,
            "defval": f.defval,
            "show_in_list": b(f.show_in_list),
            "rows": "0",
            "cols": "0",
            "visible": b(f.visible),
            "service": "",
            "ordernum": str(f.ordernum),
            "cdate": self.iso(f.cdate),
            "udate": self.iso(f.udate),
            "options": [str(i) for i in option_ids],
            "relations": [str(i) for i in rel_ids],
            "links": self._links("fields", f.id, ("options", "relations")),
            "id": str(f.id),
        }

    def field_option(self, o: FieldOption) -> dict[str, Any]:
        return {
            "field": str(o.field),
            "orderid": str(o.orderid),
            "value": o.value,
            "label": o.label,
            "isdefault": b(o.isdefault),
            "cdate": self.iso(o.cdate),
            "udate": self.iso(o.udate),
            "links": self._links("fieldOptions", o.id, ("field",)),
            "id": str(o.id),
        }

    def field_rel(self, r: FieldRel) -> dict[str, Any]:
        return {
            "field": str(r.field),
            "relid": str(r.relid),
            "dorder": str(r.dorder),
            "cdate": self.iso(r.cdate),
            "links": [],
            "id": str(r.id),
        }

    def tag(self, t: Tag, subscriber_count: int | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "tagType": t.tag_type,
            "tag": t.tag,
            "description": t.description,
            "cdate": self.iso(t.cdate),
            "created_timestamp": self.naive(t.cdate),
            "updated_timestamp": self.naive(t.udate),
            "created_by": None,
            "updated_by": None,
            "links": self._links("tags", t.id, ("contactGoalTags",)),
            "id": str(t.id),
        }
        if subscriber_count is not None:
            out["subscriber_count"] = str(subscriber_count)
        return out

    # ----- campaigns, messages, automations -----------------------------------------------
    def campaign(self, c: Campaign) -> dict[str, Any]:
        zero = "0"
        return {
            "type": c.type,
            "userid": str(c.userid),
            "segmentid": zero,
            "bounceid": "-1",
            "realcid": zero,
            "sendid": zero,
            "threadid": zero,
            "seriesid": str(c.automation or 0),
            "formid": zero,
            "basetemplateid": f"{c.id:032x}",
            "basemessageid": str(c.message_id),
            "addressid": zero,
            "source": "web",
            "name": c.name,
            "cdate": self.iso(c.cdate),
            "mdate": self.iso(c.mdate),
            "sdate": self.iso_or_none(c.sdate),
            "ldate": self.iso_or_none(c.ldate),
            "send_amt": str(c.send_amt),
            "total_amt": str(c.total_amt),
            "opens": str(c.opens),
            "uniqueopens": str(c.uniqueopens),
            "linkclicks": str(c.linkclicks),
            "uniquelinkclicks": str(c.uniquelinkclicks),
            "subscriberclicks": str(c.uniquelinkclicks),
            "forwards": zero,
            "uniqueforwards": zero,
            "hardbounces": str(c.hardbounces),
            "softbounces": str(c.softbounces),
            "unsubscribes": str(c.unsubscribes),
            "unsubreasons": zero,
            "updates": zero,
            "socialshares": zero,
            "replies": zero,
            "uniquereplies": zero,
            "status": str(c.status),
            "public": "1",
            "mail_transfer": zero,
            "mail_send": b(c.status in (2, 5)),
            "mail_cleanup": b(c.status == 5),
            "mailer_log_file": zero,
            "tracklinks": "all",
            "tracklinksanalytics": zero,
            "trackreads": "1",
            "trackreadsanalytics": zero,
            "analytics_campaign_name": "",
            "tweet": zero,
            "facebook": zero,
            "survey": "",
            "embed_images": zero,
            "htmlunsub": "1",
            "textunsub": "1",
            "htmlunsubdata": None,
            "textunsubdata": None,
            "recurring": "",
            "willrecur": zero,
            "split_type": "read",
            "split_content": zero,
            "split_offset": zero,
            "split_offset_type": "day",
            "split_winner_messageid": zero,
            "split_winner_awaiting": zero,
            "responder_offset": zero,
            "responder_type": "subscribe",
            "responder_existing": zero,
            "reminder_field": "sdate",
            "reminder_format": None,
            "reminder_type": "month_day",
            "reminder_offset": zero,
            "reminder_offset_type": "day",
            "reminder_offset_sign": "+",
            "reminder_last_cron_run": None,
            "activerss_interval": "day1",
            "activerss_url": None,
            "activerss_items": "10",
            "ip4": zero,
            "laststep": "result",
            "managetext": zero,
            "schedule": zero,
            "scheduleddate": None,
            "waitpreview": zero,
            "deletestamp": None,
            "replysys": zero,
            "created_timestamp": self.naive(c.cdate),
            "updated_timestamp": self.naive(c.mdate),
            "created_by": None,
            "updated_by": None,
            "links": self._links("campaigns", c.id, (
                "user", "automation", "campaignMessage", "campaignMessages", "links",
                "aggregateRevenues", "segment", "campaignLists")),
            "id": str(c.id),
            "user": str(c.userid),
            "automation": opt(c.automation),
            # newer live samples carry the campaign's message (OV schema)
            "message_id": str(c.message_id),
        }

    def message(self, m: Message) -> dict[str, Any]:
        return {
            "userid": str(m.userid),
            "ed_instanceid": "0",
            "ed_version": "2",
            "cdate": self.iso(m.cdate),
            "mdate": self.iso(m.mdate),
            "name": m.name,
            "fromname": m.fromname,
            "fromemail": m.fromemail,
            "reply2": m.reply2,
            "priority": "3",
            "charset": "utf-8",
            "encoding": "quoted-printable",
            "format": m.format,
            "subject": m.subject,
            "preheader_text": m.preheader_text,
            "text": m.text,
            "html": m.html,
            "htmlfetch": "now",
            "textfetch": "now",
            "hidden": "0",
            "preview_mime": "",
            "preview_data": None,
            "links": self._links("messages", m.id, ("user",)),
            "id": str(m.id),
            "user": str(m.userid),
        }

    def automation(self, a: Automation) -> dict[str, Any]:
        return {
            "name": a.name,
            "cdate": self.iso(a.cdate),
            "mdate": self.iso(a.mdate),
            "userid": str(a.userid),
            "status": str(a.status),
            "entered": str(a.entered),
            "exited": str(a.exited),
            "hidden": b(a.hidden),
            "defaultscreenshot": f"https://sandbox.example/screenshots/{a.id}.png",
            "screenshot": "",
            "links": self._links("automations", a.id, (
                "campaigns", "contactGoals", "contactAutomations", "blocks", "goals", "sms",
                "sitemessages", "triggers")),
            "id": str(a.id),
        }

    # ----- deals and accounts --------------------------------------------------------------
    def deal_group(self, g: DealGroup) -> dict[str, Any]:
        return {
            "allgroups": "0",
            "allusers": "1",
            "autoassign": "0",
            "cdate": self.iso(g.cdate),
            "currency": g.currency,
            "id": str(g.id),
            "links": self._links("dealGroups", g.id,
                                 ("stages", "dealGroupUsers", "dealGroupGroups")),
            "stages": [str(s) for s in g.stages],
            "title": g.title,
            "udate": self.iso(g.udate),
        }

    def deal_stage(self, s: DealStage) -> dict[str, Any]:
        return {
            "cardRegion1": "title",
            "cardRegion2": "next-action",
            "cardRegion3": "show-avatar",
            "cardRegion4": "contact-fullname-orgname",
            "cardRegion5": "value",
            "cdate": self.iso(s.cdate),
            "color": s.color,
            "dealOrder": "next-action DESC",
            "group": str(s.group),
            "id": str(s.id),
            "links": self._links("dealStages", s.id, ("group",)),
            "order": str(s.order),
            "title": s.title,
            "udate": self.iso(s.udate),
            "width": "280",
        }

    def deal(self, d: Deal) -> dict[str, Any]:
        acc = str(d.account)
        return {
            "owner": str(d.owner),
            "contact": str(d.contact),
            "organization": acc,
            "group": str(d.group),
            "stage": str(d.stage),
            "title": d.title,
            "description": d.description,
            "percent": str(d.percent),
            "cdate": self.iso(d.cdate),
            "mdate": self.iso_or_none(d.mdate),
            "nextdate": None,
            "nexttaskid": "0",
            "value": str(d.value),
            "currency": d.currency,
            "winProbability": d.win_probability,
            "winProbabilityMdate": self.iso_or_none(d.win_probability_mdate or d.mdate),
            "status": str(d.status),
            "activitycount": str(d.activitycount),
            "nextdealid": str(d.id),
            "edate": self.naive_or_zero(d.edate),
            "links": self._links("deals", d.id, (
                "dealActivities", "contact", "contactDeals", "group", "nextTask", "notes",
                "account", "customerAccount", "organization", "owner", "scoreValues", "stage",
                "tasks", "dealCustomFieldData")),
            "id": str(d.id),
            "isDisabled": d.is_disabled,
            "account": acc,
            "customerAccount": acc,
        }

    def account(self, a: Account, contact_count: int, deal_count: int) -> dict[str, Any]:
        return {
            "name": a.name,
            "accountUrl": a.account_url,
            "createdTimestamp": self.iso(a.cdate),
            "updatedTimestamp": self.iso(a.udate),
            "contactCount": str(contact_count),
            "dealCount": str(deal_count),
            "links": self._links("accounts", a.id,
                                 ("notes", "accountCustomFieldData", "accountContacts")),
            "id": str(a.id),
        }

    def account_contact(self, ac: AccountContact) -> dict[str, Any]:
        return {
            "account": str(ac.account),
            "contact": str(ac.contact),
            "jobTitle": ac.job_title,
            "createdTimestamp": self.iso(ac.cdate),
            "updatedTimestamp": self.iso(ac.udate),
            "links": self._links("accountContacts", ac.id, ("account", "contact")),
            "id": str(ac.id),
        }

    def user(self, u: User) -> dict[str, Any]:
        return {
            "username": u.username,
            "firstName": u.first_name,
            "lastName": u.last_name,
            "email": u.email,
            "phone": u.phone,
            "signature": None,
            "localZoneid": u.local_zone_id,
            "links": self._links("users", u.id, (
                "lists", "userGroup", "dealGroupTotals", "dealGroupUsers", "configs")),
            "id": str(u.id),
        }
