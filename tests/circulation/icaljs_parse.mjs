// Parse an iCalendar object from stdin with ical.js (Mozilla's parser, used by Thunderbird's
// web-facing code and many CalDAV web clients) and print what a calendar client would see as JSON.
//
// Usage: node tests/circulation/icaljs_parse.mjs < invitation.ics
//
// Every VTIMEZONE in the file is registered with ICAL.TimezoneService before any date is read,
// so times with TZID=... are resolved by the embedded definition, never by the zone of the
// machine running the test. Each event reports the tzid and UTC offset that ical.js used.
import ICAL from "ical.js";

function readStdin() {
  return new Promise((resolve, reject) => {
    const chunks = [];
    process.stdin.on("data", (chunk) => chunks.push(chunk));
    process.stdin.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    process.stdin.on("error", reject);
  });
}

function address(prop) {
  if (!prop) {
    return null;
  }
  const value = prop.getFirstValue();
  return {
    email: String(value).replace(/^mailto:/i, ""),
    cn: prop.getParameter("cn") ?? null,
    role: prop.getParameter("role") ?? null,
    partstat: prop.getParameter("partstat") ?? null,
    rsvp: prop.getParameter("rsvp") ?? null,
    cutype: prop.getParameter("cutype") ?? null,
  };
}

// ical.js keeps an X- property it has no type for as written (still escaped); MS-OXCICAL
// says X-ALT-DESC is TEXT, so it is unescaped as TEXT here, as Outlook reads it.
function textOf(prop) {
  if (!prop) {
    return null;
  }
  return String(prop.getFirstValue()).replace(/\\([\\;,nN])/g, (_, c) =>
    c === "n" || c === "N" ? "\n" : c,
  );
}

function when(time) {
  return {
    utc: time.toJSDate().toISOString(),
    tzid: time.zone ? time.zone.tzid : null,
    offsetSeconds: time.utcOffset(),
  };
}

const text = await readStdin();
const vcalendar = new ICAL.Component(ICAL.parse(text));

const timezones = vcalendar.getAllSubcomponents("vtimezone");
for (const vtimezone of timezones) {
  ICAL.TimezoneService.register(vtimezone);
}

const events = vcalendar.getAllSubcomponents("vevent").map((vevent) => {
  const event = new ICAL.Event(vevent);
  const start = when(event.startDate);
  const end = when(event.endDate);
  return {
    uid: event.uid,
    sequence: event.sequence,
    status: vevent.getFirstPropertyValue("status"),
    summary: event.summary,
    description: event.description,
    location: event.location,
    url: vevent.getFirstPropertyValue("url"),
    transp: vevent.getFirstPropertyValue("transp"),
    start: start.utc,
    end: end.utc,
    startZone: start.tzid,
    startOffsetSeconds: start.offsetSeconds,
    endOffsetSeconds: end.offsetSeconds,
    organizer: address(vevent.getFirstProperty("organizer")),
    attendees: vevent.getAllProperties("attendee").map(address),
    relatedTo: vevent.getFirstPropertyValue("related-to"),
    // Outlook's own properties (MS-OXCICAL); X- properties are read as text.
    altDesc: textOf(vevent.getFirstProperty("x-alt-desc")),
    altDescType: vevent.getFirstProperty("x-alt-desc")?.getParameter("fmttype") ?? null,
    busyStatus: vevent.getFirstPropertyValue("x-microsoft-cdo-busystatus"),
    intendedStatus: vevent.getFirstPropertyValue("x-microsoft-cdo-intendedstatus"),
  };
});

process.stdout.write(
  JSON.stringify({
    method: vcalendar.getFirstPropertyValue("method"),
    prodid: vcalendar.getFirstPropertyValue("prodid"),
    calname: vcalendar.getFirstPropertyValue("x-wr-calname"),
    refreshInterval: vcalendar.getFirstPropertyValue("refresh-interval")?.toString() ?? null,
    publishedTtl: vcalendar.getFirstPropertyValue("x-published-ttl")?.toString() ?? null,
    timezones: timezones.map((tz) => tz.getFirstPropertyValue("tzid")),
    registered: timezones.map((tz) => ICAL.TimezoneService.has(tz.getFirstPropertyValue("tzid"))),
    events,
  }),
);
