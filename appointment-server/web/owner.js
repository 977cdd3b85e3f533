// The owner's page: /owner. Sign up, log in, log out; the dashboard (today's and upcoming
// bookings, the appointments with their share links); a new or edited appointment; an
// appointment's bookings with the owner's actions; the ban list; analytics with charts. The
// bearer token lives in sessionStorage only: it is sent as an Authorization header, never in an
// address, and is gone when the tab closes.

import { api, dayKey, el, explain, fill, momentText, showView, visitorZone } from "./common.js";

const $ = (id) => document.getElementById(id);
const TOKEN_KEY = "appointment-master.owner-token";
const NAME_KEY = "appointment-master.owner-name";
/** At most this many appointments are read for the dashboard's bookings (one request each). */
const DASHBOARD_APPOINTMENTS = 10;
const DAYS = [
  ["mon", "Monday"], ["tue", "Tuesday"], ["wed", "Wednesday"], ["thu", "Thursday"],
  ["fri", "Friday"], ["sat", "Saturday"], ["sun", "Sunday"],
];
const STATUS_WORDS = {
  active: "Confirmed",
  pending: "Awaiting your confirmation",
  declined: "Declined",
  expired: "Expired unconfirmed",
  cancelled: "Cancelled",
  rejected: "Rejected",
  completed: "Attended",
  no_show: "Did not come",
};
const TYPE_WORDS = { single: "one client at a time", group: "group", party: "event" };

let current = null; // the appointment whose bookings are shown

const token = () => sessionStorage.getItem(TOKEN_KEY);
const auth = () => ({ authorization: `Bearer ${token()}` });

function message(node, text) {
  fill($(node), text ? el("p", {}, text) : null);
}

function clearMessages() {
  for (const id of ["login-error", "signup-error", "dashboard-error", "dashboard-notice",
    "create-error", "bookings-error", "bookings-notice", "login-notice", "bans-notice", "bans-error",
    "analytics-error"]) message(id, "");
}

/** The owner's view of a refusal. */
function ownerExplain(answer) {
  const data = answer.data || {};
  if (answer.status === 401) return "Your session has ended. Please log in again.";
  if (data.code === "invalid_input") return data.message || "Please check the details you entered.";
  if (data.code === "invalid_transition") return "This booking has changed meanwhile; the list is read again.";
  if (data.code === "limit_reached") return "You have as many appointments as this service allows.";
  return explain(answer);
}

/** An authenticated call; a 401 ends the session and shows the login. */
async function call(method, path, body, headers = {}) {
  const answer = await api(method, path, body, { ...auth(), ...headers });
  if (answer.status === 401) {
    forget();
    showLogin("Your session has ended. Please log in again.");
  }
  return answer;
}

function forget() {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(NAME_KEY);
  $("owner-nav").hidden = true;
}

function showLogin(notice = "") {
  $("owner-nav").hidden = true;
  showView("login");
  message("login-notice", notice);
}

function bookLink(code) {
  return `${window.location.origin}/book/${encodeURIComponent(code)}`;
}

// ------------------------------------------------------------------------ sign up, log in, out

async function logIn(email, password, errorNode) {
  const answer = await api("POST", "/login", { email, password });
  if (answer.status !== 200) {
    message(errorNode, answer.status === 401 ? "The email or the password is wrong." : ownerExplain(answer));
    return false;
  }
  sessionStorage.setItem(TOKEN_KEY, answer.data.token);
  sessionStorage.setItem(NAME_KEY, answer.data.user.name || answer.data.user.email || "");
  $("login-form").reset();
  $("signup-form").reset();
  await showDashboard();
  return true;
}

async function onLogin(event) {
  event.preventDefault();
  clearMessages();
  const email = $("login-email").value.trim();
  const password = $("login-password").value;
  if (!email || !password) {
    message("login-error", "Please enter your email and your password.");
    return;
  }
  $("login-submit").disabled = true;
  await logIn(email, password, "login-error");
  $("login-submit").disabled = false;
}

async function onSignup(event) {
  event.preventDefault();
  clearMessages();
  const name = $("signup-name").value.trim();
  const email = $("signup-email").value.trim();
  const password = $("signup-password").value;
  if (name.length < 2) return message("signup-error", "Please enter a name of at least 2 characters.");
  if (!email.includes("@")) return message("signup-error", "Please enter a valid email address.");
  if (password.length < 8) return message("signup-error", "Please choose a password of at least 8 characters.");
  $("signup-submit").disabled = true;
  const answer = await api("POST", "/users", { name, email, password });
  if (answer.status === 201) {
    await logIn(email, password, "signup-error");
  } else if (answer.status === 409) {
    message("signup-error", "An account with this email already exists. Please log in instead.");
  } else {
    message("signup-error", ownerExplain(answer));
  }
  $("signup-submit").disabled = false;
}

async function onLogout() {
  await api("POST", "/logout", undefined, auth());
  forget();
  clearMessages();
  showLogin("You are logged out.");
}

