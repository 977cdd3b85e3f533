// The manage page: /manage#BK-… (the code stays in the fragment, which is never sent).

import {
  api, codeFromFragment, el, explain, fill, minutesText, momentText, showView, slotText,
  visitorZone,
} from "./common.js";
import { Picker } from "./picker.js";

const $ = (id) => document.getElementById(id);

const STATUS_WORDS = {
  active: "Confirmed",
  pending: "Awaiting the owner's confirmation",
  declined: "Declined by the owner",
  expired: "Expired: the owner did not confirm it in time",
  cancelled: "Cancelled",
  rejected: "Cancelled by the owner",
  completed: "Completed",
  no_show: "Marked as missed",
};

let booking = null;
let appointment = null;
let zoneChoice = "visitor";
let chosen = null;
let picker = null;

const zone = () => (zoneChoice === "appointment" && appointment ? appointment.timezone : visitorZone);

function setError(message) {
  fill($("error"), message ? el("p", {}, message) : null);
}

function setNotice(message) {
  fill($("notice"), message ? el("p", {}, message) : null);
}

function cutoffMinutes() {
  return appointment ? appointment.cancel_cutoff_minutes : 0;
}

/** Whether the booking can still be changed online, and the policy in words. */
function policy() {
  if (booking.status !== "active" && booking.status !== "pending") {
    return { open: false, text: "This booking is no longer active, so it cannot be changed." };
  }
  const start = Date.parse(booking.start_time);
  if (start <= Date.now()) {
    return { open: false, text: "This booking has already started, so it cannot be changed." };
  }
  const cutoff = cutoffMinutes();
  if (!cutoff) {
    return { open: true, text: "You can change or cancel this booking online until it starts." };
  }
  const deadline = new Date(start - cutoff * 60000).toISOString();
  if (Date.parse(deadline) <= Date.now()) {
    return {
      open: false,
      text: `Changes and cancellations close ${minutesText(cutoff)} before the start, so this `
        + "booking can no longer be changed online. Please contact the business.",
    };
  }
  return {
    open: true,
    text: `You can change or cancel this booking online until ${momentText(deadline, zone())}, `
      + `${minutesText(cutoff)} before it starts.`,
  };
}

function render() {
  fill($("b-title"), appointment ? appointment.title : booking.app_code);
  fill($("b-when"), slotText(booking.start_time, booking.end_time, zone()));
  const status = STATUS_WORDS[booking.status] || booking.status;
  fill($("b-status"), booking.status === "pending" && booking.confirm_by
    ? `${status} (until ${momentText(booking.confirm_by, zone())})`
    : status);
  fill($("b-name"), booking.name);
  fill($("b-seats"), String(booking.attendee_count));
  fill($("b-code"), booking.booking_code);
  $("ics-link").href = `/bookings/${encodeURIComponent(booking.booking_code)}/ics`;
  const { open, text } = policy();
  fill($("policy"), text);
  $("change").hidden = !open;
  $("cancel").hidden = !open;
  $("cancel-confirm").hidden = true;
  $("cancel-start").hidden = false;
  fill($("chosen"), chosen
    ? el("span", {}, "New time: ", el("strong", {}, slotText(chosen.start_time, chosen.end_time, zone())))
    : "No new time chosen yet.");
}

async function move() {
  setError("");
  setNotice("");
  if (!chosen) {
    setError("Please choose a day and a new time first.");
    return;
  }
  const button = $("move");
  button.disabled = true;
  const answer = await api("PUT", `/bookings/${encodeURIComponent(booking.booking_code)}`,
    { start_time: chosen.start_time });
  button.disabled = false;
  if (answer.status === 200) {
    booking = answer.data;
    chosen = null;
    picker.clearChoice();
    render();
    setNotice(`Your booking was moved to ${slotText(booking.start_time, booking.end_time, zone())}.`);
    $("notice").focus();
    await picker.refresh();
    return;
  }
  setError(explain(answer, { cutoffMinutes: cutoffMinutes(), notFound: "This booking no longer exists." }));
  await reload();
}

async function cancel() {
  setError("");
  setNotice("");
  const answer = await api("DELETE", `/bookings/${encodeURIComponent(booking.booking_code)}`);
  if (answer.status === 200) {
    booking = answer.data;
    render();
    setNotice("Your booking is cancelled.");
    $("notice").focus();
    return;
  }
  setError(explain(answer, { cutoffMinutes: cutoffMinutes(), notFound: "This booking no longer exists." }));
  await reload();
}

/** Reads the booking again (after a refusal: its state may have changed). */
async function reload() {
  const answer = await api("GET", `/bookings/${encodeURIComponent(booking.booking_code)}`);
  if (answer.status === 200) {
    booking = answer.data;
    render();
    if (!$("change").hidden) await picker.refresh();
  }
}

async function load() {
  const code = codeFromFragment();
  setError("");
  setNotice("");
  if (!code) {
    document.title = "Manage your booking";
    showView("ask");
    return;
  }
  const answer = await api("GET", `/bookings/${encodeURIComponent(code)}`);
  if (answer.status !== 200) {
    if (answer.status !== 404 && answer.status !== 400) fill($("missing-text"), explain(answer));
    document.title = "Booking not found";
    showView("missing");
    return;
  }
  booking = answer.data;
  const app = await api("GET", `/appointments/${encodeURIComponent(booking.app_code)}/public`);
  appointment = app.status === 200 ? app.data : null;
  fill($("zone-visitor-label"), `your time zone (${visitorZone})`);
  if (appointment) {
    fill($("zone-app-label"), `the appointment's time zone (${appointment.timezone})`);
  }
  document.title = "Your booking";
  chosen = null;
  picker = new Picker($("picker"), {
    appCode: booking.app_code,
    zone,
    idPrefix: "manage",
    onPick: (slot) => {
      chosen = slot;
      fill($("chosen"), slot
        ? el("span", {}, "New time: ", el("strong", {}, slotText(slot.start_time, slot.end_time, zone())))
        : "No new time chosen yet.");
    },
  });
  render();
  showView("booking");
  if (!$("change").hidden) await picker.start();
}

function setup() {
  $("notice").setAttribute("tabindex", "-1");
  $("ask-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const code = $("code").value.trim();
    if (code) window.location.hash = encodeURIComponent(code);
  });
  $("move").addEventListener("click", move);
  $("cancel-start").addEventListener("click", () => {
    $("cancel-confirm").hidden = false;
    $("cancel-start").hidden = true;
    $("cancel-yes").focus();
  });
  $("cancel-no").addEventListener("click", () => {
    $("cancel-confirm").hidden = true;
    $("cancel-start").hidden = false;
    $("cancel-start").focus();
  });
  $("cancel-yes").addEventListener("click", cancel);
  for (const radio of document.querySelectorAll('input[name="zone"]')) {
    radio.addEventListener("change", () => {
      zoneChoice = radio.value;
      render();
      if (picker) picker.redraw();
    });
  }
  window.addEventListener("hashchange", load);
  load();
}

setup();
