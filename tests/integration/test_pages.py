"""The client pages in a real browser: Debian's headless Chromium, driven through Debian's
chromedriver by Selenium, against the real server on SQLite (the API tests cover the stores).

The browser runs in the Asia/Tokyo zone with an en-GB locale, so that the visitor's zone differs
from the appointments' (UTC) and times read as 24-hour clocks. Without chromium, chromedriver or
selenium these tests say they are skipped; with CI=true or REQUIRE_BROWSER=1 that is a failure."""

from __future__ import annotations

import os
import shutil
import subprocess
import urllib.request
import uuid
from typing import Any, Callable, Iterator

import pytest

from conftest import Server, start_server

CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
# axe-core's axe.min.js (scripts/test-integration.sh installs the npm package and sets it).
AXE_JS = os.environ.get("AXE_JS", "")
REQUIRE_BROWSER = os.environ.get("CI") == "true" or os.environ.get("REQUIRE_BROWSER") == "1"
VISITOR_ZONE = "Asia/Tokyo"
WAIT = 20

try:
    from selenium import webdriver
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.remote.webelement import WebElement
    from selenium.webdriver.support.ui import WebDriverWait

    SELENIUM = True
except ImportError:  # pragma: no cover - reported by the fixture below
    SELENIUM = False


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _missing() -> str | None:
    if not SELENIUM:
        return "the Python package selenium"
    if _chromium() is None:
        return "chromium (Debian package chromium)"
    if not os.access(CHROMEDRIVER, os.X_OK):
        return f"chromedriver at {CHROMEDRIVER} (Debian package chromium-driver)"
    return None


@pytest.fixture
def site(tmp_path: Any) -> Iterator[Server]:
    """The server on a SQLite temp file."""
    s = start_server(f"sqlite://{tmp_path}/pages.db", str(tmp_path))
    yield s
    s.process.terminate()
    try:
        s.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        s.process.kill()


@pytest.fixture
def browser() -> Iterator[Callable[..., "WebDriver"]]:
    """Makes headless Chromium sessions (each a separate client: own cookies, own storage)."""
    missing = _missing()
    if missing:
        message = f"the browser tests need {missing}; scripts/test-integration.sh installs them"
        if REQUIRE_BROWSER:
            pytest.fail(f"{message} (required: CI=true or REQUIRE_BROWSER=1)")
        pytest.skip(f"SKIPPED: {message}")
    drivers: list[WebDriver] = []

    def make(width: int = 1280, height: int = 900, mobile: bool = False) -> WebDriver:
        options = webdriver.ChromeOptions()
        options.binary_location = _chromium() or ""
        for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                    "--disable-gpu", "--no-first-run", "--lang=en-GB",
                    f"--window-size={width},{height}"):
            options.add_argument(arg)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        # The driver is given explicitly: Selenium Manager never looks for (or downloads) one.
        driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
        drivers.append(driver)
        driver.execute_cdp_cmd("Emulation.setTimezoneOverride", {"timezoneId": VISITOR_ZONE})
        driver.execute_cdp_cmd("Emulation.setLocaleOverride", {"locale": "en-GB"})
        if mobile:
            driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
                "width": width, "height": height, "deviceScaleFactor": 1, "mobile": True,
            })
        return driver

    yield make
    for d in drivers:
        d.quit()


# ------------------------------------------------------------------------------------ helpers


def wait(driver: "WebDriver") -> "WebDriverWait[WebDriver]":
    return WebDriverWait(driver, WAIT, ignored_exceptions=(StaleElementReferenceException,))


def visible(driver: "WebDriver", css: str) -> "WebElement":
    """Waits until an element is shown and returns it."""
    def shown(d: "WebDriver") -> "WebElement | bool":
        for e in d.find_elements(By.CSS_SELECTOR, css):
            if e.is_displayed():
                return e
        return False
    return wait(driver).until(shown, f"{css} is not shown")


def text_of(driver: "WebDriver", css: str, contains: str) -> str:
    """Waits until an element's text contains `contains` and returns the text."""
    def has(d: "WebDriver") -> str | bool:
        for e in d.find_elements(By.CSS_SELECTOR, css):
            if contains in e.text:
                return e.text
        return False
    return wait(driver).until(has, f"{css} never said {contains!r}")


