"""Notifications of mock-ews as the real exchangelib client (5.6.0) sees them.

Run by the Rust test `notification_compat::exchangelib_notifications` against
worlds/small-office.yaml on a frozen clock:

    python3 exchangelib_notifications.py http://127.0.0.1:PORT/EWS/Exchange.asmx

Pull, streaming and push each receive an item created through exchangelib, pull sees
move_to_trash as a MovedEvent out of the calendar; a push listener
(built on exchangelib's own SendNotification parser) that answers Unsubscribe ends its
subscription. Each check prints one line; any failure raises, so the exit status is the verdict.
"""

import json
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer

from exchangelib import (
    Account,
    CalendarItem,
    Configuration,
    Credentials,
    EWSDateTime,
    EWSTimeZone,
    IMPERSONATION,
)
from exchangelib.protocol import BaseProtocol
from exchangelib.services import SendNotification

URL = sys.argv[1]
CONTROL = URL.rsplit("/EWS/", 1)[0] + "/mock"
BERLIN = EWSTimeZone("Europe/Berlin")
BaseProtocol.TIMEOUT = 10


def check(name, cond, detail=""):
    if not cond:
        raise AssertionError(f"{name}: {detail}")
    print(f"ok  {name}")


config = Configuration(service_endpoint=URL, credentials=Credentials("svc-sync", "sync-pw"))
bob = Account(
    primary_smtp_address="bob@contoso.com",
    config=config,
    autodiscover=False,
    access_type=IMPERSONATION,
    default_timezone=BERLIN,
)


def create(subject):
    item = CalendarItem(
        account=bob,
        folder=bob.calendar,
        subject=subject,
        start=EWSDateTime(2026, 3, 24, 10, 0, tzinfo=BERLIN),
        end=EWSDateTime(2026, 3, 24, 10, 30, tzinfo=BERLIN),
    )
    item.save()
    return item


def created_ids(notifications):
    return [
        e.item_id.id
        for n in notifications
        for e in n.events
        if type(e).__name__ == "CreatedEvent"
    ]


# 1. Pull.
sub_id, watermark = bob.calendar.subscribe_to_pull(timeout=10)
check("pull subscription has id and watermark", sub_id and watermark, (sub_id, watermark))
item = create("Pulled")
ns = list(bob.calendar.get_events(sub_id, watermark))
check("pull receives the created item", item.id in created_ids(ns), f"{item.id} not in {ns}")
check("pull notification chains from our watermark", ns[0].previous_watermark == watermark, ns)
check("unsubscribe pull", bob.calendar.unsubscribe(sub_id) is True)

# 1b. Outlook's delete: move_to_trash (DeleteType MoveToDeletedItems) is a MovedEvent out of
# the calendar, with the calendar id as OldItemId.
sub_id, watermark = bob.calendar.subscribe_to_pull(timeout=10)
item = create("Trashed")
old_id = item.id
item.move_to_trash()
ns = list(bob.calendar.get_events(sub_id, watermark))
moved = [e for n in ns for e in n.events if type(e).__name__ == "MovedEvent"]
check("move_to_trash is one MovedEvent", len(moved) == 1, ns)
check("the MovedEvent names the calendar id as OldItemId", moved[0].old_item_id.id == old_id, moved)
check(
    "the MovedEvent leaves the calendar",
    moved[0].old_parent_folder_id.id == bob.calendar.id
    and moved[0].parent_folder_id.id != bob.calendar.id,
    moved,
)
check("unsubscribe pull after the move", bob.calendar.unsubscribe(sub_id) is True)

# 2. Streaming: an item created before connecting waits on the subscription.
sub_id = bob.calendar.subscribe_to_streaming()
item = create("Streamed")
got = list(
    bob.calendar.get_streaming_events(sub_id, connection_timeout=1, max_notifications_returned=1)
)
check("streaming receives the created item", item.id in created_ids(got), f"{item.id} not in {got}")
check("unsubscribe streaming", bob.calendar.unsubscribe(sub_id) is True)

# 3. Push, to a listener built on exchangelib's SendNotification parser.
received = []
arrived = threading.Condition()
answers = ["OK", "Unsubscribe"]


class Listener(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        ws = SendNotification(protocol=None)
        notifications = list(ws.parse(body))
        answer = answers.pop(0) if answers else "OK"
        payload = ws.ok_payload() if answer == "OK" else ws.unsubscribe_payload()
        self.send_response(200)
        self.send_header("Content-Type", "text/xml; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
        with arrived:
            received.append(notifications)
            arrived.notify_all()

    def log_message(self, *args):
        pass


server = HTTPServer(("127.0.0.1", 0), Listener)
threading.Thread(target=server.serve_forever, daemon=True).start()
callback = f"http://127.0.0.1:{server.server_port}/listener"


def wait_for(count):
    with arrived:
        arrived.wait_for(lambda: len(received) >= count, timeout=10)
    return len(received) >= count


sub_id, watermark = bob.calendar.subscribe_to_push(callback_url=callback, status_frequency=30)
check("push subscription has id and watermark", sub_id and watermark, (sub_id, watermark))
first = create("Pushed")
check("push listener gets a post", wait_for(1), received)
check("push receives the created item", first.id in created_ids(received[0]), received[0])
second = create("Pushed again")
check("push listener gets a second post", wait_for(2), received)
check("second post has the second item", second.id in created_ids(received[1]), received[1])
# The listener answered Unsubscribe: once the server has read the answer the subscription is
# gone and nothing can be posted any more.
def active():
    return json.load(urllib.request.urlopen(CONTROL + "/subscriptions"))


deadline = time.monotonic() + 10
while sub_id in active() and time.monotonic() < deadline:
    time.sleep(0.01)
check("an Unsubscribe answer ends the push subscription", sub_id not in active(), active())
create("Not pushed")
check("no subscription is left", active() == [], active())
server.shutdown()

print("all exchangelib notification checks passed")
