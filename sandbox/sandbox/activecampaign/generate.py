"""The seeded data set: deterministic for (contacts, seed, timezone), sized by `contacts`.

Realistic mess on purpose: Unicode and empty names, mixed-case and plus-addressed emails (unique
case-insensitively, as AC enforces), phones in many formats (some invalid), zero-date sentinels
and nulls, contacts with no lists, a list with a null `udate`, memberships in every status,
custom fields of every type (multi-select stored as `||a||b||`), and times that straddle DST.
About 2.5 % of contacts (imported, never updated since) and of deals have a null `udate`/`mdate`;
the contacts picked all have memberships, tags and field values. They are drawn from their own
random stream, so the rest of the data set is the same as without them.
"""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sandbox.activecampaign.catalog import build_catalog
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
from sandbox.activecampaign.store import Store

EPOCH_START = int(datetime(2023, 1, 1, tzinfo=UTC).timestamp())
EPOCH_END = int(datetime(2026, 9, 30, tzinfo=UTC).timestamp())
DAY = 86400
#: Share of contacts (among those with memberships, tags and field values) and of deals whose
#: update date is null: about 2.5 % of all contacts, as seen on a real account.
NULL_UDATE_CONTACTS = 0.04
NULL_MDATE_DEALS = 0.025

FIRST_NAMES = [
    "John", "Jane", "María", "José", "Zoë", "Björn", "Łukasz", "Søren", "François", "Chloé",
    "Nguyễn", "Ana María", "O'Brien", "Dmitriy", "Дмитрий", "Αλέξανδρος", "محمد", "李", "Ólafur",
    "Renée", "Jean-Luc", "Siobhán", "Akira", "Priya", "Mateo", "Émilie", "Günther", "Aïcha",
    "Sam", "Alex", "Chris", "Taylor", "Jordan", "Fatima", "Noah", "Olivia", "Liam", "Emma",
    "  Padded ", "ALLCAPS", "lowercase",
]
LAST_NAMES = [
    "Doe", "Smith", "García", "Müller", "Østergaard", "Nowak", "Dubois", "Lefèvre", "Tran",
    "O'Connor", "van der Berg", "de la Cruz", "Ivanov", "Иванова", "Παπαδόπουλος", "الحسن", "王",
    "Nakamura", "Patel", "Rossi", "Schmidt-Weiß", "Kowalczyk", "Ng", "Brown", "Johnson",
    "Williams", "Jones", "Davis", "Martínez", "López", "Wilson", "Anderson", "Thomas", "Moore",
]
ASCII_MAP = str.maketrans({
    "á": "a", "à": "a", "ä": "a", "é": "e", "è": "e", "ë": "e", "í": "i", "ï": "i", "ó": "o",
    "ö": "o", "ø": "o", "ú": "u", "ü": "u", "ñ": "n", "ç": "c", "ł": "l", "ß": "ss", "ễ": "e",
    "å": "a", "š": "s", "æ": "ae", "ò": "o", "â": "a",
})
DOMAINS = [
    "gmail.com", "Gmail.com", "yahoo.com", "outlook.com", "hotmail.co.uk", "example.com",
    "EXAMPLE.ORG", "acme-corp.com", "web.de", "orange.fr", "mail.ru", "proton.me", "icloud.com",
    "company.co.jp", "uni-bonn.de",
]
LIST_NAMES = [
    ("Newsletter", "newsletter"), ("Product updates", "product-updates"),
    ("Webinar attendees", "webinar-attendees"), ("Customers", "customers"),
    ("Prospects", "prospects"), ("Événements Paris", "evenements-paris"),
    ("Beta testers", "beta-testers"), ("VIP 🎉", "vip"), ("Partners", "partners"),
    ("Old list (archived)", "old-list-archived"), ("Unconfirmed import", "unconfirmed-import"),
    ("Empty list", "empty-list"),
]
TAG_NAMES = [
    "VIP", "customer", "lead", "Lead: hot", "Lead: cold", "webinar-2025", "newsletter",
    "🔥 hot", "Kunde/Ä", "churned", "trial", "enterprise", "smb", "partner", "event:paris",
    "event:berlin", "do-not-call", "imported", "zapier", "facebook-ads", "google-ads",
    "referral", "beta", "nps-promoter", "nps-detractor", "ecommerce", "abandoned-cart",
    "Very long tag name that goes on and on to test limits of downstream systems 1234567890",
    "tag with  double  spaces", "ÜBER",
]
JOB_TITLES = ["CEO", "CTO", "Marketing Manager", "Développeur", "Ingeniera", "Sales", "",
              "Head of Growth", "Intern", "Designer"]