def console_errors(driver: "WebDriver", allowed: tuple[str, ...] = ()) -> list[str]:
    """The SEVERE entries of the browser's console, less those containing an allowed text."""
    return [e["message"] for e in driver.get_log("browser")
            if e["level"] == "SEVERE" and not any(a in e["message"] for a in allowed)]


def no_horizontal_scroll(driver: "WebDriver") -> None:
    scroll, client = driver.execute_script(
        "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert scroll <= client, f"scrolls sideways: {scroll} > {client}"


def open_booking_page(driver: "WebDriver", site: Server, code: str) -> None:
    driver.get(f"{site.base}/book/{code}")
    visible(driver, "#title")
    # The first day with free times is chosen and its times listed.
    visible(driver, ".days button.has-slots[aria-pressed='true']")
    visible(driver, ".slot")


def fill_form(driver: "WebDriver", name: str, email: str, phone: str = "",
              seats: int | None = None) -> None:
    driver.find_element(By.ID, "name").send_keys(name)
    driver.find_element(By.ID, "email").send_keys(email)
    if phone:
        driver.find_element(By.ID, "phone").send_keys(phone)
    if seats is not None:
        field = driver.find_element(By.ID, "seats")
        field.clear()
        field.send_keys(str(seats))


def slot_button(driver: "WebDriver", start: str) -> "WebElement":
    return visible(driver, f".slot[data-start='{start}']")


def press(driver: "WebDriver", *keys: str) -> None:
    ActionChains(driver).send_keys(*keys).perform()


def tab_to(driver: "WebDriver", css: str, limit: int = 80) -> "WebElement":
    """Presses Tab until the focused element matches `css` (at most `limit` times)."""
    for _ in range(limit):
        press(driver, Keys.TAB)
        if driver.execute_script(
                "return document.activeElement.matches(arguments[0])", css):
            return driver.switch_to.active_element
    raise AssertionError(f"Tab never reached {css}")


def axe_violations(driver: "WebDriver") -> list[str]:
    """The serious and critical violations axe-core finds on the page as it is."""
    with open(AXE_JS, encoding="utf-8") as f:
        driver.execute_script(f.read())
    violations = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']})"
        ".then(r => done(r.violations), e => done([{id: 'axe failed', impact: 'critical',"
        " help: String(e), nodes: []}]));")
    return [f"{v['id']} ({v['impact']}): {v['help']} at "
            + ", ".join(str(n.get("target")) for n in v["nodes"])
            for v in violations if v["impact"] in ("serious", "critical")]


def email() -> str:
    return f"client-{uuid.uuid4().hex}@example.com"


# -------------------------------------------------------------------------------------- tests


