// Compatibility check of mock-ews with the real EWS Managed API port ews-javascript-api
// (0.15.3), the client most JavaScript integrations use.
//
//   node ews_javascript_api_compat.js http://127.0.0.1:PORT/EWS/Exchange.asmx
//
// Run by the Rust test `compat::ews_javascript_api` (tests/it/compat.rs) against
// worlds/small-office.yaml on a frozen clock; NODE_PATH must reach the installed package.
// Each check prints one line; any failure exits non-zero.

const ews = require("ews-javascript-api");

const url = process.argv[2];

function check(name, cond, detail) {
  if (!cond) {
    console.error(`FAILED ${name}: ${detail === undefined ? "" : JSON.stringify(detail)}`);
    process.exit(1);
  }
  console.log(`ok  ${name}`);
}

function service(user, password, impersonate) {
  const s = new ews.ExchangeService(ews.ExchangeVersion.Exchange2010_SP2);
  s.Credentials = new ews.WebCredentials(user, password);
  s.Url = new ews.Uri(url);
  if (impersonate) {
    s.ImpersonatedUserId = new ews.ImpersonatedUserId(ews.ConnectingIdType.SmtpAddress, impersonate);
  }
  return s;
}

function utc(d) {
  return d.ToISOString ? d.ToISOString() : String(d);
}

async function main() {
  const alice = service("svc-sync", "sync-pw", "alice@contoso.com");

  // Bind the calendar (GetFolder), then a calendar view across the EU DST change.
  const folder = await ews.CalendarFolder.Bind(alice, ews.WellKnownFolderName.Calendar);
  check("calendar folder bound", folder.DisplayName === "Calendar", folder.DisplayName);
  check("server version read from the header", alice.ServerInfo && alice.ServerInfo.MajorVersion === 14, alice.ServerInfo);

  const view = new ews.CalendarView(
    ews.DateTime.Parse("2026-03-23T00:00:00Z"),
    ews.DateTime.Parse("2026-04-09T00:00:00Z"),
  );
  const found = await folder.FindAppointments(view);
  const rows = found.Items.map((a) => [a.Subject, a.Start.ToISOString(), ews.AppointmentType[a.AppointmentType]]);
  rows.forEach((r) => console.log("    ", JSON.stringify(r)));
  const standups = rows.filter((r) => r[0].startsWith("Standup")).map((r) => r[0] + "@" + r[1].slice(0, 16));
  check(
    "series in Berlin time across DST with moved and deleted occurrences",
    JSON.stringify(standups) ===
      JSON.stringify([
        "Standup@2026-03-23T08:30",
        "Standup (late)@2026-03-25T10:00",
        "Standup@2026-03-30T07:30",
        "Standup@2026-04-01T07:30",
        "Standup@2026-04-08T07:30",
      ]),
    standups,
  );
  check("types", rows[0][2] === "Occurrence" && rows[2][2] === "Exception", rows);

  // GetItem of an occurrence and of its master.
  const occ = await ews.Appointment.Bind(alice, found.Items[0].Id, ews.PropertySet.FirstClassProperties);
  check("occurrence bound", occ.Subject === "Standup", occ.Subject);
  const master = await ews.Appointment.BindToRecurringMaster(alice, found.Items[0].Id);
  check("master bound with its recurrence", master.Recurrence !== null && master.Recurrence !== undefined, master.AppointmentType);
  check("master lists exceptions", master.ModifiedOccurrences.Count === 1 && master.DeletedOccurrences.Count === 1, [
    master.ModifiedOccurrences.Count,
    master.DeletedOccurrences.Count,
  ]);

  // OOF get and set.
  const owner = service("alice@contoso.com", "alice-pw");
  const oof = await owner.GetUserOofSettings("alice@contoso.com");
  check("OOF scheduled", oof.State === ews.OofState.Scheduled, oof.State);
  const next = new ews.OofSettings();
  next.State = ews.OofState.Enabled;
  next.ExternalAudience = ews.OofExternalAudience.All;
  next.InternalReply = new ews.OofReply("js: inside");
  next.ExternalReply = new ews.OofReply("js: outside");
  await owner.SetUserOofSettings("alice@contoso.com", next);
  const again = await owner.GetUserOofSettings("alice@contoso.com");
  check("OOF set round trip", again.State === ews.OofState.Enabled && String(again.InternalReply) === "js: inside", String(again.InternalReply));

  // Impersonation denied.
  const denied = service("svc-freebusy", "fb-pw", "alice@contoso.com");
  try {
    await ews.CalendarFolder.Bind(denied, ews.WellKnownFolderName.Calendar);
    check("impersonation denied", false, "bound");
  } catch (e) {
    // A SOAP fault arrives as SoapFaultDetails with the ServiceError in `responseCode`.
    const code = e.responseCode !== undefined ? ews.ServiceError[e.responseCode] : String(e.message || e);
    check("impersonation denied", code === "ErrorImpersonateUserDenied", code);
  }

  // Free/busy for two mailboxes.
  const attendees = [new ews.AttendeeInfo("alice@contoso.com"), new ews.AttendeeInfo("bob@contoso.com")];
  const window = new ews.TimeWindow(ews.DateTime.Parse("2026-03-24T00:00:00Z"), ews.DateTime.Parse("2026-03-25T00:00:00Z"));
  const fb = await alice.GetUserAvailability(attendees, window, ews.AvailabilityData.FreeBusy);
  const results = fb.AttendeesAvailability.Responses;
  check("two availability results", results.length === 2, results.length);
  const aliceEvents = results[0].CalendarEvents.map((e) => ews.LegacyFreeBusyStatus[e.FreeBusyStatus]);
  check("alice has the OOF doctor appointment", aliceEvents.includes("OOF"), aliceEvents);
  const bobEvents = results[1].CalendarEvents.map((e) => ews.LegacyFreeBusyStatus[e.FreeBusyStatus]);
  check("bob is on vacation (OOF)", bobEvents.includes("OOF"), bobEvents);

  console.log("all ews-javascript-api checks passed");
}

main().catch((e) => {
  console.error("FAILED with exception:", e && (e.stack || e.message || e));
  process.exit(1);
});