def _ts(rng: random.Random, lo: int = EPOCH_START, hi: int = EPOCH_END) -> int:
    return rng.randrange(lo, hi)


def _ascii(s: str) -> str:
    s = s.strip().lower().translate(ASCII_MAP)
    out = "".join(ch for ch in s if ch.isascii() and (ch.isalnum() or ch in "-"))
    return out


def _phone(rng: random.Random, i: int) -> str:
    r = rng.random()
    n = f"{rng.randrange(200, 999)}555{i % 10000:04d}"
    if r < 0.15:
        return ""
    if r < 0.30:
        return f"+1 {n[:3]}-{n[3:6]}-{n[6:]}"
    if r < 0.42:
        return f"({n[:3]}) {n[3:6]}-{n[6:]}"
    if r < 0.52:
        return f"{n[:3]}.{n[3:6]}.{n[6:]}"
    if r < 0.62:
        return n
    if r < 0.70:
        return f"+44 20 7946 {i % 10000:04d}"
    if r < 0.76:
        return f"+33 1 23 45 {i % 100:02d} {(i // 100) % 100:02d}"
    if r < 0.82:
        return f"0049 30 {rng.randrange(1000000, 9999999)}"
    if r < 0.86:
        return f"+81-3-{rng.randrange(1000, 9999)}-{i % 10000:04d}"
    if r < 0.90:
        return f"+{n}"
    if r < 0.93:
        return "12345"  # invalid
    if r < 0.95:
        return "call me maybe"  # invalid
    if r < 0.97:
        return f"+1 (800) FLOWERS x{i % 100}"  # vanity, invalid for E.164 parsers
    return f"555-{i % 10000:04d}"  # no area code


FIELD_DEFS: list[tuple[str, str, str, list[tuple[str, str]]]] = [
    # title, type, perstag, options (value, label)
    ("Company size", "dropdown", "COMPANY_SIZE",
     [("1-10", "1-10"), ("11-50", "11-50"), ("51-200", "51-200"), ("201+", "201+")]),
    ("Interests", "listbox", "INTERESTS",
     [("Email marketing", "Email marketing"), ("Automation", "Automation"), ("CRM", "CRM"),
      ("SMS", "SMS"), ("Landing pages", "Landing pages")]),
    ("Birthday", "date", "BIRTHDAY", []),
    ("Last purchase", "datetime", "LAST_PURCHASE", []),
    ("Notes", "textarea", "NOTES", []),
    ("Job title", "text", "JOB_TITLE", []),
    ("Newsletter topics", "checkbox", "NEWSLETTER_TOPICS",
     [("News", "News"), ("Offers", "Offers"), ("Events", "Events")]),
    ("Preferred contact", "radio", "PREFERRED_CONTACT",
     [("Email", "Email"), ("Phone", "Phone"), ("SMS", "SMS")]),
    ("Lead source", "hidden", "LEAD_SOURCE", []),
    ("Loyalty tier", "dropdown", "LOYALTY_TIER",
     [("bronze", "Bronze"), ("silver", "Silver"), ("gold", "Gold")]),
    ("Website", "text", "WEBSITE", []),
]
NOTES = ["Met at the Paris event ☕", "Prefers calls after 5pm\nSecond line",
         "VIP — handle with care", "", "Говорит по-русски", "需要中文资料", "   ",
         "Line1\r\nLine2\ttabbed"]