def test_a_client_books_then_reschedules_and_cancels_on_the_manage_page(
        site: Server, browser: Callable[..., "WebDriver"]) -> None:
    _, token = site.owner()
    app = site.appointment(token, title="Haircut", description="Wash & cut <b>not bold</b>")
    code = app["app_code"]
    starts = [s["start_time"] for s in site.ok("GET", f"/appointments/slots/{code}")["items"]]
    assert len(starts) >= 2
    driver = browser()

    open_booking_page(driver, site, code)
    assert driver.find_element(By.ID, "title").text == "Haircut"
    # Data is text, never markup.
    assert driver.find_element(By.ID, "description").text == "Wash & cut <b>not bold</b>"
    assert driver.find_element(By.ID, "duration").text == "1 hour"
    assert driver.find_element(By.ID, "app-zone").text == "UTC"
    assert driver.find_element(By.ID, "visitor-zone").text == VISITOR_ZONE
    assert driver.find_element(By.ID, "submit").text == "Book"

    # Times in the visitor's zone (09:00 UTC is 18:00 in Tokyo), then in the appointment's.
    driver.find_element(By.CSS_SELECTOR, ".days button.has-slots").click()
    first = slot_button(driver, starts[0])
    assert first.text.startswith("18:00"), first.text
    driver.find_element(By.CSS_SELECTOR, "input[name='zone'][value='appointment']").click()
    wait(driver).until(lambda d: slot_button(d, starts[0]).text.startswith("09:00"))

    slot_button(driver, starts[0]).click()
    assert slot_button(driver, starts[0]).get_attribute("aria-pressed") == "true"
    text_of(driver, "#chosen", "09:00")
    client = email()
    fill_form(driver, "Ada Lovelace", client, phone="+44 20 7946 0000", seats=2)
    driver.find_element(By.ID, "submit").click()

    visible(driver, "[data-view='done']")
    assert driver.find_element(By.ID, "done-title").text == "Booked"
    booking_code = driver.find_element(By.ID, "done-code").text
    assert booking_code.startswith("BK-")
    ics = driver.find_element(By.ID, "ics-link").get_attribute("href")
    assert ics == f"{site.base}/bookings/{booking_code}/ics"
    manage = driver.find_element(By.ID, "manage-link").get_attribute("href")
    assert manage == f"{site.base}/manage#{booking_code}"
    with urllib.request.urlopen(ics, timeout=30) as res:
        assert res.headers["content-type"].startswith("text/calendar")

    # The booking is the API's.
    booked = site.ok("GET", f"/bookings/{booking_code}")
    assert booked["status"] == "active"
    assert booked["start_time"] == starts[0]
    assert booked["attendee_count"] == 2
    assert booked["email"] == client
    assert booked["phone"] == "+442079460000"  # the API keeps digits only
    assert booked["name"] == "Ada Lovelace"

    # Manage: see it, move it, cancel it.
    driver.find_element(By.ID, "manage-link").click()
    visible(driver, "[data-view='booking']")
    assert driver.find_element(By.ID, "b-code").text == booking_code
    assert driver.find_element(By.ID, "b-status").text == "Confirmed"
    assert driver.find_element(By.ID, "b-title").text == "Haircut"
    text_of(driver, "#policy", "until it starts")
    new_start = starts[1]
    visible(driver, ".days button.has-slots[aria-pressed='true']")
    slot_button(driver, new_start).click()
    driver.find_element(By.ID, "move").click()
    text_of(driver, "#notice", "Your booking was moved")
    moved = site.ok("GET", f"/bookings/{booking_code}")
    assert moved["start_time"] == new_start
    assert moved["status"] == "active"

    driver.find_element(By.ID, "cancel-start").click()
    visible(driver, "#cancel-yes").click()
    text_of(driver, "#notice", "Your booking is cancelled.")
    assert driver.find_element(By.ID, "b-status").text == "Cancelled"
    assert not driver.find_element(By.ID, "change").is_displayed()
    assert site.ok("GET", f"/bookings/{booking_code}")["status"] == "cancelled"

    assert console_errors(driver) == []


def test_two_clients_racing_for_the_last_seat_get_one_booking_and_one_clear_message(
        site: Server, browser: Callable[..., "WebDriver"]) -> None:
    _, token = site.owner()
    app = site.appointment(token, type="single", max_attendees=1)
    code = app["app_code"]
    start = site.first_slot(code)
    first, second = browser(), browser()

    for driver in (first, second):
        open_booking_page(driver, site, code)
    # The first to pick the time holds it while filling the form in; the second is told at once.
    slot_button(first, start).click()
    text_of(first, "#hold", "This time is held for you")
    slot_button(second, start).click()
    text_of(second, "#form-error", "this time was just taken by someone else")
    # The slots are read again: the taken time is gone, and its waiting list is offered.
    wait(second).until(
        lambda d: not d.find_elements(By.CSS_SELECTOR, f".slot[data-start='{start}']"),
        "the taken time is still listed")
    assert visible(second, "#waitlist").is_displayed()
    text_of(second, "#chosen", "No time chosen yet.")
    assert first.find_element(By.ID, "seats-field").is_displayed() is False
    fill_form(first, "Client", email())
    fill_form(second, "Client", email())
    first.find_element(By.ID, "submit").click()
    visible(first, "[data-view='done']")

    bookings = site.ok("GET", f"/appointments/users/{code}", token=token)["items"]
    assert len(bookings) == 1

    second.find_element(By.ID, "join-waitlist").click()
    visible(second, "[data-view='waiting']")
    text_of(second, "#waiting-text", "You are number 1 in line")
    place = second.find_element(By.ID, "waiting-code").text
    assert place.startswith("WL-")
    assert site.ok("GET", f"/waitlist/{place}")["position"] == 1

    assert console_errors(first) == []
    # The refused hold is the one failed request the browser reports.
    assert console_errors(second, allowed=("/holds - Failed to load resource: "
                                           "the server responded with a status of 409",)) == []