// ---------------------------------------------------------------------------------- dashboard

function copyButton(link, statusNode) {
  return el("button", {
    type: "button",
    class: "copy",
    "data-link": link,
    onclick: async () => {
      try {
        await navigator.clipboard.writeText(link);
        message(statusNode, `Link copied: ${link}`);
      } catch {
        message(statusNode, "The link could not be copied here: select it and copy it by hand.");
      }
    },
  }, "Copy link");
}

function appCard(app) {
  const link = bookLink(app.app_code);
  const seats = app.type === "single" ? "" : `, ${app.max_attendees} seats`;
  return el("li", { class: "card app", "data-code": app.app_code },
    el("h3", {}, app.title),
    el("p", { class: "hint" },
      `${TYPE_WORDS[app.type] || app.type}${seats}, ${app.booking_duration} minutes, ${app.timezone}`,
      app.status === "closed" ? " — closed" : "",
      app.confirm_within_minutes ? " — you confirm each booking" : ""),
    el("p", { class: "share" }, "Booking page: ",
      el("a", { class: "book-link", href: link }, link)),
    el("p", { class: "buttons" },
      copyButton(link, "dashboard-notice"),
      el("button", {
        type: "button", class: "show-bookings", onclick: () => showBookings(app),
      }, "Bookings", el("span", { class: "sr-only" }, ` of ${app.title}`))));
}

function bookingItem(booking, app, actions) {
  const zone = app ? app.timezone : visitorZone;
  return el("li", { class: `card booking status-${booking.status}`, "data-code": booking.booking_code },
    el("h3", {}, momentText(booking.start_time, visitorZone)),
    el("dl", { class: "facts" },
      app ? el("div", {}, el("dt", {}, "Appointment"), el("dd", {}, app.title)) : null,
      el("div", {}, el("dt", {}, "Status"), el("dd", { class: "status" }, STATUS_WORDS[booking.status] || booking.status)),
      el("div", {}, el("dt", {}, "Name"), el("dd", {}, booking.name)),
      el("div", {}, el("dt", {}, "Email"), el("dd", {}, booking.email)),
      booking.phone ? el("div", {}, el("dt", {}, "Phone"), el("dd", {}, booking.phone)) : null,
      el("div", {}, el("dt", {}, "Seats"), el("dd", {}, String(booking.attendee_count))),
      el("div", {}, el("dt", {}, "Code"), el("dd", {}, el("code", {}, booking.booking_code))),
      zone !== visitorZone
        ? el("div", {}, el("dt", {}, "In the appointment's zone"), el("dd", {}, momentText(booking.start_time, zone)))
        : null,
      booking.status === "pending" && booking.confirm_by
        ? el("div", {}, el("dt", {}, "Confirm by"), el("dd", {}, momentText(booking.confirm_by, visitorZone)))
        : null),
    actions);
}

/** All bookings of an appointment (pages of 100, at most 10 pages). */
async function bookingsOf(code) {
  const items = [];
  for (let page = 1; page <= 10; page += 1) {
    const answer = await call("GET", `/appointments/users/${encodeURIComponent(code)}?per_page=100&page=${page}`);
    if (answer.status !== 200) return { answer, items };
    items.push(...answer.data.items);
    if (page >= answer.data.total_pages) break;
  }
  return { answer: { status: 200 }, items };
}

/** Reads and shows the dashboard; its section is aria-busy until every list is drawn. */
async function showDashboard() {
  clearMessages();
  $("who").textContent = sessionStorage.getItem(NAME_KEY) || "";
  const view = document.querySelector("[data-view='dashboard']");
  view.setAttribute("aria-busy", "true");
  try {
    const answer = await call("GET", "/appointments/my?per_page=100");
    if (answer.status === 401) return;
    $("owner-nav").hidden = false;
    showView("dashboard");
    await renderDashboard(answer);
  } finally {
    view.removeAttribute("aria-busy");
  }
}

