// Notifications of mock-ews as ews-javascript-api 0.15.3 (the EWS Managed API's JavaScript
// port) sees them. Its parsers are positional (EWS.md 6.2): GetEvents expects each event's
// Watermark first, streaming events none, and the stream is read as one XML document split
// into envelopes.
//
//   node ews_javascript_api_notifications.js http://127.0.0.1:PORT/EWS/Exchange.asmx
//
// Run by the Rust test `notification_compat::ews_javascript_api_notifications` against
// worlds/small-office.yaml; NODE_PATH must reach the installed package. Pull, streaming and
// push each receive an item created through the library, pull sees a MoveToDeletedItems
// delete as a Moved event; the push listener answers
// Unsubscribe on its second post. Each check prints one line; any failure exits non-zero.

const http = require("http");
const ews = require("ews-javascript-api");

const url = process.argv[2];
const control = url.replace(/\/EWS\/.*$/i, "/mock");

function check(name, cond, detail) {
  if (!cond) {
    console.error(`FAILED ${name}: ${detail === undefined ? "" : String(detail)}`);
    process.exit(1);
  }
  console.log(`ok  ${name}`);
}

const service = new ews.ExchangeService(ews.ExchangeVersion.Exchange2010_SP2);
service.Credentials = new ews.WebCredentials("svc-sync", "sync-pw");
service.Url = new ews.Uri(url);
service.ImpersonatedUserId = new ews.ImpersonatedUserId(ews.ConnectingIdType.SmtpAddress, "bob@contoso.com");
const calendar = () => [new ews.FolderId(ews.WellKnownFolderName.Calendar)];
const types = [ews.EventType.Created, ews.EventType.Modified, ews.EventType.Deleted];

async function create(subject) {
  const a = new ews.Appointment(service);
  a.Subject = subject;
  a.Start = ews.DateTime.Parse("2026-03-24T09:00:00Z");
  a.End = ews.DateTime.Parse("2026-03-24T09:30:00Z");
  await a.Save(new ews.FolderId(ews.WellKnownFolderName.Calendar), ews.SendInvitationsMode.SendToNone);
  return a.Id.UniqueId;
}

function createdIn(events) {
  return events
    .filter((e) => e.EventType === ews.EventType.Created && e.ItemId)
    .map((e) => e.ItemId.UniqueId);
}

async function json(path) {
  return new Promise((resolve, reject) => {
    http.get(control + path, (res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve(JSON.parse(body)));
    }).on("error", reject);
  });
}

async function main() {
  // 1. Pull.
  const pull = await service.SubscribeToPullNotifications(calendar(), 10, null, ...types);
  check("pull subscription has id and watermark", pull.Id && pull.Watermark, pull.Id);
  const initial = pull.Watermark;
  const pulled = await create("Pulled");
  const results = await pull.GetEvents();
  check("pull receives the created item", createdIn(results.ItemEvents).includes(pulled), JSON.stringify(createdIn(results.ItemEvents)));
  check("pull chains from the subscription watermark", results.PreviousWatermark === initial, results.PreviousWatermark);
  check("pull moves the watermark on", results.NewWatermark && results.NewWatermark !== initial && pull.Watermark === results.NewWatermark, results.NewWatermark);
  check("every pull event has its time stamp", results.AllEvents.every((e) => e.TimeStamp), "");
  await pull.Unsubscribe();
  check("unsubscribe pull", true);

  // 1b. Outlook's delete (DeleteMode.MoveToDeletedItems) is a Moved event out of the calendar.
  const trash = await service.SubscribeToPullNotifications(calendar(), 10, null, ews.EventType.Moved, ...types);
  const trashedId = await create("Trashed");
  const trashed = await ews.Appointment.Bind(service, new ews.ItemId(trashedId));
  await trashed.Delete(ews.DeleteMode.MoveToDeletedItems, ews.SendCancellationsMode.SendToNone);
  const moves = (await trash.GetEvents()).ItemEvents.filter((e) => e.EventType === ews.EventType.Moved);
  check("MoveToDeletedItems is one Moved event", moves.length === 1, moves.length);
  check("the Moved event names the calendar id as OldItemId", moves[0].OldItemId && moves[0].OldItemId.UniqueId === trashedId, JSON.stringify(moves[0].OldItemId));
  check("the Moved event has both parent folders", moves[0].ParentFolderId && moves[0].OldParentFolderId && moves[0].ParentFolderId.UniqueId !== moves[0].OldParentFolderId.UniqueId, "");
  await trash.Unsubscribe();

  // 2. Streaming: one connection, the item created once it is open.
  const streaming = await service.SubscribeToStreamingNotifications(calendar(), ...types);
  check("streaming subscription has an id", streaming.Id, streaming.Id);
  const connection = new ews.StreamingSubscriptionConnection(service, 1);
  connection.AddSubscription(streaming);
  const streamed = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no streaming notification within 10 s")), 10000);
    connection.OnNotificationEvent.push((sender, args) => {
      clearTimeout(timer);
      resolve(args.Events);
    });
    connection.OnSubscriptionError.push((sender, args) => reject(args.Exception || new Error("subscription error")));
  });
  // Open() settles only when the hanging request ends (and not at all after Close()), so it
  // is not awaited.
  connection.Open().catch((e) => console.error("stream ended:", e && e.message));
  const streamedId = await create("Streamed");
  const events = await streamed;
  check("streaming receives the created item", createdIn(events).includes(streamedId), JSON.stringify(createdIn(events)));
  connection.Close();
  await streaming.Unsubscribe();
  check("unsubscribe streaming", true);

  // 3. Push to a listener here; the second post is answered Unsubscribe.
  const posts = [];
  let notify = () => {};
  const listener = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      posts.push(body);
      const status = posts.length === 2 ? "Unsubscribe" : "OK";
      res.writeHead(200, { "Content-Type": "text/xml; charset=utf-8" });
      res.end(`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><SendNotificationResult xmlns="http://schemas.microsoft.com/exchange/services/2006/messages"><SubscriptionStatus>${status}</SubscriptionStatus></SendNotificationResult></s:Body></s:Envelope>`);
      notify();
    });
  });
  await new Promise((r) => listener.listen(0, "127.0.0.1", r));
  const callback = new ews.Uri(`http://127.0.0.1:${listener.address().port}/listener`);
  const push = await service.SubscribeToPushNotifications(calendar(), callback, 30, null, ...types);
  check("push subscription has id and watermark", push.Id && push.Watermark, push.Id);
  const waitPosts = (n) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`fewer than ${n} posts within 10 s`)), 10000);
      const test = () => {
        if (posts.length >= n) {
          clearTimeout(timer);
          resolve();
        }
      };
      notify = test;
      test();
    });
  const first = await create("Pushed");
  await waitPosts(1);
  check("push receives the created item", posts[0].includes(first) && posts[0].includes("CreatedEvent"), posts[0]);
  const second = await create("Pushed again");
  await waitPosts(2);
  check("second post has the second item", posts[1].includes(second), posts[1]);
  const deadline = Date.now() + 10000;
  while ((await json("/subscriptions")).includes(push.Id) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 10));
  }
  check("an Unsubscribe answer ends the push subscription", !(await json("/subscriptions")).includes(push.Id));
  listener.close();
  console.log("all ews-javascript-api notification checks passed");
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error("FAILED", e && (e.stack || e.message || e));
    process.exit(1);
  },
);