def test_a_picked_time_is_held_while_the_form_is_filled_in_and_the_booking_takes_it_over(
        site: Server, browser: Callable[..., "WebDriver"]) -> None:
    _, token = site.owner()
    code = site.appointment(token, type="single", max_attendees=1)["app_code"]
    starts = [s["start_time"] for s in site.ok("GET", f"/appointments/slots/{code}")["items"][:2]]
    listed = lambda: [s["start_time"] for s in  # noqa: E731
                      site.ok("GET", f"/appointments/slots/{code}")["items"][:2]]
    driver = browser()
    open_booking_page(driver, site, code)

    slot_button(driver, starts[0]).click()
    held = text_of(driver, "#hold", "This time is held for you until")
    assert " left to send the form." in held
    # Held: nobody else is offered it, or can book it.
    wait(driver).until(lambda d: starts[0] not in listed(), "the held time is still offered")
    status, answer = site.call("POST", "/appointments/book", {
        "app_code": code, "start_time": starts[0], "name": "Other", "email": email(),
        "attendee_count": 1})
    assert (status, answer["code"]) == (409, "slot_full"), answer

    # Another pick gives the first time back and holds the new one.
    slot_button(driver, starts[1]).click()
    wait(driver).until(lambda d: listed()[:1] == [starts[0]] and starts[1] not in listed(),
                       "the first time was not given back")
    text_of(driver, "#hold", "This time is held for you until")

    fill_form(driver, "Client", email())
    driver.find_element(By.ID, "submit").click()
    visible(driver, "[data-view='done']")
    booking = site.ok("GET", "/bookings/" + driver.find_element(By.ID, "done-code").text)
    assert (booking["start_time"], booking["status"]) == (starts[1], "active")
    assert starts[1] not in listed()
    assert console_errors(driver) == []


def test_an_appointment_the_owner_confirms_takes_requests(
        site: Server, browser: Callable[..., "WebDriver"]) -> None:
    _, token = site.owner()
    code = site.appointment(token, confirm_within_minutes=120)["app_code"]
    start = site.first_slot(code)
    driver = browser()
    open_booking_page(driver, site, code)
    assert driver.find_element(By.ID, "submit").text == "Request booking"
    text_of(driver, "#approval-note", "The owner confirms each booking")
    slot_button(driver, start).click()
    fill_form(driver, "Client", email())
    driver.find_element(By.ID, "submit").click()
    visible(driver, "[data-view='done']")
    assert driver.find_element(By.ID, "done-title").text == "Request sent"
    text_of(driver, "#done-text", "awaits the owner's confirmation")
    booking_code = driver.find_element(By.ID, "done-code").text
    assert site.ok("GET", f"/bookings/{booking_code}")["status"] == "pending"
    driver.find_element(By.ID, "manage-link").click()
    visible(driver, "[data-view='booking']")
    text_of(driver, "#b-status", "Awaiting the owner's confirmation (until ")
    assert console_errors(driver) == []


def test_a_time_taken_while_rescheduling_is_explained_and_the_times_read_again(
        site: Server, browser: Callable[..., "WebDriver"]) -> None:
    _, token = site.owner()
    code = site.appointment(token, type="single", max_attendees=1)["app_code"]
    starts = [s["start_time"] for s in site.ok("GET", f"/appointments/slots/{code}")["items"]]
    booking = site.book(code, starts[0], email())
    driver = browser()
    driver.get(f"{site.base}/manage#{booking['booking_code']}")
    visible(driver, "[data-view='booking']")
    slot_button(driver, starts[1]).click()
    text_of(driver, "#chosen", "New time:")
    site.book(code, starts[1], email())  # someone else, meanwhile
    driver.find_element(By.ID, "move").click()
    text_of(driver, "#error", "this time was just taken by someone else")
    wait(driver).until(
        lambda d: not d.find_elements(By.CSS_SELECTOR, f".slot[data-start='{starts[1]}']"),
        "the taken time is still listed")
    assert site.ok("GET", f"/bookings/{booking['booking_code']}")["start_time"] == starts[0]
    assert console_errors(driver, allowed=("status of 409",)) == []


