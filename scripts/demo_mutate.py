"""Change some data in the ActiveCampaign sandbox, as a user would between two scheduled runs."""

from __future__ import annotations

import argparse

from sandbox.control import SandboxControl


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ac", default="http://127.0.0.1:18080", help="ActiveCampaign sandbox URL")
    args = parser.parse_args()
    ac = SandboxControl(args.ac)
    data = ac.dump()
    contacts = sorted(data["contacts"], key=lambda c: c["id"])
    active = [m for m in data["contact_lists"] if m["status"] == 1]
    tagged = [c for c in contacts if c["tags"]]
    job_title = next(f["id"] for f in data["contact_custom_fields"] if f["perstag"] == "JOB_TITLE")
    first_list = data["lists"][0]
    ops = [
        {"op": "create_contact", "fields": {"email": "New.Subscriber@Example.com",
                                            "firstName": "Nova", "lastName": "Reyes"}},
        {"op": "update_contact", "id": contacts[1]["id"], "fields": {"lastName": "Updated"}},
        {"op": "change_email", "id": contacts[2]["id"], "email": "changed.address@example.org"},
        {"op": "unsubscribe", "contact": active[0]["contact"], "list": active[0]["list"]},
        {"op": "remove_tag", "contact": tagged[0]["id"], "tag": tagged[0]["tags"][0]},
        {"op": "add_tag", "contact": contacts[3]["id"], "tag": "vip"},
        {"op": "set_field_value", "contact": contacts[4]["id"], "field": job_title,
         "value": "Head of Lifecycle"},
        {"op": "rename_list", "id": first_list["id"], "name": first_list["name"] + " (renamed)"},
        {"op": "delete_contact", "id": contacts[5]["id"]},
    ]
    ac.mutate(*ops)
    print(f"    created 1 contact, updated 1, changed 1 email, unsubscribed contact "
          f"{active[0]['contact']} from list {active[0]['list']}, re-tagged 2, edited 1 custom "
          f"field, renamed list {first_list['id']}, deleted contact {contacts[5]['id']} "
          f"(deletes are invisible to ActiveCampaign's API: it stays in Brevo)")


if __name__ == "__main__":
    main()
