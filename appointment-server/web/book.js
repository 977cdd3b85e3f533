// The booking page: /book/{app_code}.

import {
  api, el, explain, fill, idempotencyKey, minutesText, momentText, showView, slotText, visitorZone,
} from "./common.js";
import { Picker } from "./picker.js";

const $ = (id) => document.getElementById(id);

let appointment = null;
let zoneChoice = "visitor";
let chosen = null;
let fullSlot = null;
let picker = null;
// Seats held for this visitor while the form is open: { token, start, seats, expires }.
let hold = null;
let countdown = null;
// Bumped on every pick, so that an answer to an older pick's hold is let go.
let holdGeneration = 0;

const zone = () => (zoneChoice === "appointment" ? appointment.timezone : visitorZone);
const needsApproval = () => appointment.confirm_within_minutes !== null
  && appointment.confirm_within_minutes !== undefined;

function appCodeFromPath() {
  const last = window.location.pathname.split("/").filter(Boolean).pop() || "";
  try {
    return decodeURIComponent(last);
  } catch {
    return "";
  }
}

function showChosen() {
  fill($("chosen"), chosen
    ? el("span", {}, "Chosen time: ", el("strong", {}, slotText(chosen.start_time, chosen.end_time, zone())))
    : "No time chosen yet.");
}

function showHold() {
  const box = $("hold");
  if (!hold) {
    box.hidden = true;
    return;
  }
  const left = Math.max(0, Math.round((hold.expires - Date.now()) / 1000));
  const clock = `${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}`;
  fill($("hold-text"), `This time is held for you until ${momentText(new Date(hold.expires).toISOString(), zone())}: `,
    el("strong", {}, `${clock} left`), " to send the form.");
  box.hidden = false;
  if (left === 0) {
    stopCountdown();
    hold = null;
    box.hidden = true;
    fill($("hold-ended"), "The time is no longer held for you. You can still book it while it is free.");
    $("hold-ended").hidden = false;
  }
}

function stopCountdown() {
  if (countdown) clearInterval(countdown);
  countdown = null;
}

/** Gives the held seats back; the promise settles once the service has them back. */
function releaseHold() {
  stopCountdown();
  const token = hold && hold.token;
  hold = null;
  showHold();
  return token ? api("DELETE", `/holds/${encodeURIComponent(token)}`) : Promise.resolve();
}

/**
 * Holds the chosen time's seats while the form is filled in. A time taken meanwhile is said at
 * once; an appointment that takes no holds is booked without one.
 */
async function takeHold(slot) {
  const generation = ++holdGeneration;
  await releaseHold();
  $("hold-ended").hidden = true;
  if (generation !== holdGeneration) return;
  const n = seats();
  if (!(n >= 1 && n <= slot.seats_left)) return;
  const answer = await api("POST", "/holds", {
    app_code: appointment.app_code,
    start_time: slot.start_time,
    attendee_count: n,
  }, { "idempotency-key": idempotencyKey() });
  if (generation !== holdGeneration) {
    if (answer.status === 201) {
      api("DELETE", `/holds/${encodeURIComponent(answer.data.hold_token)}`);
    }
    return;
  }
  if (answer.status === 201) {
    hold = {
      token: answer.data.hold_token,
      start: slot.start_time,
      seats: n,
      expires: Date.parse(answer.data.expires_at),
    };
    showHold();
    countdown = setInterval(showHold, 1000);
    return;
  }
  if (answer.data && answer.data.code === "slot_full") {
    setError(explain(answer));
    fullSlot = slot;
    $("waitlist").hidden = false;
    await picker.refresh();
  }
  // Any other refusal (an appointment that takes no holds): the booking decides.
}

function setError(message) {
  fill($("form-error"), message ? el("p", {}, message) : null);
}

function markInvalid(field, invalid) {
  if (invalid) $(field).setAttribute("aria-invalid", "true");
  else $(field).removeAttribute("aria-invalid");
}

function seats() {
  if (appointment.type === "single") return 1;
  return Number.parseInt($("seats").value, 10);
}

/** Checks the form before sending it; returns a message, or "" when it can be sent. */
function check() {
  const name = $("name").value.trim();
  const email = $("email").value.trim();
  const n = seats();
  markInvalid("name", !name);
  markInvalid("email", !/^[^\s@]+@[^\s@]+$/.test(email));
  markInvalid("seats", appointment.type !== "single" && !(n >= 1 && n <= appointment.max_attendees));
  if (!name) return "Please enter your name.";
  if (!/^[^\s@]+@[^\s@]+$/.test(email)) return "Please enter a valid email address.";
  if (!(n >= 1 && n <= appointment.max_attendees)) {
    return `Please choose between 1 and ${appointment.max_attendees} seats.`;
  }
  return "";
}