def test_refusals_are_explained_in_words(
        site: Server, browser: Callable[..., "WebDriver"]) -> None:
    _, token = site.owner()
    code = site.appointment(token, anti_scalping_level="standard")["app_code"]
    start = site.first_slot(code)
    banned = email()
    site.ok("POST", "/ban-list", {"email": banned}, token, status=201)
    repeat = email()
    site.book(code, start, repeat)
    driver = browser()

    open_booking_page(driver, site, code)
    slot_button(driver, start).click()
    # Checked before anything is sent.
    driver.find_element(By.ID, "submit").click()
    text_of(driver, "#form-error", "Please enter your name.")
    assert driver.find_element(By.ID, "name").get_attribute("aria-invalid") == "true"

    fill_form(driver, "Client", banned)
    driver.find_element(By.ID, "submit").click()
    text_of(driver, "#form-error", "This booking cannot be made online.")

    driver.find_element(By.ID, "email").clear()
    driver.find_element(By.ID, "email").send_keys(repeat)
    driver.find_element(By.ID, "submit").click()
    text_of(driver, "#form-error", "already has a booking for this appointment")

    # More seats than the time has left (one of five is booked): said before anything is sent.
    driver.find_element(By.ID, "email").clear()
    driver.find_element(By.ID, "email").send_keys(email())
    driver.find_element(By.ID, "seats").clear()
    driver.find_element(By.ID, "seats").send_keys("5")
    driver.find_element(By.ID, "submit").click()
    text_of(driver, "#form-error", "Only 4 seats are left at this time.")
    assert driver.find_element(By.ID, "seats").get_attribute("aria-invalid") == "true"
    assert len(site.ok("GET", f"/appointments/users/{code}", token=token)["items"]) == 1
    assert console_errors(driver, allowed=(
        "status of 403", "status of 409")) == []


def test_past_the_cancellation_cut_off_the_manage_page_explains_why_nothing_can_change(
        site: Server, browser: Callable[..., "WebDriver"]) -> None:
    _, token = site.owner()
    # A cut-off of ten days: every slot, from tomorrow on, is already past it.
    code = site.appointment(token, cancel_cutoff_minutes=14400)["app_code"]
    booking = site.book(code, site.first_slot(code), email())
    driver = browser()
    driver.get(f"{site.base}/manage#{booking['booking_code']}")
    visible(driver, "[data-view='booking']")
    text_of(driver, "#policy", "close 10 days before the start")
    assert not driver.find_element(By.ID, "change").is_displayed()
    assert not driver.find_element(By.ID, "cancel").is_displayed()
    assert console_errors(driver) == []


def test_unknown_codes_show_a_not_found_state(
        site: Server, browser: Callable[..., "WebDriver"]) -> None:
    driver = browser()
    driver.get(f"{site.base}/book/AP-ZZZZZZZZZZZZ")
    assert visible(driver, "[data-view='missing'] h1").text == "Appointment not found"
    driver.get(f"{site.base}/manage#BK-ZZZZZZZZZZZZ")
    assert visible(driver, "[data-view='missing'] h1").text == "Booking not found"
    # Without a code, the page asks for one (and keeps it in the fragment).
    driver.get(f"{site.base}/manage")
    visible(driver, "#code").send_keys("BK-ZZZZZZZZZZZZ")
    driver.find_element(By.CSS_SELECTOR, "#ask-form button").click()
    visible(driver, "[data-view='missing']")
    assert driver.current_url.endswith("/manage#BK-ZZZZZZZZZZZZ")
    assert console_errors(driver, allowed=("status of 404",)) == []


def test_a_closed_appointment_says_so_and_offers_no_form(
        site: Server, browser: Callable[..., "WebDriver"]) -> None:
    _, token = site.owner()
    code = site.appointment(token)["app_code"]
    site.ok("POST", f"/appointments/{code}/close", token=token)
    driver = browser()
    driver.get(f"{site.base}/book/{code}")
    text_of(driver, "#closed", "not taking bookings")
    text_of(driver, ".picker-status", "There are no free times at the moment.")
    assert not driver.find_element(By.ID, "book-form").is_displayed()
    assert console_errors(driver) == []


