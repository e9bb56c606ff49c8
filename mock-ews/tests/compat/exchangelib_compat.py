"""Compatibility check of mock-ews with the real exchangelib client (5.6.0).

Run by the Rust test `compat::exchangelib` (tests/it/compat.rs) against a server loaded with
worlds/small-office.yaml on a frozen clock at its `now`:

    python3 exchangelib_compat.py http://127.0.0.1:PORT/EWS/Exchange.asmx [BUILD API_VERSION]

BUILD and API_VERSION are what version detection must find (default 14.3.181.6 and
Exchange2010_SP2, the 2010 SP3 profile); the test also runs the world as Exchange 2016.

Each check prints one line; any failure raises, so the exit status is the verdict.
"""

import sys
import datetime

from exchangelib import (
    Account,
    Configuration,
    Credentials,
    EWSDateTime,
    EWSTimeZone,
    IMPERSONATION,
    OofSettings,
)
from exchangelib.errors import ErrorImpersonateUserDenied
from exchangelib.protocol import BaseProtocol

URL = sys.argv[1]
BUILD = sys.argv[2] if len(sys.argv) > 2 else "14.3.181.6"
API_VERSION = sys.argv[3] if len(sys.argv) > 3 else "Exchange2010_SP2"
UTC = EWSTimeZone("UTC")
BERLIN = EWSTimeZone("Europe/Berlin")


def check(name, cond, detail=""):
    if not cond:
        raise AssertionError(f"{name}: {detail}")
    print(f"ok  {name}")


def account(user, password, mailbox):
    config = Configuration(service_endpoint=URL, credentials=Credentials(user, password))
    return Account(
        primary_smtp_address=mailbox,
        config=config,
        autodiscover=False,
        access_type=IMPERSONATION,
        default_timezone=BERLIN,
    )


# Every request needs a fresh session pool per test run; keep retries off.
BaseProtocol.TIMEOUT = 10

alice = account("svc-sync", "sync-pw", "alice@contoso.com")

# 1. Version detection: 401 challenge -> Basic, ConvertId probe walks down to 2010 SP2.
version = alice.protocol.version
check("auth type is basic", alice.protocol.auth_type == "basic", alice.protocol.auth_type)
check(f"build {BUILD}", str(version.build) == BUILD, str(version.build))
check(f"api version {API_VERSION}", version.api_version == API_VERSION, version.api_version)

# 2. Calendar view with a recurring series: moved and deleted occurrences across DST.
start = EWSDateTime(2026, 3, 23, 0, 0, tzinfo=BERLIN)
end = EWSDateTime(2026, 4, 9, 0, 0, tzinfo=BERLIN)
items = list(alice.calendar.view(start=start, end=end))
def when(t):
    """A UTC minute for date-times; exchangelib gives all-day items as plain dates."""
    if isinstance(t, datetime.datetime):
        return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")
    return t.isoformat()


summary = [(i.subject, when(i.start), i.type) for i in items]
for row in summary:
    print("    ", row)
expected_standups = [
    ("Standup", "2026-03-23T08:30", "Occurrence"),
    ("Standup (late)", "2026-03-25T10:00", "Exception"),
    ("Standup", "2026-03-30T07:30", "Occurrence"),
    ("Standup", "2026-04-01T07:30", "Occurrence"),
    ("Standup", "2026-04-08T07:30", "Occurrence"),
]
check(
    "series expanded in Berlin time across DST, moved and deleted occurrences",
    [r for r in summary if r[0].startswith("Standup")] == expected_standups,
    summary,
)
offsite = [i for i in items if i.subject == "Offsite"]
check("all-day item", len(offsite) == 1 and offsite[0].is_all_day, summary)
check("all-day item is 26 March in its zone", when(offsite[0].start) == "2026-03-26", repr(offsite[0].start))

# 3. GetItem of an occurrence and of its master.
occurrence = items[0]
got = alice.calendar.get(id=occurrence.id, changekey=occurrence.changekey)
check("GetItem by occurrence id", got.subject == occurrence.subject and got.start == occurrence.start, repr(got.start))
master = occurrence.recurring_master()
master.refresh()  # recurring_master() only builds the reference
check("recurring master has the pattern", master.recurrence is not None and master.type == "RecurringMaster", repr(master.recurrence))
check("master lists one modified and one deleted occurrence", len(master.modified_occurrences or []) == 1 and len(master.deleted_occurrences or []) == 1, repr(master.deleted_occurrences))

# 4. OOF get and set round trip.
oof = alice.oof_settings
check("OOF is scheduled", oof.state == OofSettings.SCHEDULED, oof.state)
alice.oof_settings = OofSettings(
    state=OofSettings.ENABLED,
    external_audience="All",
    internal_reply="compat: inside",
    external_reply="compat: outside",
)
again = alice.oof_settings
check("OOF set round trip", again.state == OofSettings.ENABLED and again.internal_reply == "compat: inside", repr(again))

# 5. Impersonation denied.
try:
    denied = account("svc-freebusy", "fb-pw", "alice@contoso.com")
    list(denied.calendar.view(start=start, end=end))
    raise AssertionError("impersonation was not denied")
except ErrorImpersonateUserDenied as e:
    check("impersonation denied", True, str(e))

# 6. Free/busy.
bob = account("svc-sync", "sync-pw", "bob@contoso.com")
fb_start = EWSDateTime(2026, 3, 24, 0, 0, tzinfo=BERLIN)
fb_end = EWSDateTime(2026, 3, 25, 0, 0, tzinfo=BERLIN)
views = list(
    alice.protocol.get_free_busy_info(
        accounts=[(alice, "Organizer", False), (bob, "Required", False)],
        start=fb_start,
        end=fb_end,
        merged_free_busy_interval=60,
        requested_view="DetailedMerged",
    )
)
check("two free/busy views", len(views) == 2, repr(views))
alice_view, bob_view = views
print("     alice merged:", alice_view.merged, "events:", [(e.start, e.busy_type) for e in alice_view.calendar_events or []])
check("alice merged string has 24 digits", alice_view.merged is not None and len(alice_view.merged) == 24, alice_view.merged)
check("alice doctor appointment is OOF at 14:00-15:00 Berlin", alice_view.merged[14] == "3", alice_view.merged)
check("bob is OOF all day (vacation)", set(bob_view.merged) == {"3"}, bob_view.merged)
print("all exchangelib checks passed")