def _field_value(rng: random.Random, ftype: str, opts: list[str], tz: ZoneInfo, i: int) -> str:
    if ftype in ("dropdown", "radio"):
        return rng.choice(opts)
    if ftype in ("listbox", "checkbox"):
        chosen = [o for o in opts if rng.random() < 0.4] or [opts[0]]
        return "||" + "||".join(chosen) + "||"
    if ftype == "date":
        if rng.random() < 0.03:
            return "0000-00-00"
        return f"{rng.randrange(1940, 2008)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
    if ftype == "datetime":
        return datetime.fromtimestamp(_ts(rng), tz).isoformat()
    if ftype == "textarea":
        return rng.choice(NOTES)
    return ""


def generate(contacts: int = 1000, seed: int = 42, tz: ZoneInfo | None = None) -> Store:
    tz = tz or ZoneInfo("America/Chicago")
    rng = random.Random(seed)
    # null update dates come from their own stream: every other value stays as it was
    null_rng = random.Random(f"null-dates:{seed}")
    store = Store(tz)

    # users
    for uid, (uname, fn, ln) in enumerate(
        [("admin", "Ada", "Admin"), ("jdoe", "John", "Doe"), ("msales", "María", "Sales"),
         ("bot", "", ""), ("ops", "Ops", "Team")], start=1):
        # the user's personal zone: mostly the account's, one user elsewhere, one unset
        other = "Europe/London" if str(tz) != "Europe/London" else "America/New_York"
        zone = {2: other, 4: None}.get(uid, str(tz))
        store.users[uid] = User(uid, uname, fn, ln, f"{uname}@sandbox-account.example", "",
                                EPOCH_START - 400 * DAY, zone)
    n_users = len(store.users)

    # lists
    for lid, (name, stringid) in enumerate(LIST_NAMES, start=1):
        cdate = EPOCH_START - rng.randrange(30, 300) * DAY
        udate = None if lid in (3, 10) else cdate + rng.randrange(0, 200) * DAY
        store.lists[lid] = MailingList(
            lid, name, stringid, rng.randrange(1, n_users + 1), cdate, udate,
            sender_name="Sandbox Inc.", sender_addr1="1 Main St", sender_city="Chicago",
            sender_zip="60601", sender_country="US", sender_url="https://sandbox.example",
            sender_reminder="You signed up on our website", private=lid == 10,
        )
    active_lists = [lid for lid in store.lists if lid != 12]  # list 12 stays empty

    # custom fields, options, relations
    fopt_id = 1
    field_opts: dict[int, list[str]] = {}
    for fid, (title, ftype, perstag, opts) in enumerate(FIELD_DEFS, start=1):
        cdate = EPOCH_START - rng.randrange(10, 200) * DAY
        store.fields[fid] = Field(
            fid, title, ftype, perstag, fid, cdate, cdate + rng.randrange(0, 90) * DAY,
            descript=None if fid % 3 else f"{title} (from the sign-up form)",
            isrequired=fid == 1, defval=opts[0][0] if fid == 8 else None,
            show_in_list=fid < 4,
        )
        field_opts[fid] = [v for v, _ in opts]
        for order, (value, label) in enumerate(opts, start=1):
            store.field_options[fopt_id] = FieldOption(fopt_id, fid, order, value, label,
                                                       order == 1 and fid == 8, cdate, cdate)
            fopt_id += 1
        relid = 0 if fid % 4 else rng.choice(active_lists)
        store.field_rels[fid] = FieldRel(fid, fid, relid, fid, cdate)
    field_specs = [(fid, f.type, field_opts[fid], f.perstag) for fid, f in store.fields.items()]
    field_probs = {1: 0.6, 2: 0.45, 3: 0.35, 4: 0.25, 5: 0.15, 6: 0.5, 7: 0.3, 8: 0.4, 9: 0.5,
                   10: 0.3, 11: 0.2}

    # tags
    for tid, name in enumerate(TAG_NAMES, start=1):
        cdate = EPOCH_START - rng.randrange(1, 300) * DAY
        store.tags[tid] = Tag(tid, name, "contact", "" if tid % 4 else f"About {name}", cdate,
                              cdate)
    tag_weights = [1.0 / (i + 1) ** 0.7 for i in range(len(TAG_NAMES))]
    tag_ids = list(store.tags)

    # automations
    for aid, name in enumerate(
        ["Welcome series", "Abandoned cart", "Re-engagement", "Birthday greeting", "Lead scoring",
         "Webinar follow-up", "Onboarding — trial", "Inactive (paused)"], start=1):
        cdate = EPOCH_START - rng.randrange(1, 100) * DAY
        store.automations[aid] = Automation(aid, name, 2 if aid == 8 else 1,
                                            rng.randrange(1, n_users + 1), cdate,
                                            cdate + rng.randrange(0, 300) * DAY)
    automation_ids = list(store.automations)

    # messages and campaigns
    types = ["single", "single", "single", "recurring", "split", "responder", "reminder",
             "special", "activerss", "text"]
    for mid in range(1, 26):
        cdate = _ts(rng)
        subject = rng.choice(["Hello %FIRSTNAME%!", "Our spring sale 🌸", "Ünïcödé subject ✓",
                              "Your invoice", "Webinar: tips & tricks <live>", "Re: your question",
                              ""])
        store.messages[mid] = Message(
            mid, rng.randrange(1, n_users + 1), f"Message {mid}", subject, "Sandbox Inc.",
            "news@sandbox-account.example", f"reply+{mid}@sandbox-account.example",
            "Preheader " * (mid % 3), f"Plain text body {mid}\nUnsubscribe: %UNSUBSCRIBELINK%",
            f"<html><body><h1>Message {mid}</h1><p>Hi %FIRSTNAME%,</p>"
            f"<p>{'Lorem ipsum dolor sit amet. ' * (5 + mid % 20)}</p></body></html>",
            cdate, cdate + rng.randrange(0, 30) * DAY,
        )
    for cid in range(1, 21):
        cdate = _ts(rng)
        status = rng.choice([0, 1, 5, 5, 5, 6, 2, 3])
        sent = status in (2, 3, 5)
        send_amt = rng.randrange(100, 50000) if sent else 0
        opens = int(send_amt * rng.uniform(0.1, 0.5))
        store.campaigns[cid] = Campaign(
            cid, f"Campaign {cid}: " + rng.choice(["Spring sale", "Newsletter", "Relaunch ✨",
                                                   "Webinar invite", "Black Friday"]),
            types[cid % len(types)], status, rng.randrange(1, n_users + 1), cdate,
            cdate + rng.randrange(0, 60) * DAY,
            cdate + DAY if sent else None, cdate + 2 * DAY if status == 5 else None,
            cid, automation=rng.choice(automation_ids) if cid % 5 == 0 else None,
            send_amt=send_amt, total_amt=send_amt, opens=opens,
            uniqueopens=int(opens * 0.8), linkclicks=int(opens * 0.2),
            uniquelinkclicks=int(opens * 0.15), hardbounces=send_amt // 200,
            softbounces=send_amt // 100, unsubscribes=send_amt // 300,
            list_ids=rng.sample(active_lists, 2),
        )

    # pipelines
    stage_id = 1
    for gid, (title, currency) in enumerate(
        [("Sales pipeline", "usd"), ("Partnerships", "eur"), ("Renewals", "usd")], start=1):
        cdate = EPOCH_START - 50 * DAY
        group = DealGroup(gid, title, currency, cdate, cdate)
        for order, st in enumerate(["To contact", "In contact", "Follow-up", "Closing"], start=1):
            color = ["32B0FC", "FF9800", "7CB342", "E53935"][order - 1]
            store.deal_stages[stage_id] = DealStage(stage_id, st, gid, order, color, cdate, cdate)
            group.stages.append(stage_id)
            stage_id += 1
        store.deal_groups[gid] = group

    # accounts
    n_accounts = max(5, contacts // 40)
    for acc_id in range(1, n_accounts + 1):
        cdate = _ts(rng)
        store.accounts[acc_id] = Account(
            acc_id, rng.choice(["Acme", "Globex", "Initech", "Umbrella", "Société Générale",
                                "Müller GmbH", "株式会社テスト", "Hooli"]) + f" {acc_id}",
            None if acc_id % 3 else f"https://account{acc_id}.example.com",
            rng.randrange(1, n_users + 1), cdate, cdate + rng.randrange(0, 100) * DAY,
        )

    # contacts and their children
    first_names, last_names, domains = FIRST_NAMES, LAST_NAMES, DOMAINS
    n_first, n_last, n_dom = len(first_names), len(last_names), len(domains)
    ml_id = ct_id = fv_id = ca_id = acc_ct_id = deal_id = 1
    contacts_t, lists_t, ctags_t, fvals_t = (store.contacts, store.contact_lists,
                                              store.contact_tags, store.field_values)
    cautos_t, acc_t, deals_t = store.contact_automations, store.account_contacts, store.deals
    rand, randrange, choice = rng.random, rng.randrange, rng.choice
    campaign_ids = list(store.campaigns)
    status_cum = [(0.70, 1), (0.85, 2), (0.95, 0), (1.01, 3)]
    span = EPOCH_END - EPOCH_START
    for i in range(1, contacts + 1):
        r = rand()
        fn = first_names[randrange(n_first)] if r > 0.04 else ""
        ln = last_names[randrange(n_last)] if r > 0.07 else ""
        base = _ascii(fn) or "user"
        last_ascii = _ascii(ln)
        dom = domains[randrange(n_dom)]
        r2 = rand()
        if r2 < 0.12:
            local = f"{base}+news{i}"
        elif r2 < 0.22:
            local = f"{base.capitalize()}.{last_ascii.upper() or 'X'}{i}"
        elif r2 < 0.3:
            local = f"{base}_{i}"
        else:
            local = f"{base}.{last_ascii or 'x'}{i}"
        email = f"{local}@{dom}"
        cdate = EPOCH_START + int(span * (i - 1) / max(1, contacts)) + randrange(0, 3600)
        udate = cdate if rand() < 0.3 else min(EPOCH_END, cdate + randrange(60, 400 * DAY))
        bounced = 1 if rand() < 0.03 else 0
        contacts_t[i] = Contact(
            i, email, _phone(rng, i), fn, ln, cdate, udate,
            bounced_hard=bounced, bounced_soft=1 if rand() < 0.02 else 0,
            bounced_date=(datetime.fromtimestamp(udate, tz).strftime("%Y-%m-%d") if bounced
                          else None),
            ip=randrange(16777216, 4294967295) if rand() < 0.5 else 0,
            hash=hashlib.md5(email.encode(), usedforsecurity=False).hexdigest(),
            sentcnt=randrange(0, 60), gravatar=randrange(0, 4),
            adate=udate if rand() < 0.6 else None,
            edate=cdate + randrange(0, 100) * DAY if rand() < 0.2 else None,
            created_by=None if rand() < 0.5 else 1, updated_by=None if rand() < 0.5 else 1,
            score=randrange(0, 100),
        )
        # list memberships (about 10% of contacts are on no list)
        if rand() >= 0.10:
            k = 1 if rand() < 0.6 else (2 if rand() < 0.7 else 3)
            for lid in rng.sample(active_lists, k):
                x = rand()
                status = next(s for p, s in status_cum if x < p)
                if bounced:
                    status = 3
                sdate = cdate + randrange(0, 3 * DAY)
                mud = sdate if status in (0, 1) and rand() < 0.5 else max(
                    sdate, min(EPOCH_END, sdate + randrange(0, 300 * DAY)))
                lists_t[ml_id] = ContactList(
                    ml_id, i, lid, status, sdate, mud, sdate, fn, ln,
                    form=None if rand() < 0.7 else randrange(1, 5),
                    sourceid=randrange(0, 5),
                    unsubreason=(choice(["", "Too many emails", "Never signed up", None])
                                 if status == 2 else None),
                    campaign=(choice(campaign_ids) if status == 2 and rand() < 0.5 else None),
                )
                ml_id += 1
        # tags
        ntags = 0 if rand() < 0.3 else (1 if rand() < 0.5 else randrange(2, 5))
        if ntags:
            for tid in set(rng.choices(tag_ids, weights=tag_weights, k=ntags)):
                ctags_t[ct_id] = ContactTag(ct_id, i, tid, cdate + randrange(0, 200 * DAY))
                ct_id += 1
        # custom field values
        for fid, ftype, fopts, perstag in field_specs:
            if rand() >= field_probs[fid]:
                continue
            if ftype == "text":
                if perstag == "JOB_TITLE":
                    val = choice(JOB_TITLES)
                else:
                    val = choice([f"https://{base}.example.com", "www.example.org", "not a url",
                                  ""])
            elif ftype == "hidden":
                val = choice(["webinar-2025", "facebook", "import-2023", "api"])
            else:
                val = _field_value(rng, ftype, fopts, tz, i)
            fv_cdate = cdate + randrange(0, 30 * DAY)
            fvals_t[fv_id] = FieldValue(fv_id, i, fid, val, fv_cdate,
                                        max(fv_cdate, min(EPOCH_END, udate)))
            fv_id += 1
        # a never-updated (imported) contact, with memberships, tags and values
        if (lists_t.get(ml_id - 1) is not None and lists_t[ml_id - 1].contact == i
                and ctags_t.get(ct_id - 1) is not None and ctags_t[ct_id - 1].contact == i
                and fvals_t.get(fv_id - 1) is not None and fvals_t[fv_id - 1].contact == i
                and null_rng.random() < NULL_UDATE_CONTACTS):
            contacts_t[i].udate = None
        # automations
        if rand() < 0.2:
            for aid in rng.sample(automation_ids, 1 if rand() < 0.7 else 2):
                add = cdate + randrange(0, 10 * DAY)
                done = rand() < 0.5
                total = randrange(2, 8)
                cautos_t[ca_id] = ContactAutomation(
                    ca_id, i, aid, 2 if done else 1, add, add + randrange(DAY, 40 * DAY) if done
                    else None, add + randrange(0, 20 * DAY), randrange(1, 10),
                    total if done else randrange(0, total), total,
                )
                ca_id += 1
        # accounts and deals
        if rand() < 0.3:
            acc = randrange(1, n_accounts + 1)
            acc_t[acc_ct_id] = AccountContact(acc_ct_id, acc, i, choice(JOB_TITLES), cdate,
                                              cdate + randrange(0, 30 * DAY))
            acc_ct_id += 1
            contacts_t[i].orgid = acc
            contacts_t[i].orgname = store.accounts[acc].name
            if rand() < 0.3:
                gid = randrange(1, len(store.deal_groups) + 1)
                group = store.deal_groups[gid]
                dcd = cdate + randrange(0, 60 * DAY)
                status = choice([0, 0, 0, 1, 2])
                deals_t[deal_id] = Deal(
                    deal_id, f"Deal {deal_id} — {store.accounts[acc].name}",
                    choice(["", "Renewal of the annual plan", "Upsell: 50 seats", "Pilot"]),
                    i, acc, randrange(1, n_users + 1), gid, choice(group.stages),
                    randrange(0, 5_000_000), group.currency, status, randrange(0, 101), dcd,
                    min(EPOCH_END, dcd + randrange(0, 120 * DAY)),
                    dcd + randrange(0, 5 * DAY) if rand() < 0.5 else None, randrange(0, 101),
                    dcd if rand() < 0.7 else None, activitycount=randrange(0, 12),
                )
                if null_rng.random() < NULL_MDATE_DEALS:
                    deals_t[deal_id].mdate = None
                deal_id += 1

    store.build_indexes()
    store.catalog = build_catalog(store, seed)
    return store
