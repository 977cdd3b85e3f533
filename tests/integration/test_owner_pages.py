"""The owner's page (/owner) in a real browser, with the fixtures and helpers of test_pages.py:
an owner signs up, logs in and out, creates an appointment and shares its link; a client books
through it in a second browser; the owner sees the booking and acts on it; the ban list; the
analytics charts; the page on a phone."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Callable

from conftest import Server
from test_pages import (  # noqa: F401 (site, browser and axe are fixtures)
    axe,
    axe_violations,
    browser,
    console_errors,
    email,
    fill_form,
    no_horizontal_scroll,
    open_booking_page,
    press,
    site,
    tab_to,
    text_of,
    visible,
    wait,
)

try:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.remote.webdriver import WebDriver
except ImportError:  # pragma: no cover - the browser fixture reports it
    pass

TOKEN_KEY = "appointment-master.owner-token"
PASSWORD = "securepass123"


def stored_token(driver: "WebDriver") -> str | None:
    return driver.execute_script("return sessionStorage.getItem(arguments[0])", TOKEN_KEY)


def log_in(driver: "WebDriver", address: str, password: str = PASSWORD) -> None:
    visible(driver, "#login-email").send_keys(address)
    driver.find_element(By.ID, "login-password").send_keys(password)
    driver.find_element(By.ID, "login-submit").click()


def booking_card(driver: "WebDriver", scopes: str, code: str) -> "WebElement":  # noqa: F821
    """Waits for the card of a booking in one of the lists `scopes` names ("#a, #b")."""
    return visible(driver, ", ".join(f"{scope.strip()} li[data-code='{code}']"
                                     for scope in scopes.split(",")))


def test_an_owner_signs_up_shares_a_link_and_acts_on_the_booking_a_client_makes(
        site: Server, browser: Callable[..., "WebDriver"], axe: str) -> None:
    owner = browser()
    driver = owner
    driver.execute_cdp_cmd("Browser.grantPermissions", {
        "origin": site.base,
        "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"],
    })
    driver.get(f"{site.base}/owner")
    visible(driver, "[data-view='login']")
    assert axe_violations(driver) == [], "login"

    # Sign up: the account is made and the owner is logged in.
    driver.find_element(By.ID, "to-signup").click()
    visible(driver, "#signup-name")
    assert axe_violations(driver) == [], "sign up"
    address = f"owner-{uuid.uuid4().hex}@example.com"
    driver.find_element(By.ID, "signup-name").send_keys("Barber Bob")
    driver.find_element(By.ID, "signup-email").send_keys(address)
    driver.find_element(By.ID, "signup-password").send_keys(PASSWORD)
    driver.find_element(By.ID, "signup-submit").click()
    visible(driver, "[data-view='dashboard']")
    text_of(driver, "#apps", "No appointment yet")
    text_of(driver, "#who", "Barber Bob")
    assert axe_violations(driver) == [], "empty dashboard"

    # The token is in sessionStorage only: no cookie, not in the address.
    token = stored_token(driver)
    assert token
    assert driver.execute_script("return document.cookie") == ""
    assert token not in driver.current_url
    assert site.ok("GET", "/appointments/my", token=token)["total"] == 0

    # Log out: the token is revoked and forgotten, a reload shows the login.
    driver.find_element(By.ID, "logout").click()
    text_of(driver, "#login-notice", "You are logged out.")
    assert stored_token(driver) is None
    assert site.call("GET", "/appointments/my", token=token)[0] == 401
    driver.refresh()
    visible(driver, "[data-view='login']")
    assert not driver.find_element(By.ID, "owner-nav").is_displayed()

    # Log in again.
    log_in(driver, address)
    visible(driver, "[data-view='dashboard']")
    token = stored_token(driver)
    assert token

    # A new appointment, every day from today, 09:00-17:00 in the owner's zone; the owner
    # confirms each booking.
    driver.find_element(By.ID, "create-start").click()
    visible(driver, "#c-title")
    assert axe_violations(driver) == [], "new appointment"
    assert driver.find_element(By.ID, "c-zone").get_attribute("value") == "Asia/Tokyo"
    driver.find_element(By.ID, "c-title").send_keys("Beard trim")
    driver.find_element(By.ID, "c-description").send_keys("Trim & shape <i>not italic</i>")
    for day in ("sat", "sun"):
        driver.find_element(By.ID, f"h-{day}-on").click()
    driver.find_element(By.ID, "c-approval").click()
    # The first day is closed (a holiday): the client books on a later one.
    first_day = driver.find_element(By.ID, "c-start").get_attribute("value")
    driver.find_element(By.ID, "closure-add").click()
    visible(driver, "#c-closures .cl-label").send_keys("Opening party")
    driver.find_element(By.ID, "create-submit").click()
    visible(driver, "[data-view='dashboard']")
    text_of(driver, "#dashboard-notice", "“Beard trim” is created.")

    apps = site.ok("GET", "/appointments/my", token=token)["items"]
    assert len(apps) == 1
    app = apps[0]
    code = app["app_code"]
    assert app["title"] == "Beard trim"
    assert app["description"] == "Trim & shape <i>not italic</i>"
    assert app["type"] == "group" and app["max_attendees"] == 5
    assert app["booking_duration"] == 60
    assert app["timezone"] == "Asia/Tokyo"
    assert app["confirm_within_minutes"] == 24 * 60
    assert app["weekly_hours"]["mon"] == ["09:00-17:00"]
    assert app["weekly_hours"]["sun"] == ["09:00-17:00"]
    assert [(c["from"][:10], c["to"][:10], c.get("label")) for c in app["closures"]] \
        == [(first_day, first_day, "Opening party")]

    # The share link, as text and copied with the Clipboard API.
    link = f"{site.base}/book/{code}"
    card = visible(driver, f"#apps li[data-code='{code}']")
    assert card.find_element(By.CSS_SELECTOR, ".book-link").text == link
    assert card.find_element(By.CSS_SELECTOR, ".book-link").get_attribute("href") == link
    card.find_element(By.CSS_SELECTOR, "button.copy").click()
    text_of(driver, "#dashboard-notice", f"Link copied: {link}")
    copied = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "navigator.clipboard.readText().then(done, e => done('failed: ' + e));")
    assert copied == link
    assert axe_violations(driver) == [], "dashboard with an appointment"

    # A client, in a browser of their own, opens the link and asks for a booking.
    client = browser()
    open_booking_page(client, site, code)
    assert client.find_element(By.ID, "title").text == "Beard trim"
    start = visible(client, ".slot").get_attribute("data-start")
    client.find_element(By.CSS_SELECTOR, f".slot[data-start='{start}']").click()
    fill_form(client, "Carla Client", email())
    client.find_element(By.ID, "submit").click()
    visible(client, "[data-view='done']")
    booking_code = client.find_element(By.ID, "done-code").text
    booked = site.ok("GET", f"/bookings/{booking_code}")
    assert booked["status"] == "pending"
    assert booked["start_time"] == start
    assert booked["date"][:10] > first_day
    assert console_errors(client) == []

    # The owner's dashboard shows it, awaiting confirmation.
    driver.find_element(By.ID, "nav-dashboard").click()
    visible(driver, "[data-view='dashboard']:not([aria-busy])")
    # Today is closed, so it is among the upcoming bookings.
    row = booking_card(driver, "#upcoming", booking_code)
    assert "Awaiting your confirmation" in row.text
    assert "Carla Client" in row.text
    assert "Beard trim" in row.text

    # The appointment's bookings: confirm, then reject.
    visible(driver, f"#apps li[data-code='{code}'] .show-bookings").click()
    text_of(driver, "#bookings-title", "Bookings of Beard trim")
    row = booking_card(driver, "#bookings", booking_code)
    assert "Awaiting your confirmation" in row.text
    assert axe_violations(driver) == [], "bookings with a pending one"
    row.find_element(By.CSS_SELECTOR, ".act-confirm").click()
    text_of(driver, "#bookings-notice", f"The booking of Carla Client ({booking_code}) is confirmed.")
    wait(driver).until(lambda d: booking_card(d, "#bookings", booking_code)
                       .find_element(By.CSS_SELECTOR, ".status").text == "Confirmed")
    assert site.ok("GET", f"/bookings/{booking_code}")["status"] == "active"

    booking_card(driver, "#bookings", booking_code).find_element(
        By.CSS_SELECTOR, ".act-reject").click()
    text_of(driver, "#bookings-notice", "is rejected.")
    wait(driver).until(lambda d: booking_card(d, "#bookings", booking_code)
                       .find_element(By.CSS_SELECTOR, ".status").text == "Rejected")
    assert site.ok("GET", f"/bookings/{booking_code}")["status"] == "rejected"
    assert not booking_card(driver, "#bookings", booking_code).find_elements(
        By.CSS_SELECTOR, "button")
    assert axe_violations(driver) == [], "bookings after the actions"

    # A rejected booking leaves the upcoming list (today's list shows every status).
    driver.find_element(By.ID, "nav-dashboard").click()
    visible(driver, "[data-view='dashboard']:not([aria-busy])")
    assert not driver.find_elements(By.CSS_SELECTOR, f"#upcoming li[data-code='{booking_code}']")
    for row in driver.find_elements(By.CSS_SELECTOR, f"#today li[data-code='{booking_code}']"):
        assert row.find_element(By.CSS_SELECTOR, ".status").text == "Rejected"
    assert console_errors(driver) == []

    # Logging out forgets the token: a reload shows the login.
    driver.find_element(By.ID, "logout").click()
    visible(driver, "[data-view='login']")
    driver.refresh()
    visible(driver, "[data-view='login']")
    assert stored_token(driver) is None
    assert console_errors(driver) == []


def test_a_wrong_password_is_explained_and_signs_nobody_in(
        site: Server, browser: Callable[..., "WebDriver"]) -> None:
    address, _ = site.owner()
    driver = browser()
    driver.get(f"{site.base}/owner")
    log_in(driver, address, "not-the-password")
    text_of(driver, "#login-error", "The email or the password is wrong.")
    assert stored_token(driver) is None
    assert not driver.find_element(By.ID, "owner-nav").is_displayed()
    # Signing up again with a known address says so.
    driver.find_element(By.ID, "to-signup").click()
    visible(driver, "#signup-name").send_keys("Someone")
    driver.find_element(By.ID, "signup-email").send_keys(address)
    driver.find_element(By.ID, "signup-password").send_keys(PASSWORD)
    driver.find_element(By.ID, "signup-submit").click()
    text_of(driver, "#signup-error", "An account with this email already exists.")
    assert console_errors(driver, allowed=("status of 401", "status of 409")) == []


def test_the_owner_page_fits_a_390_pixel_wide_phone(
        site: Server, browser: Callable[..., "WebDriver"]) -> None:
    address, token = site.owner()
    code = site.appointment(token, title="A rather long title " * 5)["app_code"]
    booking = site.book(code, site.first_slot(code), email())
    driver = browser(width=390, height=844, mobile=True)
    driver.get(f"{site.base}/owner")
    log_in(driver, address)
    booking_card(driver, "#upcoming, #today", booking["booking_code"])
    assert driver.execute_script("return window.innerWidth") == 390
    no_horizontal_scroll(driver)
    visible(driver, f"#apps li[data-code='{code}'] .show-bookings").click()
    booking_card(driver, "#bookings", booking["booking_code"])
    no_horizontal_scroll(driver)
    driver.find_element(By.ID, "nav-create").click()
    visible(driver, "#c-title")
    no_horizontal_scroll(driver)
    driver.find_element(By.ID, "nav-bans").click()
    text_of(driver, "#bans", "Nobody is banned.")
    no_horizontal_scroll(driver)
    driver.find_element(By.ID, "nav-analytics").click()
    visible(driver, "#chart-seats")
    no_horizontal_scroll(driver)
    assert console_errors(driver) == []


def test_the_owner_bans_and_lifts_an_address(
        site: Server, browser: Callable[..., "WebDriver"], axe: str) -> None:
    address, token = site.owner()
    code = site.appointment(token)["app_code"]
    start = site.first_slot(code)
    driver = browser()
    driver.get(f"{site.base}/owner")
    log_in(driver, address)
    visible(driver, "[data-view='dashboard']")
    driver.find_element(By.ID, "nav-bans").click()
    text_of(driver, "#bans", "Nobody is banned.")
    assert axe_violations(driver) == [], "empty ban list"

    driver.find_element(By.ID, "ban-email").send_keys("Spammer+promo@example.com")
    driver.find_element(By.ID, "ban-submit").click()
    text_of(driver, "#bans-notice", "spammer@example.com is banned.")
    visible(driver, "#bans li[data-email='spammer@example.com']")
    assert [b["banned_email"] for b in site.ok("GET", "/ban-list", token=token)] \
        == ["spammer@example.com"]
    # The API refuses the banned mailbox's bookings, whatever its alias.
    status, answer = site.call("POST", "/appointments/book", {
        "app_code": code, "start_time": start, "name": "Spam", "email": "spammer+x@example.com",
        "attendee_count": 1})
    assert (status, answer["code"]) == (403, "banned")
    assert axe_violations(driver) == [], "ban list with an entry"

    driver.find_element(
        By.CSS_SELECTOR, "#bans li[data-email='spammer@example.com'] button.lift").click()
    text_of(driver, "#bans-notice", "The ban of spammer@example.com is lifted.")
    text_of(driver, "#bans", "Nobody is banned.")
    assert site.ok("GET", "/ban-list", token=token) == []
    site.book(code, start, "spammer+x@example.com")
    assert console_errors(driver) == []


def test_analytics_chart_the_bookings_by_status_and_the_seats(
        site: Server, browser: Callable[..., "WebDriver"], axe: str) -> None:
    address, token = site.owner()
    code = site.appointment(token)["app_code"]
    start = site.first_slot(code)
    site.book(code, start, email())
    rejected = site.book(code, start, email())
    site.ok("POST", f"/bookings/{rejected['booking_code']}/reject", token=token)
    driver = browser()
    driver.get(f"{site.base}/owner")
    log_in(driver, address)
    visible(driver, "[data-view='dashboard']")
    driver.find_element(By.ID, "nav-analytics").click()
    visible(driver, "#chart-status")
    visible(driver, "[data-view='analytics']:not([aria-busy])")
    first = driver.find_element(By.ID, "a-start").get_attribute("value")
    last = driver.find_element(By.ID, "a-end").get_attribute("value")
    figures = site.ok("GET", f"/analytics?start_date={first}&end_date={last}", token=token)
    assert figures["active_bookings"] == 1 and figures["rejected_bookings"] == 1
    assert figures["seats_offered"] > figures["seats_booked"] == 1

    def figure(chart: str, key: str) -> str:
        return driver.find_element(By.CSS_SELECTOR, f"#{chart} li[data-key='{key}']").text

    assert figure("chart-status", "active") == "Confirmed: 1"
    assert figure("chart-status", "rejected") == "Rejected: 1"
    assert figure("chart-status", "pending") == "Awaiting you: 0"
    assert figure("chart-seats", "booked") == "Booked: 1"
    assert figure("chart-seats", "offered") == f"Offered: {figures['seats_offered']}"
    text_of(driver, "#analytics-summary", "2 bookings from ")
    # The bars are drawn in proportion: offered seats the longest.
    bars = driver.find_elements(By.CSS_SELECTOR, "#chart-seats svg rect")
    widths = [float(b.get_attribute("width")) for b in bars]
    assert len(widths) == 3 and widths[2] == max(widths) > widths[0] >= 1
    assert len(driver.find_elements(By.CSS_SELECTOR, "#chart-status svg rect")) == 8

    # Over time: the twelve weeks of the range, whose figures add up to its totals.
    visible(driver, "#chart-time")
    visible(driver, "[data-view='analytics']:not([aria-busy])")
    periods = driver.find_elements(By.CSS_SELECTOR, "#chart-time tbody tr")
    assert len(periods) == 12
    assert periods[0].get_attribute("data-from") == first
    assert periods[-1].get_attribute("data-to") == last

    def column(key: str) -> int:
        return sum(int(c.text) for c in driver.find_elements(
            By.CSS_SELECTOR, f"#chart-time td[data-key='{key}']"))

    assert column("confirmed") == figures["active_bookings"] + figures["completed_bookings"] == 1
    assert column("called_off") == 1
    assert column("pending") == 0
    # Two bookings in one period: one column of two stacked bars.
    assert len(driver.find_elements(By.CSS_SELECTOR, "#chart-time svg rect")) == 2
    assert axe_violations(driver) == [], "analytics"
    assert console_errors(driver) == []


def test_an_owner_works_with_the_keyboard_alone(
        site: Server, browser: Callable[..., "WebDriver"]) -> None:
    address, token = site.owner()
    code = site.appointment(token, title="Keyed")["app_code"]
    booking = site.book(code, site.first_slot(code), email())["booking_code"]
    driver = browser()
    driver.get(f"{site.base}/owner")
    visible(driver, "[data-view='login']")
    tab_to(driver, "#login-email")
    press(driver, address)
    tab_to(driver, "#login-password")
    press(driver, PASSWORD, Keys.ENTER)
    visible(driver, "[data-view='dashboard']:not([aria-busy])")
    # The view's heading takes the focus.
    assert driver.switch_to.active_element.get_attribute("id") == "dashboard-title"
    tab_to(driver, f"#apps li[data-code='{code}'] .show-bookings")
    press(driver, Keys.ENTER)
    booking_card(driver, "#bookings", booking)
    tab_to(driver, f"#bookings li[data-code='{booking}'] .act-reject")
    press(driver, Keys.ENTER)
    text_of(driver, "#bookings-notice", "is rejected.")
    # The focus stays with the booking just changed.
    wait(driver).until(lambda d: d.execute_script(
        "return document.activeElement.closest('li') !== null"
        " && document.activeElement.closest('li').dataset.code === arguments[0]", booking),
        "the focus left the booking")
    assert site.ok("GET", f"/bookings/{booking}")["status"] == "rejected"
    tab_to(driver, "#logout")
    press(driver, Keys.ENTER)
    visible(driver, "[data-view='login']")
    assert stored_token(driver) is None
    assert console_errors(driver) == []


def test_the_owner_edits_closes_and_reopens_an_appointment(
        site: Server, browser: Callable[..., "WebDriver"], axe: str) -> None:
    address, token = site.owner()
    every_day = {day: ["09:00-12:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    # A week and a day: closing one date and Sundays leaves times on others, whatever today is.
    code = site.appointment(token, title="Before", start_time=None, end_time=None,
                            weekly_hours=every_day,
                            end_date=f"{date.today() + timedelta(days=8)}T00:00:00Z")["app_code"]
    driver = browser()
    driver.get(f"{site.base}/owner")
    log_in(driver, address)
    visible(driver, f"#apps li[data-code='{code}'] .show-bookings").click()
    text_of(driver, "#app-state", "Open: clients can book")
    driver.find_element(By.ID, "edit-start").click()
    text_of(driver, "#create-title", "Edit Before")
    assert driver.find_element(By.ID, "c-title").get_attribute("value") == "Before"
    assert driver.find_element(By.ID, "h-sun-on").is_selected()
    assert not driver.find_element(By.ID, "c-type").is_enabled()
    assert not driver.find_element(By.ID, "c-start").is_enabled()
    text_of(driver, "#c-fixed-note", "stay as they were made")
    assert axe_violations(driver) == [], "edit"

    title = driver.find_element(By.ID, "c-title")
    title.clear()
    title.send_keys("After")
    driver.find_element(By.ID, "h-sun-on").click()  # closed on Sundays from now on
    driver.find_element(By.ID, "c-approval").click()
    # Closed dates: a new row starts on the appointment's first date (tomorrow).
    driver.find_element(By.ID, "closure-add").click()
    row = visible(driver, "#c-closures .closure-row")
    assert row.find_element(By.CSS_SELECTOR, ".cl-from").get_attribute("value") == tomorrow
    row.find_element(By.CSS_SELECTOR, ".cl-label").send_keys("Holiday")
    # Special hours: the day after tomorrow runs 09:00-17:00 instead of 09:00-12:00.
    later = (date.today() + timedelta(days=2)).isoformat()
    driver.find_element(By.ID, "override-add").click()
    special = visible(driver, "#c-overrides .override-row")
    # The date widget's typing order depends on the browser's locale: the value is set directly.
    driver.execute_script("arguments[0].value = arguments[1]",
                          special.find_element(By.CSS_SELECTOR, ".ov-date"), later)
    assert axe_violations(driver) == [], "edit with closed dates and special hours"
    driver.find_element(By.ID, "create-submit").click()
    text_of(driver, "#bookings-notice", "The changes are saved.")
    text_of(driver, "#bookings-title", "Bookings of After")
    app = site.ok("GET", f"/appointments/{code}/public")
    assert app["title"] == "After"
    mine = [a for a in site.ok("GET", "/appointments/my", token=token)["items"]
            if a["app_code"] == code][0]
    assert "sun" not in mine["weekly_hours"] or mine["weekly_hours"]["sun"] == []
    assert mine["weekly_hours"]["mon"] == ["09:00-12:00"]
    assert mine["confirm_within_minutes"] == 24 * 60
    assert [(c["from"][:10], c["to"][:10], c.get("label")) for c in mine["closures"]] \
        == [(tomorrow, tomorrow, "Holiday")]
    assert [(o["date"][:10], o["hours"]) for o in mine["overrides"]] \
        == [(later, ["09:00-17:00"])]
    slots = site.ok("GET", f"/appointments/slots/{code}?per_page=100")["items"]
    assert slots and not [s for s in slots if s["start_time"].startswith(tomorrow)]
    assert [s for s in slots if s["start_time"].startswith(f"{later}T16:00")]

    # An edit made elsewhere meanwhile is not overwritten.
    driver.find_element(By.ID, "edit-start").click()
    visible(driver, "#c-title")
    # The form shows the closed dates and special hours kept.
    assert len(driver.find_elements(By.CSS_SELECTOR, "#c-closures .closure-row")) == 1
    assert driver.find_element(By.CSS_SELECTOR, "#c-overrides .ov-date").get_attribute(
        "value") == later
    site.ok("PATCH", f"/appointments/{code}", {"description": "changed elsewhere"}, token)
    driver.find_element(By.ID, "c-title").send_keys(" again")
    driver.find_element(By.ID, "create-submit").click()
    text_of(driver, "#create-error", "This appointment was changed meanwhile")
    assert site.ok("GET", f"/appointments/{code}/public")["title"] == "After"
    driver.find_element(By.ID, "create-cancel").click()

    visible(driver, "#close-toggle").click()
    text_of(driver, "#bookings-notice", "closed to new bookings")
    text_of(driver, "#app-state", "Closed")
    assert site.ok("GET", f"/appointments/slots/{code}")["items"] == []
    driver.find_element(By.ID, "close-toggle").click()
    text_of(driver, "#bookings-notice", "open again")
    assert site.ok("GET", f"/appointments/slots/{code}")["items"] != []
    assert console_errors(driver, allowed=("status of 412",)) == []


def test_a_session_ended_elsewhere_shows_the_login_again(
        site: Server, browser: Callable[..., "WebDriver"]) -> None:
    address, _ = site.owner()
    driver = browser()
    driver.get(f"{site.base}/owner")
    log_in(driver, address)
    visible(driver, "[data-view='dashboard']:not([aria-busy])")
    token = stored_token(driver)
    site.ok("POST", "/logout", token=token)
    driver.find_element(By.ID, "nav-dashboard").click()
    text_of(driver, "#login-notice", "Your session has ended. Please log in again.")
    assert stored_token(driver) is None
    assert not driver.find_element(By.ID, "owner-nav").is_displayed()
    assert console_errors(driver, allowed=("status of 401",)) == []