async function submit(event) {
  event.preventDefault();
  setError("");
  $("waitlist").hidden = true;
  if (!chosen) {
    setError("Please choose a day and a time first.");
    return;
  }
  const problem = check();
  if (problem) {
    setError(problem);
    return;
  }
  if (seats() > chosen.seats_left) {
    markInvalid("seats", true);
    setError(`Only ${chosen.seats_left} seat${chosen.seats_left === 1 ? " is" : "s are"} left at this time. `
      + "Please choose fewer seats or another time.");
    return;
  }
  const slot = chosen;
  const body = {
    app_code: appointment.app_code,
    start_time: slot.start_time,
    name: $("name").value.trim(),
    email: $("email").value.trim(),
    attendee_count: seats(),
  };
  const phone = $("phone").value.trim();
  if (phone) body.phone = phone;
  if (hold && hold.start === slot.start_time && hold.seats === body.attendee_count) {
    body.hold_token = hold.token;
  }
  const button = $("submit");
  button.disabled = true;
  const answer = await api("POST", "/appointments/book", body, { "idempotency-key": idempotencyKey() });
  button.disabled = false;
  if (answer.status === 201) {
    stopCountdown();
    hold = null;
    showHold();
    confirmed(answer.data);
    return;
  }
  const code = answer.data && answer.data.code;
  if (code === "hold_ended") {
    hold = null;
    showHold();
  }
  if (code === "slot_full" && body.attendee_count > 1) {
    setError("There are no longer enough seats left at this time: someone else just booked. "
      + "Please pick another time or fewer seats.");
  } else {
    setError(explain(answer, { notFound: "This appointment no longer exists." }));
  }
  if (code === "slot_full") {
    fullSlot = slot;
    $("waitlist").hidden = false;
  }
  if (code === "slot_full" || code === "too_early"
      || (code === "invalid_input" && answer.data.details === "start_time")) {
    await picker.refresh();
  }
}

async function joinWaitlist() {
  setError("");
  const problem = check();
  if (problem) {
    setError(problem);
    return;
  }
  const answer = await api("POST", "/waitlist", {
    app_code: appointment.app_code,
    start_time: fullSlot.start_time,
    name: $("name").value.trim(),
    email: $("email").value.trim(),
    attendee_count: seats(),
  }, { "idempotency-key": idempotencyKey() });
  if (answer.status === 201) {
    const place = answer.data;
    fill($("waiting-text"),
      `You are number ${place.position} in line for ${slotText(place.start_time, place.end_time, zone())}. `
      + "If seats free up, they are offered to you by email.");
    fill($("waiting-code"), place.waitlist_code);
    showView("waiting");
    return;
  }
  if (answer.data && answer.data.code === "invalid_input" && answer.data.details === "start_time") {
    setError("Seats have freed up on this time in the meantime: pick it again and book it.");
  } else {
    setError(explain(answer, { waitlist: true, notFound: "This appointment no longer exists." }));
  }
  $("waitlist").hidden = true;
  await picker.refresh();
}

function confirmed(booking) {
  const pending = booking.status === "pending";
  fill($("done-title"), pending ? "Request sent" : "Booked");
  fill($("done-text"), pending
    ? `Your request for ${appointment.title} awaits the owner's confirmation`
      + (booking.confirm_by ? ` (they have until ${momentText(booking.confirm_by, zone())}).` : ".")
      + " The booking code below shows whether it was confirmed."
    : `Your booking for ${appointment.title} is confirmed.`);
  fill($("done-when"), slotText(booking.start_time, booking.end_time, zone()));
  fill($("done-code"), booking.booking_code);
  const code = encodeURIComponent(booking.booking_code);
  $("ics-link").href = `/bookings/${code}/ics`;
  $("manage-link").href = `/manage#${code}`;
  document.title = pending ? "Request sent" : "Booked";
  showView("done");
}

async function main() {
  const code = appCodeFromPath();
  const answer = code
    ? await api("GET", `/appointments/${encodeURIComponent(code)}/public`)
    : { status: 404, data: null };
  if (answer.status !== 200) {
    if (answer.status !== 404 && answer.status !== 400) {
      fill($("missing-text"), explain(answer));
    }
    document.title = "Appointment not found";
    showView("missing");
    return;
  }
  appointment = answer.data;
  document.title = `Book: ${appointment.title}`;
  fill($("title"), appointment.title);
  fill($("description"), appointment.description);
  $("description").hidden = !appointment.description;
  fill($("duration"), minutesText(appointment.booking_duration));
  fill($("app-zone"), appointment.timezone);
  fill($("visitor-zone"), visitorZone);
  fill($("zone-visitor-label"), `your time zone (${visitorZone})`);
  fill($("zone-app-label"), `the appointment's time zone (${appointment.timezone})`);
  if (needsApproval()) {
    fill($("approval-note"),
      "The owner confirms each booking: what you send is a request until they confirm it"
      + ` (they have ${minutesText(appointment.confirm_within_minutes)}).`);
    $("approval-note").hidden = false;
    fill($("submit"), "Request booking");
  }
  if (appointment.type !== "single") {
    $("seats-field").hidden = false;
    $("seats").max = String(appointment.max_attendees);
  }
  for (const radio of document.querySelectorAll('input[name="zone"]')) {
    radio.addEventListener("change", () => {
      zoneChoice = radio.value;
      picker.redraw();
      showChosen();
      showHold();
    });
  }
  $("book-form").addEventListener("submit", submit);
  $("seats").addEventListener("change", () => {
    if (chosen && (!hold || hold.seats !== seats())) takeHold(chosen);
  });
  $("join-waitlist").addEventListener("click", joinWaitlist);
  picker = new Picker($("picker"), {
    appCode: appointment.app_code,
    zone,
    idPrefix: "book",
    onPick: (slot) => {
      chosen = slot;
      if (slot) {
        $("waitlist").hidden = true;
        setError("");
        takeHold(slot);
      } else {
        holdGeneration += 1;
        releaseHold();
      }
      showChosen();
    },
  });
  if (appointment.status === "closed") {
    $("closed").hidden = false;
    $("book-form").hidden = true;
  }
  showView("book");
  await picker.start();
}

main();