async function renderDashboard(answer) {
  fill($("apps"));
  fill($("today"));
  fill($("upcoming"));
  if (answer.status !== 200) {
    message("dashboard-error", ownerExplain(answer));
    return;
  }
  const apps = answer.data.items;
  if (apps.length === 0) {
    fill($("apps"), el("li", { class: "hint" }, "No appointment yet. Create one, then send its link to your clients."));
  } else {
    fill($("apps"), ...apps.map(appCard));
  }
  const read = apps.slice(0, DASHBOARD_APPOINTMENTS);
  fill($("bookings-scope"), apps.length > read.length
    ? `Bookings of your ${read.length} newest appointments; open an appointment for its own.`
    : "");
  const lists = await Promise.all(read.map((app) => bookingsOf(app.app_code)));
  const failed = lists.find((l) => l.answer.status !== 200);
  if (failed) {
    if (failed.answer.status !== 401) message("dashboard-error", ownerExplain(failed.answer));
    return;
  }
  const now = Date.now();
  const today = dayKey(new Date(now).toISOString(), visitorZone);
  const rows = [];
  lists.forEach((list, i) => {
    for (const b of list.items) {
      if (Date.parse(b.end_time) < now - 12 * 3600 * 1000) continue;
      rows.push({ booking: b, app: read[i] });
    }
  });
  rows.sort((a, b) => Date.parse(a.booking.start_time) - Date.parse(b.booking.start_time));
  const todays = rows.filter((r) => dayKey(r.booking.start_time, visitorZone) === today);
  const later = rows.filter((r) => dayKey(r.booking.start_time, visitorZone) > today
    && (r.booking.status === "active" || r.booking.status === "pending"));
  const item = (r) => bookingItem(r.booking, r.app, el("p", { class: "buttons" },
    el("button", { type: "button", onclick: () => showBookings(r.app) },
      "Open", el("span", { class: "sr-only" }, ` the bookings of ${r.app.title}`))));
  fill($("today"), ...(todays.length ? todays.map(item) : [el("li", { class: "hint" }, "No bookings today.")]));
  fill($("upcoming"), ...(later.length ? later.map(item) : [el("li", { class: "hint" }, "No upcoming bookings.")]));
}

// -------------------------------------------------------------------------- new appointment

