// A month calendar whose days with free times stand out, and the free times of the chosen day.
// One month of slots is read at a time (`GET /appointments/slots/{code}?from&to`, at most
// MAX_PAGES pages of 100), so requests stay bounded however far the appointment runs.

import { api, dayKey, el, fill, timeOf } from "./common.js";

const PER_PAGE = 100;
const MAX_PAGES = 10;
const DAY_MS = 86400000;

function monthTitle(year, month) {
  return new Intl.DateTimeFormat(undefined, { month: "long", year: "numeric", timeZone: "UTC" })
    .format(new Date(Date.UTC(year, month - 1, 1)));
}

function longDate(key) {
  const [y, m, d] = key.split("-").map(Number);
  return new Intl.DateTimeFormat(undefined, {
    weekday: "long", day: "numeric", month: "long", year: "numeric", timeZone: "UTC",
  }).format(new Date(Date.UTC(y, m - 1, d)));
}

function weekdayNames() {
  const fmt = new Intl.DateTimeFormat(undefined, { weekday: "short", timeZone: "UTC" });
  // 2024-01-01 was a Monday.
  return Array.from({ length: 7 }, (_, i) => fmt.format(new Date(Date.UTC(2024, 0, 1 + i))));
}

export class Picker {
  /**
   * @param {HTMLElement} root where the picker is drawn
   * @param {{appCode: string, zone: () => string, onPick: (slot: object|null) => void,
   *          idPrefix: string}} options
   */
  constructor(root, options) {
    this.root = root;
    this.appCode = options.appCode;
    this.zone = options.zone;
    this.onPick = options.onPick;
    const id = options.idPrefix || "picker";
    this.slots = [];
    this.byDay = new Map();
    this.selectedDay = null;
    this.selectedSlot = null;
    this.generation = 0;

    this.monthHeading = el("h3", { id: `${id}-month`, class: "month-title" });
    this.prev = el("button", {
      type: "button", class: "nav", "aria-label": "Previous month", onclick: () => this.move(-1),
    }, "‹");
    this.next = el("button", {
      type: "button", class: "nav", "aria-label": "Next month", onclick: () => this.move(1),
    }, "›");
    this.days = el("div", { class: "days", role: "group", "aria-labelledby": `${id}-month` });
    this.status = el("p", { class: "picker-status", role: "status" });
    this.slotHeading = el("h3", { id: `${id}-times` }, "Free times");
    this.slotList = el("div", { class: "slots", role: "group", "aria-labelledby": `${id}-times` });
    const weekdays = el("div", { class: "weekdays", "aria-hidden": "true" },
      ...weekdayNames().map((n) => el("span", {}, n)));
    fill(root,
      el("div", { class: "calendar" },
        el("div", { class: "month-nav" }, this.prev, this.monthHeading, this.next),
        weekdays, this.days, this.status),
      el("div", { class: "times" }, this.slotHeading, this.slotList));
  }

  /** Opens the month of the first free time (or the current month when there is none). */
  async start() {
    const answer = await api("GET",
      `/appointments/slots/${encodeURIComponent(this.appCode)}?per_page=1`);
    const first = answer.status === 200 && answer.data.items[0];
    const key = dayKey(first ? first.start_time : new Date().toISOString(), this.zone());
    const [y, m] = key.split("-").map(Number);
    this.year = y;
    this.month = m;
    if (first) this.selectedDay = key;
    this.noneAtAll = answer.status === 200 && !first;
    await this.load();
  }

  /** Reads the shown month again (after a refusal, or once a booking changed the slots). */
  async refresh() {
    await this.load();
  }

  /** Draws again in the current zone (the visitor switched zones). */
  redraw() {
    this.group();
    this.render();
  }

  async move(delta) {
    const index = this.year * 12 + (this.month - 1) + delta;
    this.year = Math.floor(index / 12);
    this.month = (index % 12) + 1;
    this.selectedDay = null;
    this.pick(null);
    await this.load();
  }

  async load() {
    const generation = ++this.generation;
    fill(this.status, "Loading free times…");
    const from = new Date(Date.UTC(this.year, this.month - 1, 1) - DAY_MS).toISOString();
    const to = new Date(Date.UTC(this.year, this.month, 1) + DAY_MS).toISOString();
    const slots = [];
    let failed = null;
    for (let page = 1; page <= MAX_PAGES; page++) {
      const query = new URLSearchParams({ from, to, page: String(page), per_page: String(PER_PAGE) });
      const answer = await api("GET",
        `/appointments/slots/${encodeURIComponent(this.appCode)}?${query}`);
      if (answer.status !== 200) {
        failed = answer;
        break;
      }
      slots.push(...answer.data.items);
      if (page >= answer.data.total_pages) break;
    }
    if (generation !== this.generation) return;
    this.slots = slots;
    this.group();
    this.render();
    if (failed) {
      fill(this.status, "The free times could not be loaded. Please reload the page.");
    }
  }

