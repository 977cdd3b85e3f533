// Shared by the booking and manage pages: calls to the JSON API, DOM building (text only,
// never markup), times in a chosen zone, and the API's refusals in words.

/** Calls the API; resolves to {status, data} (status 0 when the server could not be reached). */
export async function api(method, path, body, headers = {}) {
  const init = { method, headers: { accept: "application/json", ...headers } };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["content-type"] = "application/json";
  }
  try {
    const res = await fetch(path, init);
    const text = await res.text();
    let data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = null;
      }
    }
    return { status: res.status, data };
  } catch {
    return { status: 0, data: null };
  }
}

/** A fresh Idempotency-Key (works on plain http too, unlike crypto.randomUUID). */
export function idempotencyKey() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** An element with attributes and children (strings become text nodes). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

/** Replaces an element's children. */
export function fill(node, ...children) {
  node.replaceChildren();
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
}

/** Shows one of a page's views (sections with a data-view attribute) and hides the others. */
export function showView(name) {
  for (const view of document.querySelectorAll("[data-view]")) {
    view.hidden = view.dataset.view !== name;
  }
  const heading = document.querySelector(`[data-view="${name}"] h1`);
  if (heading) {
    heading.setAttribute("tabindex", "-1");
    heading.focus();
  }
}

/** The visitor's IANA zone. */
export const visitorZone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

/** The local date of an instant in a zone, as YYYY-MM-DD. */
export function dayKey(iso, zone) {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone: zone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
  }).formatToParts(new Date(iso));
  const get = (type) => parts.find((p) => p.type === type).value;
  return `${get("year")}-${get("month")}-${get("day")}`;
}

/** The time of day of an instant in a zone (e.g. "09:00"). */
export function timeOf(iso, zone) {
  return new Intl.DateTimeFormat(undefined, {
    timeZone: zone,
    hour: "2-digit",
    minute: "2-digit",
  }).format(new Date(iso));
}

/** A full date of an instant in a zone (e.g. "Monday 14 December 2026"). */
export function dateOf(iso, zone) {
  return new Intl.DateTimeFormat(undefined, {
    timeZone: zone,
    weekday: "long",
    year: "numeric",
    month: "long",
    day: "numeric",
  }).format(new Date(iso));
}

/** Date and time range of a slot in a zone, with the zone's name. */
export function slotText(start, end, zone) {
  return `${dateOf(start, zone)}, ${timeOf(start, zone)}–${timeOf(end, zone)} (${zone})`;
}

/** An instant's date and time in a zone, with the zone's name. */
export function momentText(iso, zone) {
  return `${dateOf(iso, zone)}, ${timeOf(iso, zone)} (${zone})`;
}

/** A duration in minutes as words ("1 hour 30 minutes"). */
export function minutesText(total) {
  const days = Math.floor(total / 1440);
  const hours = Math.floor((total % 1440) / 60);
  const minutes = total % 60;
  const parts = [];
  if (days) parts.push(`${days} day${days === 1 ? "" : "s"}`);
  if (hours) parts.push(`${hours} hour${hours === 1 ? "" : "s"}`);
  if (minutes || parts.length === 0) parts.push(`${minutes} minute${minutes === 1 ? "" : "s"}`);
  return parts.join(" ");
}

/** The booking code in a manage page's fragment, or "" (the fragment never reaches the server). */
export function codeFromFragment() {
  let raw = window.location.hash.replace(/^#/, "");
  try {
    raw = decodeURIComponent(raw);
  } catch {
    return "";
  }
  return raw.trim();
}

/** The API's refusal of a request in words a client understands. */
export function explain(answer, context = {}) {
  const { status, data } = answer;
  if (status === 0) {
    return "We could not reach the booking service. Check your connection and try again.";
  }
  const code = data && data.code;
  const details = data && data.details;
  switch (code) {
    case "slot_full":
      return "Sorry, this time was just taken by someone else. Please pick another time.";
    case "duplicate":
      if (context.waitlist) {
        return "This email address already has a booking or a place on the waiting list for this appointment.";
      }
      return "This email address already has a booking for this appointment. Use the link in your confirmation to change it.";
    case "banned":
      return "This booking cannot be made online. Please contact the business directly.";
    case "registration_required":
    case "email_not_verified":
      return "This appointment only takes bookings from registered, verified accounts, so it cannot be booked on this page.";
    case "too_late":
      if (context.cutoffMinutes) {
        return `It is too late to change or cancel this booking online: changes close ${minutesText(context.cutoffMinutes)} before it starts. Please contact the business.`;
      }
      return "It is too late to change or cancel this booking online. Please contact the business.";
    case "too_early":
      return "This time cannot be booked yet. Please pick another time.";
    case "hold_ended":
      return "This time was held for you, but the hold ran out. Please send the form again to book it if it is still free.";
    case "invalid_transition":
      return "This booking is no longer active, so it cannot be changed.";
    case "not_found":
      return context.notFound || "We could not find what you asked for.";
    case "rate_limited":
      return "Too many attempts in a short time. Please wait a moment and try again.";
    case "invalid_input":
      switch (details) {
        case "name":
          return "Please enter your name.";
        case "email":
          return "Please enter a valid email address.";
        case "phone":
          return "Please check the phone number.";
        case "attendee_count":
          return "Please choose a number of seats this time can take.";
        case "start_time":
          return "This time can no longer be booked. Please pick another time.";
        default:
          return data.message || "Please check the details you entered.";
      }
    case "unavailable":
    case "timeout":
    case "internal":
      return "The booking service is having trouble right now. Please try again in a moment.";
    default:
      return (data && data.message) || `Something went wrong (HTTP ${status}). Please try again.`;
  }
}