function isoDate(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** The fields an edit cannot change (PATCH /appointments/{app_code} does not take them). */
const FIXED_ON_EDIT = ["c-type", "c-capacity", "c-duration", "c-start", "c-end", "c-zone"];

let editing = null; // the appointment being edited, or null for a new one

function buildCreateForm() {
  const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  if (!zones.includes("UTC")) zones.unshift("UTC");
  if (!zones.includes(visitorZone)) zones.unshift(visitorZone);
  fill($("c-zone"), ...zones.map((z) => el("option", { value: z, selected: z === visitorZone }, z)));
  fill($("c-hours"), ...DAYS.map(([key, name], i) => el("div", { class: "hours-row" },
    el("label", { class: "day" },
      el("input", { type: "checkbox", id: `h-${key}-on`, checked: i < 5 }), ` ${name}`),
    el("label", { for: `h-${key}-from` }, "from"),
    el("input", { type: "time", id: `h-${key}-from`, value: "09:00" }),
    el("label", { for: `h-${key}-to` }, "to"),
    el("input", { type: "time", id: `h-${key}-to`, value: "17:00" }))));
}

let closureRows = 0;

/** A row of closed dates (first, last, what it is) with its remove button. */
function closureRow(closure) {
  closureRows += 1;
  const n = closureRows;
  const row = el("div", { class: "closure-row", "data-closure": String(n) },
    el("label", { for: `cl-${n}-from` }, "From"),
    el("input", { type: "date", id: `cl-${n}-from`, class: "cl-from", value: closure.from }),
    el("label", { for: `cl-${n}-to` }, "to"),
    el("input", { type: "date", id: `cl-${n}-to`, class: "cl-to", value: closure.to }),
    el("label", { for: `cl-${n}-label` }, "What it is ", el("span", { class: "optional" }, "(optional)")),
    el("input", { id: `cl-${n}-label`, class: "cl-label", value: closure.label || "", maxlength: "200" }),
    el("button", {
      type: "button",
      class: "cl-remove",
      onclick: () => {
        row.remove();
        $("closure-add").focus();
      },
    }, "Remove", el("span", { class: "sr-only" }, " these closed dates")));
  return row;
}

function addClosure() {
  const first = $("c-start").value || isoDate(new Date());
  const row = closureRow({ from: first, to: first });
  $("c-closures").append(row);
  row.querySelector(".cl-from").focus();
}

/** The closures the form shows, or null after reporting an error. */
function closures() {
  const out = [];
  for (const row of $("c-closures").querySelectorAll(".closure-row")) {
    const from = row.querySelector(".cl-from");
    const to = row.querySelector(".cl-to");
    if (!from.value || !to.value || to.value < from.value) {
      invalid(to.id, "Closed dates: each needs a first date and a last date on or after it.");
      return null;
    }
    const label = row.querySelector(".cl-label").value.trim();
    out.push(label ? { from: from.value, to: to.value, label } : { from: from.value, to: to.value });
  }
  return out;
}

let overrideRows = 0;
let keptOverrides = []; // overrides the form cannot show as one window: sent back unchanged

/** A row of a date with hours of its own (one window) and its remove button. */
function overrideRow(override) {
  overrideRows += 1;
  const n = overrideRows;
  const [from, to] = (override.hours[0] || "09:00-17:00").split("-");
  const row = el("div", { class: "closure-row override-row" },
    el("label", { for: `ov-${n}-date` }, "Date"),
    el("input", { type: "date", id: `ov-${n}-date`, class: "ov-date", value: override.date }),
    el("label", { for: `ov-${n}-from` }, "from"),
    el("input", { type: "time", id: `ov-${n}-from`, class: "ov-from", value: from }),
    el("label", { for: `ov-${n}-to` }, "to"),
    el("input", { type: "time", id: `ov-${n}-to`, class: "ov-to", value: to }),
    el("button", {
      type: "button",
      class: "cl-remove",
      onclick: () => {
        row.remove();
        $("override-add").focus();
      },
    }, "Remove", el("span", { class: "sr-only" }, " these hours")));
  return row;
}

function addOverride() {
  const row = overrideRow({ date: $("c-start").value || isoDate(new Date()), hours: [] });
  $("c-overrides").append(row);
  row.querySelector(".ov-date").focus();
}

function showOverrides(list) {
  keptOverrides = list.filter((o) => o.hours.length !== 1 || o.hours[0].endsWith("24:00"));
  fill($("c-overrides"), ...list.filter((o) => !keptOverrides.includes(o)).map(overrideRow));
  fill($("c-overrides-kept"), ...keptOverrides.map((o) => el("li", {},
    `${o.date}: ${o.hours.length ? o.hours.join(", ") : "closed"} (kept as it is)`)));
}

/** The dates with hours of their own, or null after reporting an error. */
function overrides() {
  const out = [...keptOverrides];
  for (const row of $("c-overrides").querySelectorAll(".override-row")) {
    const day = row.querySelector(".ov-date");
    const from = row.querySelector(".ov-from").value;
    const to = row.querySelector(".ov-to");
    if (!day.value) {
      invalid(day.id, "Special hours: please choose a date.");
      return null;
    }
    if (!from || !to.value || to.value <= from) {
      invalid(to.id, "Special hours: the hours must end after they start.");
      return null;
    }
    out.push({ date: day.value, hours: [`${from}-${to.value}`] });
  }
  return out;
}

function resetCreateForm(heading, submit) {
  clearMessages();
  $("create-form").reset();
  buildCreateForm();
  for (const node of $("create-form").querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
  for (const id of FIXED_ON_EDIT) $(id).disabled = editing !== null;
  $("c-hours-note").hidden = true;
  $("c-hours-set").disabled = false;
  fill($("c-closures"));
  showOverrides([]);
  fill($("create-title"), heading);
  fill($("create-submit"), submit);
  $("c-fixed-note").hidden = editing === null;
  fill($("create-cancel"), editing ? "Back to the bookings" : "Back to the dashboard");
}

function showCreate() {
  editing = null;
  resetCreateForm("New appointment", "Create the appointment");
  const start = new Date();
  const end = new Date();
  end.setDate(end.getDate() + 30);
  $("c-start").value = isoDate(start);
  $("c-end").value = isoDate(end);
  $("c-capacity-field").hidden = false;
  $("c-confirm-hours").disabled = true;
  showView("create");
}

/** The edit form, filled from the appointment; hours of more than one window a day are kept. */
function showEdit(app) {
  editing = app;
  resetCreateForm(`Edit ${app.title}`, "Save the changes");
  $("c-title").value = app.title;
  $("c-description").value = app.description || "";
  $("c-type").value = app.type;
  $("c-capacity").value = String(app.max_attendees);
  $("c-capacity-field").hidden = app.type === "single";
  $("c-duration").value = String(app.booking_duration);
  $("c-start").value = String(app.start_date).slice(0, 10);
  $("c-end").value = String(app.end_date).slice(0, 10);
  if (![...$("c-zone").options].some((o) => o.value === app.timezone)) {
    $("c-zone").append(el("option", { value: app.timezone }, app.timezone));
  }
  $("c-zone").value = app.timezone;
  const hours = app.weekly_hours || {};
  const simple = DAYS.some(([key]) => (hours[key] || []).length > 0)
    && DAYS.every(([key]) => (hours[key] || []).length <= 1
      && !(hours[key] || []).some((w) => w.endsWith("24:00")));
  for (const [key] of DAYS) {
    const window = (hours[key] || [])[0];
    $(`h-${key}-on`).checked = Boolean(window);
    if (window) {
      const [from, to] = window.split("-");
      $(`h-${key}-from`).value = from;
      $(`h-${key}-to`).value = to;
    }
  }
  if (!simple) {
    $("c-hours-set").disabled = true;
    $("c-hours-note").hidden = false;
  }
  for (const closure of app.closures || []) $("c-closures").append(closureRow(closure));
  showOverrides(app.overrides || []);
  const approval = app.confirm_within_minutes !== null && app.confirm_within_minutes !== undefined;
  $("c-approval").checked = approval;
  $("c-confirm-hours").disabled = !approval;
  if (approval) $("c-confirm-hours").value = String(Math.max(1, Math.round(app.confirm_within_minutes / 60)));
  showView("create");
}

function invalid(id, text) {
  $(id).setAttribute("aria-invalid", "true");
  message("create-error", text);
  $(id).focus();
}

/** The weekly hours the form shows, or an error already reported (null). */
function weeklyHours() {
  const weekly = {};
  for (const [key, name] of DAYS) {
    if (!$(`h-${key}-on`).checked) continue;
    const from = $(`h-${key}-from`).value;
    const to = $(`h-${key}-to`).value;
    if (!from || !to || to <= from) {
      invalid(`h-${key}-to`, `${name}: the hours must end after they start.`);
      return null;
    }
    weekly[key] = [`${from}-${to}`];
  }
  if (Object.keys(weekly).length === 0) {
    invalid("h-mon-on", "Please tick at least one day.");
    return null;
  }
  return weekly;
}

/** Minutes the owner has to confirm, null for none, or undefined after reporting an error. */
function confirmWithin() {
  if (!$("c-approval").checked) return null;
  const hours = Number($("c-confirm-hours").value);
  if (!(Number.isInteger(hours) && hours >= 1 && hours <= 720)) {
    invalid("c-confirm-hours", "Please enter a whole number of hours from 1 to 720.");
    return undefined;
  }
  return hours * 60;
}

async function onCreate(event) {
  event.preventDefault();
  clearMessages();
  for (const node of $("create-form").querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
  if (editing) return onEdit();
  const title = $("c-title").value.trim();
  if (!title) return invalid("c-title", "Please give the appointment a title.");
  const type = $("c-type").value;
  const capacity = Number($("c-capacity").value);
  if (type !== "single" && !(Number.isInteger(capacity) && capacity >= 1)) {
    return invalid("c-capacity", "Please enter a number of seats of at least 1.");
  }
  const duration = Number($("c-duration").value);
  if (!(Number.isInteger(duration) && duration >= 1)) {
    return invalid("c-duration", "Please enter the length of a time in whole minutes.");
  }
  const startDate = $("c-start").value;
  const endDate = $("c-end").value;
  if (!startDate) return invalid("c-start", "Please choose the first day.");
  if (!endDate || endDate < startDate) return invalid("c-end", "Please choose a last day on or after the first.");
  const weekly = weeklyHours();
  if (!weekly) return undefined;
  const body = {
    title,
    description: $("c-description").value,
    type,
    booking_duration: duration,
    start_date: startDate,
    end_date: endDate,
    timezone: $("c-zone").value,
    weekly_hours: weekly,
  };
  if (type !== "single") body.max_attendees = capacity;
  const closed = closures();
  if (!closed) return undefined;
  if (closed.length) body.closures = closed;
  const special = overrides();
  if (!special) return undefined;
  if (special.length) body.overrides = special;
  const within = confirmWithin();
  if (within === undefined) return undefined;
  if (within !== null) body.confirm_within_minutes = within;
  $("create-submit").disabled = true;
  const answer = await call("POST", "/appointments", body);
  $("create-submit").disabled = false;
  if (answer.status === 201) {
    await showDashboard();
    message("dashboard-notice", `“${answer.data.title}” is created. Send its link to your clients: ${bookLink(answer.data.app_code)}`);
  } else if (answer.status !== 401) {
    message("create-error", ownerExplain(answer));
  }
  return undefined;
}

/** Saves an edit, on the revision the form was filled from (If-Match). */
async function onEdit() {
  const title = $("c-title").value.trim();
  if (!title) return invalid("c-title", "Please give the appointment a title.");
  const body = { title, description: $("c-description").value };
  if (!$("c-hours-set").disabled) {
    const weekly = weeklyHours();
    if (!weekly) return undefined;
    body.weekly_hours = weekly;
  }
  const closed = closures();
  if (!closed) return undefined;
  body.closures = closed;
  const special = overrides();
  if (!special) return undefined;
  body.overrides = special;
  const within = confirmWithin();
  if (within === undefined) return undefined;
  body.confirm_within_minutes = within;
  $("create-submit").disabled = true;
  const answer = await call("PATCH", `/appointments/${encodeURIComponent(editing.app_code)}`, body,
    { "if-match": `"${editing.revision}"` });
  $("create-submit").disabled = false;
  if (answer.status === 200) {
    const outside = answer.data.bookings_outside_hours;
    await showBookings(answer.data.appointment);
    message("bookings-notice", `The changes are saved.${outside
      ? ` ${outside} booking${outside === 1 ? " is" : "s are"} now outside the hours and kept as they are.`
      : ""}`);
  } else if (answer.status === 412) {
    message("create-error", "This appointment was changed meanwhile (elsewhere?). Open it again to see the changes before you edit it.");
  } else if (answer.status !== 401) {
    message("create-error", ownerExplain(answer));
  }
  return undefined;
}

// ------------------------------------------------------------------ an appointment's bookings

function actionsFor(booking) {
  const started = Date.parse(booking.start_time) <= Date.now();
  const act = (verb, label, cls = "") => el("button", {
    type: "button",
    class: `act-${verb} ${cls}`,
    onclick: () => runAction(booking, verb),
  }, label, el("span", { class: "sr-only" }, ` (${booking.name}, ${booking.booking_code})`));
  const buttons = [];
  if (booking.status === "pending") {
    buttons.push(act("confirm", "Confirm", "primary"), act("decline", "Decline", "danger"));
  } else if (booking.status === "active") {
    if (started) buttons.push(act("complete", "Attended"), act("no-show", "Did not come"));
    buttons.push(act("reject", "Reject", "danger"));
  }
  return buttons.length ? el("p", { class: "buttons" }, ...buttons) : null;
}

const DONE_WORDS = {
  confirm: "confirmed", decline: "declined", reject: "rejected",
  complete: "marked as attended", "no-show": "marked as not attended",
};

/** Runs an owner's action on a booking, reads the list again and keeps the keyboard's place. */
async function runAction(booking, verb) {
  clearMessages();
  const answer = await call("POST", `/bookings/${encodeURIComponent(booking.booking_code)}/${verb}`);
  if (answer.status === 401) return;
  await loadBookings();
  const heading = document.querySelector(`#bookings li[data-code="${CSS.escape(booking.booking_code)}"] h3`);
  if (heading) {
    heading.setAttribute("tabindex", "-1");
    heading.focus();
  }
  if (answer.status === 200) {
    message("bookings-notice", `The booking of ${booking.name} (${booking.booking_code}) is ${DONE_WORDS[verb]}.`);
  } else {
    message("bookings-error", ownerExplain(answer));
  }
}

async function loadBookings() {
  const { answer, items } = await bookingsOf(current.app_code);
  if (answer.status === 401) return;
  if (answer.status !== 200) {
    message("bookings-error", ownerExplain(answer));
    return;
  }
  items.sort((a, b) => Date.parse(a.start_time) - Date.parse(b.start_time));
  fill($("bookings"), ...(items.length
    ? items.map((b) => bookingItem(b, null, actionsFor(b)))
    : [el("li", { class: "hint" }, "No bookings yet.")]));
}

function showAppState() {
  const closed = current.status === "closed";
  fill($("app-state"), closed
    ? "Closed: the booking page takes no bookings; bookings made stay valid."
    : "Open: clients can book through the link.");
  fill($("close-toggle"), closed ? "Reopen" : "Close to new bookings");
}

async function toggleClosed() {
  clearMessages();
  const verb = current.status === "closed" ? "reopen" : "close";
  const answer = await call("POST", `/appointments/${encodeURIComponent(current.app_code)}/${verb}`);
  if (answer.status === 401) return;
  if (answer.status === 200) {
    current = answer.data.appointment;
    showAppState();
    message("bookings-notice", verb === "close" ? "The appointment is closed to new bookings." : "The appointment is open again.");
  } else {
    message("bookings-error", ownerExplain(answer));
  }
}

async function showBookings(app) {
  clearMessages();
  current = app;
  showAppState();
  fill($("bookings-title"), `Bookings of ${app.title}`);
  const link = bookLink(app.app_code);
  fill($("bookings-link"), "Booking page: ", el("a", { class: "book-link", href: link }, link), " ",
    copyButton(link, "bookings-notice"));
  fill($("bookings"));
  showView("bookings");
  await loadBookings();
}

// ----------------------------------------------------------------------------------- ban list

async function loadBans() {
  const answer = await call("GET", "/ban-list");
  if (answer.status === 401) return;
  if (answer.status !== 200) {
    message("bans-error", ownerExplain(answer));
    return;
  }
  fill($("bans"), ...(answer.data.length
    ? answer.data.map((ban) => el("li", { class: "card ban", "data-email": ban.banned_email },
      el("span", { class: "banned" }, ban.banned_email), " ",
      el("button", { type: "button", class: "lift", onclick: () => liftBan(ban.banned_email) },
        "Lift the ban", el("span", { class: "sr-only" }, ` of ${ban.banned_email}`))))
    : [el("li", { class: "hint" }, "Nobody is banned.")]));
}

async function showBans() {
  clearMessages();
  $("ban-form").reset();
  fill($("bans"));
  showView("bans");
  await loadBans();
}

async function onBan(event) {
  event.preventDefault();
  clearMessages();
  const address = $("ban-email").value.trim();
  if (!address.includes("@")) {
    $("ban-email").setAttribute("aria-invalid", "true");
    message("bans-error", "Please enter a valid email address.");
    return;
  }
  $("ban-email").removeAttribute("aria-invalid");
  const answer = await call("POST", "/ban-list", { email: address });
  if (answer.status === 401) return;
  if (answer.status === 201) {
    $("ban-form").reset();
    message("bans-notice", `${answer.data.banned_email} is banned.`);
  } else if (answer.status === 409) {
    message("bans-error", "This address is already banned.");
  } else {
    message("bans-error", ownerExplain(answer));
  }
  await loadBans();
}

async function liftBan(address) {
  clearMessages();
  const answer = await call("DELETE", "/ban-list", { email: address });
  if (answer.status === 401) return;
  if (answer.status === 200 || answer.status === 404) {
    message("bans-notice", `The ban of ${address} is lifted.`);
    $("ban-email").focus();
  } else {
    message("bans-error", ownerExplain(answer));
  }
  await loadBans();
}

// ---------------------------------------------------------------------------------- analytics

const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attrs = {}, text = null) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (text !== null) node.textContent = text;
  return node;
}

/** A horizontal bar chart (SVG built node by node) with its figures as a list beside it. */
function barChart(id, title, rows) {
  const max = Math.max(1, ...rows.map((r) => r.value));
  const barHeight = 22;
  const gap = 8;
  const labelWidth = 150;
  const width = 360;
  const height = rows.length * (barHeight + gap);
  const chart = svg("svg", {
    viewBox: `0 0 ${width} ${height}`, class: "chart", role: "img", "aria-labelledby": `${id}-title`,
  });
  chart.append(svg("title", { id: `${id}-svg-title` }, title));
  rows.forEach((row, i) => {
    const y = i * (barHeight + gap);
    const length = Math.round(((width - labelWidth - 50) * row.value) / max);
    chart.append(
      svg("text", { x: 0, y: y + barHeight * 0.72, class: "chart-label" }, row.label),
      svg("rect", { x: labelWidth, y, width: Math.max(length, 1), height: barHeight, class: `bar bar-${row.key}` }),
      svg("text", { x: labelWidth + length + 6, y: y + barHeight * 0.72, class: "chart-value" }, String(row.value)),
    );
  });
  return el("figure", { class: "figure", id },
    el("figcaption", { id: `${id}-title` }, title),
    chart,
    el("ul", { class: "figures" }, ...rows.map((r) => el("li", { "data-key": r.key }, `${r.label}: ${r.value}`))));
}

function isoUtcDate(date) {
  return date.toISOString().slice(0, 10);
}

/** At most this many periods (one analytics request each) in the chart over time. */
const MAX_PERIODS = 12;
const DAY_MS = 86400000;
const SERIES = [
  {
    key: "confirmed", short: "Confirmed", label: "Confirmed or attended",
    of: (a) => a.active_bookings + a.completed_bookings,
  },
  { key: "pending", short: "Awaiting", label: "Awaiting you", of: (a) => a.pending_bookings },
  { key: "no_show", short: "No-show", label: "Did not come", of: (a) => a.no_show_bookings },
  {
    key: "called_off",
    short: "Called off",
    label: "Cancelled, rejected, declined or expired",
    of: (a) => a.cancelled_bookings + a.rejected_bookings + a.declined_bookings + a.expired_bookings,
  },
];

/** The range cut into weeks, or into at most MAX_PERIODS equal parts when it is longer. */
function periods(start, end) {
  const first = Date.parse(`${start}T00:00:00Z`);
  const days = Math.round((Date.parse(`${end}T00:00:00Z`) - first) / DAY_MS) + 1;
  const length = Math.max(7, Math.ceil(days / MAX_PERIODS));
  const out = [];
  for (let offset = 0; offset < days; offset += length) {
    const from = new Date(first + offset * DAY_MS);
    const to = new Date(first + Math.min(offset + length, days) * DAY_MS - DAY_MS);
    out.push({ from: isoUtcDate(from), to: isoUtcDate(to) });
  }
  return out;
}

function shortDate(iso) {
  return new Intl.DateTimeFormat(undefined, { timeZone: "UTC", day: "numeric", month: "short" })
    .format(new Date(`${iso}T00:00:00Z`));
}

/** Stacked columns of bookings by status, one per period (SVG built node by node), and a table. */
function overTimeChart(rows) {
  const width = 360;
  const height = 180;
  const bottom = 20;
  const max = Math.max(1, ...rows.map((r) => SERIES.reduce((n, s) => n + s.of(r.figures), 0)));
  const step = width / rows.length;
  const chart = svg("svg", {
    viewBox: `0 0 ${width} ${height}`, class: "chart", role: "img", "aria-labelledby": "chart-time-title",
  });
  rows.forEach((row, i) => {
    let y = height - bottom;
    for (const series of SERIES) {
      const value = series.of(row.figures);
      if (!value) continue;
      const h = ((height - bottom - 10) * value) / max;
      y -= h;
      chart.append(svg("rect", {
        x: i * step + step * 0.15, y, width: step * 0.7, height: h, class: `bar bar-${series.key}`,
      }));
    }
    if (i % Math.ceil(rows.length / 6) === 0) {
      chart.append(svg("text", { x: i * step + 2, y: height - 5, class: "chart-label" }, shortDate(row.from)));
    }
  });
  const table = el("table", { class: "over-time" },
    el("caption", { class: "sr-only" }, "Bookings by status, per period"),
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "From"),
      ...SERIES.map((s) => el("th", { scope: "col", title: s.label }, s.short)))),
    el("tbody", {}, ...rows.map((row) => el("tr", { "data-from": row.from, "data-to": row.to },
      el("th", { scope: "row" }, `${shortDate(row.from)}–${shortDate(row.to)}`),
      ...SERIES.map((s) => el("td", { "data-key": s.key }, String(s.of(row.figures))))))));
  return el("figure", { class: "figure", id: "chart-time" },
    el("figcaption", { id: "chart-time-title" }, "Bookings by status over time"),
    chart,
    el("ul", { class: "legend" }, ...SERIES.map((s) => el("li", {},
      el("span", { class: `swatch bar-${s.key}`, "aria-hidden": "true" }), s.label))),
    el("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": "Bookings by status, per period" },
      table));
}