  group() {
    this.byDay = new Map();
    for (const slot of this.slots) {
      const key = dayKey(slot.start_time, this.zone());
      if (!this.byDay.has(key)) this.byDay.set(key, []);
      this.byDay.get(key).push(slot);
    }
  }

  render() {
    const zone = this.zone();
    fill(this.monthHeading, monthTitle(this.year, this.month));
    const today = dayKey(new Date().toISOString(), zone);
    const [ty, tm] = today.split("-").map(Number);
    this.prev.disabled = this.year * 12 + this.month <= ty * 12 + tm;

    const prefix = `${this.year}-${String(this.month).padStart(2, "0")}-`;
    const inMonth = [...this.byDay.keys()].filter((k) => k.startsWith(prefix));
    if (this.selectedDay && !this.byDay.has(this.selectedDay)) this.selectedDay = null;

    const firstWeekday = (new Date(Date.UTC(this.year, this.month - 1, 1)).getUTCDay() + 6) % 7;
    const length = new Date(Date.UTC(this.year, this.month, 0)).getUTCDate();
    const cells = [];
    for (let i = 0; i < firstWeekday; i++) cells.push(el("span", { class: "blank", "aria-hidden": "true" }));
    for (let d = 1; d <= length; d++) {
      const key = prefix + String(d).padStart(2, "0");
      const free = (this.byDay.get(key) || []).length;
      const label = free
        ? `${longDate(key)}, ${free} free time${free === 1 ? "" : "s"}`
        : `${longDate(key)}, no free times`;
      cells.push(el("button", {
        type: "button",
        class: free ? "day has-slots" : "day",
        disabled: !free,
        "aria-label": label,
        "aria-pressed": free ? String(key === this.selectedDay) : null,
        "data-date": key,
        onclick: () => this.chooseDay(key),
      }, String(d)));
    }
    fill(this.days, ...cells);
    let status;
    if (inMonth.length) {
      status = `${inMonth.length} day${inMonth.length === 1 ? "" : "s"} with free times in ${monthTitle(this.year, this.month)}.`;
    } else if (this.noneAtAll) {
      status = "There are no free times at the moment.";
    } else {
      status = `No free times in ${monthTitle(this.year, this.month)}. Try another month.`;
    }
    fill(this.status, status);
    this.renderSlots();
  }

  chooseDay(key) {
    this.selectedDay = key;
    this.pick(null);
    this.render();
    const first = this.slotList.querySelector("button");
    if (first) first.focus();
  }

  renderSlots() {
    const zone = this.zone();
    if (!this.selectedDay) {
      if (this.selectedSlot) this.pick(null);
      fill(this.slotHeading, "Free times");
      fill(this.slotList, el("p", { class: "hint" }, "Choose a day to see its free times."));
      return;
    }
    fill(this.slotHeading, `Free times on ${longDate(this.selectedDay)}`);
    const slots = this.byDay.get(this.selectedDay) || [];
    if (this.selectedSlot && !slots.some((s) => s.start_time === this.selectedSlot.start_time)) {
      this.pick(null);
    }
    fill(this.slotList, ...slots.map((slot) => {
      const chosen = this.selectedSlot && this.selectedSlot.start_time === slot.start_time;
      const seats = slot.capacity > 1
        ? el("span", { class: "seats" }, `${slot.seats_left} of ${slot.capacity} seats left`)
        : null;
      return el("button", {
        type: "button",
        class: "slot",
        "aria-pressed": String(Boolean(chosen)),
        "data-start": slot.start_time,
        onclick: (event) => {
          this.pick(slot);
          for (const b of this.slotList.querySelectorAll("button")) {
            b.setAttribute("aria-pressed", String(b === event.currentTarget));
          }
        },
      }, el("span", { class: "time" }, `${timeOf(slot.start_time, zone)}–${timeOf(slot.end_time, zone)}`), seats);
    }));
  }

  /** Forgets the chosen time (it was just booked). */
  clearChoice() {
    this.selectedSlot = null;
  }

  pick(slot) {
    this.selectedSlot = slot;
    this.onPick(slot);
  }
}