def test_pages_fit_a_390_pixel_wide_phone(
        site: Server, browser: Callable[..., "WebDriver"]) -> None:
    _, token = site.owner()
    code = site.appointment(token, title="A rather long title " * 5)["app_code"]
    start = site.first_slot(code)
    driver = browser(width=390, height=844, mobile=True)
    open_booking_page(driver, site, code)
    assert driver.execute_script("return window.innerWidth") == 390
    no_horizontal_scroll(driver)
    slot_button(driver, start).click()
    fill_form(driver, "Client", email())
    driver.find_element(By.ID, "submit").click()
    visible(driver, "[data-view='done']")
    no_horizontal_scroll(driver)
    driver.find_element(By.ID, "manage-link").click()
    visible(driver, "[data-view='booking']")
    visible(driver, ".slot")
    no_horizontal_scroll(driver)
    assert console_errors(driver) == []


def test_a_client_books_with_the_keyboard_alone(
        site: Server, browser: Callable[..., "WebDriver"]) -> None:
    _, token = site.owner()
    code = site.appointment(token)["app_code"]
    driver = browser()
    open_booking_page(driver, site, code)
    day = tab_to(driver, ".days button.has-slots").get_attribute("data-date")
    press(driver, Keys.ENTER)
    # Choosing a day moves the focus to its first free time.
    wait(driver).until(lambda d: d.execute_script(
        "return document.activeElement.classList.contains('slot')"), "focus is not on a time")
    slot = driver.switch_to.active_element
    start = slot.get_attribute("data-start")
    assert day in [s["date"][:10] for s in site.ok("GET", f"/appointments/slots/{code}")["items"]
                   if s["start_time"] == start], (day, start)
    press(driver, Keys.ENTER)
    assert slot.get_attribute("aria-pressed") == "true"
    tab_to(driver, "#name")
    press(driver, "Kay Board")
    tab_to(driver, "#email")
    address = email()
    press(driver, address)
    tab_to(driver, "#submit")
    press(driver, Keys.ENTER)
    visible(driver, "[data-view='done']")
    # The confirmation's heading takes the focus, so a screen reader announces it.
    assert driver.switch_to.active_element.get_attribute("id") == "done-title"
    booking_code = driver.find_element(By.ID, "done-code").text
    booked = site.ok("GET", f"/bookings/{booking_code}")
    assert booked["email"] == address
    assert booked["start_time"] == start
    assert console_errors(driver) == []


@pytest.fixture
def axe() -> str:
    if not (AXE_JS and os.path.isfile(AXE_JS)):
        message = "the accessibility check needs axe-core (AXE_JS names axe.min.js; " \
                  "scripts/test-integration.sh installs it with npm)"
        if REQUIRE_BROWSER:
            pytest.fail(f"{message} (required: CI=true or REQUIRE_BROWSER=1)")
        pytest.skip(f"SKIPPED: {message}")
    return AXE_JS


def test_axe_finds_no_serious_accessibility_violations(
        site: Server, browser: Callable[..., "WebDriver"], axe: str) -> None:
    _, token = site.owner()
    code = site.appointment(token)["app_code"]
    driver = browser()
    open_booking_page(driver, site, code)
    visible(driver, ".slot").click()
    assert axe_violations(driver) == [], "booking page"
    driver.find_element(By.ID, "submit").click()
    text_of(driver, "#form-error", "Please enter your name.")
    assert axe_violations(driver) == [], "booking page with an error"
    fill_form(driver, "Client", email())
    driver.find_element(By.ID, "submit").click()
    visible(driver, "[data-view='done']")
    assert axe_violations(driver) == [], "confirmation"
    driver.find_element(By.ID, "manage-link").click()
    visible(driver, "#change .slot")
    assert axe_violations(driver) == [], "manage page"
    driver.get(f"{site.base}/manage")
    visible(driver, "#code")
    assert axe_violations(driver) == [], "manage page asking for a code"
    driver.get(f"{site.base}/book/AP-ZZZZZZZZZZZZ")
    visible(driver, "[data-view='missing']")
    assert axe_violations(driver) == [], "unknown appointment"
    assert console_errors(driver, allowed=("status of 404",)) == []
    # The check itself sees a violation: an input without a label.
    driver.execute_script(
        "document.querySelector('main').append(document.createElement('input'))")
    assert any(v.startswith("label ") for v in axe_violations(driver))