/** The figures of each period, one request after the other (analytics is work for the server). */
async function overTime(start, end) {
  const rows = [];
  for (const period of periods(start, end)) {
    const answer = await call("GET", `/analytics?start_date=${period.from}&end_date=${period.to}`);
    if (answer.status !== 200) return null;
    rows.push({ ...period, figures: answer.data });
  }
  return rows;
}

function showAnalytics() {
  clearMessages();
  const now = Date.now();
  // Twelve weeks: four back, eight ahead.
  $("a-start").value = isoUtcDate(new Date(now - 27 * DAY_MS));
  $("a-end").value = isoUtcDate(new Date(now + 56 * DAY_MS));
  fill($("analytics-result"));
  showView("analytics");
  return loadAnalytics();
}

async function loadAnalytics() {
  const start = $("a-start").value;
  const end = $("a-end").value;
  if (!start || !end || end < start) {
    message("analytics-error", "Please choose a first date and a last date on or after it.");
    return;
  }
  const view = document.querySelector("[data-view='analytics']");
  view.setAttribute("aria-busy", "true");
  try {
    const answer = await call("GET", `/analytics?start_date=${encodeURIComponent(start)}&end_date=${encodeURIComponent(end)}`);
    if (answer.status === 401) return;
    if (answer.status !== 200) {
      message("analytics-error", ownerExplain(answer));
      return;
    }
    const a = answer.data;
    const statuses = [
      ["active", "Confirmed", a.active_bookings], ["pending", "Awaiting you", a.pending_bookings],
      ["completed", "Attended", a.completed_bookings], ["no_show", "Did not come", a.no_show_bookings],
      ["cancelled", "Cancelled", a.cancelled_bookings], ["rejected", "Rejected", a.rejected_bookings],
      ["declined", "Declined", a.declined_bookings], ["expired", "Expired", a.expired_bookings],
    ].map(([key, label, value]) => ({ key, label, value }));
    fill($("analytics-result"),
      el("p", { id: "analytics-summary" },
        `${a.total_bookings} booking${a.total_bookings === 1 ? "" : "s"} from ${a.start_date} to ${a.end_date}; `
        + `${a.total_appointments} appointment${a.total_appointments === 1 ? "" : "s"} created.`),
      barChart("chart-status", "Bookings by status", statuses),
      barChart("chart-seats", "Seats booked and offered", [
        { key: "booked", label: "Booked", value: a.seats_booked },
        { key: "pending", label: "Awaiting you", value: a.seats_pending },
        { key: "offered", label: "Offered", value: a.seats_offered },
      ]),
      a.no_show_rate === null || a.no_show_rate === undefined
        ? null
        : el("p", {}, `No-show rate: ${Math.round(a.no_show_rate * 100)}%`));
    const rows = await overTime(start, end);
    if (rows) $("analytics-result").append(overTimeChart(rows));
  } finally {
    view.removeAttribute("aria-busy");
  }
}

