"""`GET /__sandbox/dump`: the whole account as typed, UTC data, one key per tap stream.

Field names are the tap's snake_case ones (contracts §3): ids and counters ints, flags bools,
times UTC ISO-8601 (`2026-03-08T13:30:00+00:00`), zero dates null, no `links`. Contacts carry
`tags` (the names of the tags they have now). End-to-end tests compute the expected Brevo state
from this, independently of the tap.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sandbox.activecampaign.store import Store


def utc(ts: int | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat()


def dump_store(s: Store, meta: dict[str, Any]) -> dict[str, Any]:
    tag_names = {t.id: t.tag for t in s.tags.values()}
    tags_by_contact: dict[int, list[str]] = {}
    for ct in s.contact_tags.values():
        tags_by_contact.setdefault(ct.contact, []).append(tag_names[ct.tag])
    contacts_per_account: dict[int, int] = {}
    for ac in s.account_contacts.values():
        contacts_per_account[ac.account] = contacts_per_account.get(ac.account, 0) + 1
    return {
        "meta": meta,
        "users": [{"id": u.id, "username": u.username, "first_name": u.first_name,
                   "last_name": u.last_name, "email": u.email, "phone": u.phone,
                   "local_zone_id": u.local_zone_id}
                  for u in s.users.values()],
        "contacts": [{
            "id": c.id, "email": c.email, "phone": c.phone, "first_name": c.first_name,
            "last_name": c.last_name, "orgid": c.orgid, "orgname": c.orgname,
            "bounced_hard": c.bounced_hard, "bounced_soft": c.bounced_soft,
            "bounced_date": c.bounced_date, "sentcnt": c.sentcnt, "score": c.score,
            "cdate": utc(c.cdate), "udate": utc(c.udate), "adate": utc(c.adate),
            "edate": utc(c.edate), "deleted": False,
            "tags": sorted(tags_by_contact.get(c.id, [])),
        } for c in s.contacts.values()],
        "lists": [{"id": x.id, "name": x.name, "stringid": x.stringid, "userid": x.userid,
                   "private": x.private, "cdate": utc(x.cdate), "udate": utc(x.udate)}
                  for x in s.lists.values()],
        "contact_lists": [{"id": m.id, "contact": m.contact, "list": m.list,
                           "status": m.status, "sdate": utc(m.sdate), "udate": utc(m.udate),
                           "unsubreason": m.unsubreason}
                          for m in s.contact_lists.values()],
        "contact_custom_fields": [{"id": f.id, "title": f.title, "type": f.type,
                                   "perstag": f.perstag, "descript": f.descript,
                                   "isrequired": f.isrequired, "defval": f.defval,
                                   "ordernum": f.ordernum, "cdate": utc(f.cdate),
                                   "udate": utc(f.udate)}
                                  for f in s.fields.values()],
        "contact_custom_field_options": [{"id": o.id, "field": o.field, "label": o.label,
                                          "value": o.value, "orderid": o.orderid,
                                          "isdefault": o.isdefault}
                                         for o in s.field_options.values()],
        "contact_custom_field_rels": [{"id": r.id, "field": r.field, "relid": r.relid,
                                       "dorder": r.dorder}
                                      for r in s.field_rels.values()],
        "contact_custom_field_values": [{"id": v.id, "contact": v.contact, "field": v.field,
                                         "value": v.value, "cdate": utc(v.cdate),
                                         "udate": utc(v.udate)}
                                        for v in s.field_values.values()],
        "tags": [{"id": t.id, "tag": t.tag, "tag_type": t.tag_type,
                  "description": t.description, "cdate": utc(t.cdate)}
                 for t in s.tags.values()],
        "contact_tags": [{"id": ct.id, "contact": ct.contact, "tag": ct.tag,
                          "cdate": utc(ct.cdate)} for ct in s.contact_tags.values()],
        "campaigns": [{"id": c.id, "name": c.name, "status": c.status, "type": c.type,
                       "userid": c.userid, "message_id": c.message_id,
                       "automation": c.automation, "list_ids": c.list_ids,
                       "send_amt": c.send_amt, "opens": c.opens,
                       "cdate": utc(c.cdate), "mdate": utc(c.mdate), "sdate": utc(c.sdate),
                       "ldate": utc(c.ldate)}
                      for c in s.campaigns.values()],
        "messages": [{"id": m.id, "name": m.name, "subject": m.subject,
                      "fromname": m.fromname, "fromemail": m.fromemail, "reply2": m.reply2,
                      "preheader_text": m.preheader_text, "html": m.html, "text": m.text,
                      "cdate": utc(m.cdate), "mdate": utc(m.mdate)}
                     for m in s.messages.values()],
        "automations": [{"id": a.id, "name": a.name, "status": a.status,
                         "cdate": utc(a.cdate), "mdate": utc(a.mdate)}
                        for a in s.automations.values()],
        "contact_automations": [{"id": ca.id, "contact": ca.contact,
                                 "automation": ca.automation, "status": ca.status,
                                 "adddate": utc(ca.adddate), "remdate": utc(ca.remdate),
                                 "lastdate": utc(ca.lastdate)}
                                for ca in s.contact_automations.values()],
        "pipelines": [{"id": g.id, "title": g.title, "currency": g.currency,
                       "stages": g.stages, "cdate": utc(g.cdate), "udate": utc(g.udate)}
                      for g in s.deal_groups.values()],
        "deal_stages": [{"id": st.id, "title": st.title, "group": st.group,
                         "order": st.order, "cdate": utc(st.cdate), "udate": utc(st.udate)}
                        for st in s.deal_stages.values()],
        "deals": [{"id": d.id, "title": d.title, "description": d.description,
                   "contact": d.contact, "account": d.account, "owner": d.owner,
                   "group": d.group, "stage": d.stage, "value": d.value,
                   "currency": d.currency, "status": d.status, "percent": d.percent,
                   "win_probability": d.win_probability, "cdate": utc(d.cdate),
                   "mdate": utc(d.mdate), "edate": utc(d.edate)}
                  for d in s.deals.values()],
        "accounts": [{"id": a.id, "name": a.name, "account_url": a.account_url,
                      "owner": a.owner, "contact_count": contacts_per_account.get(a.id, 0),
                      "created_timestamp": utc(a.cdate), "updated_timestamp": utc(a.udate)}
                     for a in s.accounts.values()],
        "account_contacts": [{"id": x.id, "account": x.account, "contact": x.contact,
                              "job_title": x.job_title, "created_timestamp": utc(x.cdate),
                              "updated_timestamp": utc(x.udate)}
                             for x in s.account_contacts.values()],
    }