// ------------------------------------------------------------------------------------- start

function start() {
  $("login-form").addEventListener("submit", onLogin);
  $("signup-form").addEventListener("submit", onSignup);
  $("to-signup").addEventListener("click", () => { clearMessages(); showView("signup"); });
  $("to-login").addEventListener("click", () => showLogin());
  $("logout").addEventListener("click", onLogout);
  $("nav-dashboard").addEventListener("click", showDashboard);
  $("nav-create").addEventListener("click", showCreate);
  $("create-start").addEventListener("click", showCreate);
  $("create-cancel").addEventListener("click", () => (editing ? showBookings(editing) : showDashboard()));
  $("c-type").addEventListener("change", () => {
    $("c-capacity-field").hidden = $("c-type").value === "single";
  });
  $("c-approval").addEventListener("change", () => {
    $("c-confirm-hours").disabled = !$("c-approval").checked;
  });
  $("edit-start").addEventListener("click", () => showEdit(current));
  $("closure-add").addEventListener("click", addClosure);
  $("override-add").addEventListener("click", addOverride);
  $("close-toggle").addEventListener("click", toggleClosed);
  $("create-form").addEventListener("submit", onCreate);
  $("bookings-back").addEventListener("click", showDashboard);
  $("nav-bans").addEventListener("click", showBans);
  $("ban-form").addEventListener("submit", onBan);
  $("nav-analytics").addEventListener("click", showAnalytics);
  $("analytics-form").addEventListener("submit", (event) => {
    event.preventDefault();
    clearMessages();
    loadAnalytics();
  });
  if (token()) showDashboard();
  else showLogin();
}

start();
