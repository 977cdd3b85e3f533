"""Renders screenshots of the main pages (desktop and phone) into docs/screenshots/, for the
README: the owner's dashboard, a booking page, a booking's manage page. Run it with
`scripts/screenshots.sh`, which builds the server and provides the browser and Selenium.

Not a test: it makes an owner with two appointments and a few bookings on a fresh SQLite
database, then opens each page in headless Chromium (the same setup as the browser tests) and
saves what it shows."""

from __future__ import annotations

import os
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver

from conftest import start_server
from test_owner_pages import PASSWORD, log_in
from test_pages import CHROMEDRIVER, _chromium, open_booking_page, visible

OUT = Path(os.environ.get("SCREENSHOTS_DIR", Path(__file__).resolve().parents[2] / "docs" / "screenshots"))
SIZES = {"desktop": (1280, 900, False), "phone": (390, 844, True)}


def driver(width: int, height: int, mobile: bool) -> WebDriver:
    options = webdriver.ChromeOptions()
    options.binary_location = _chromium() or ""
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--no-first-run", "--lang=en-GB", "--hide-scrollbars",
                f"--window-size={width},{height}"):
        options.add_argument(arg)
    d = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    d.execute_cdp_cmd("Emulation.setTimezoneOverride", {"timezoneId": "Europe/Berlin"})
    d.execute_cdp_cmd("Emulation.setLocaleOverride", {"locale": "en-GB"})
    d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile,
    })
    return d


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        site = start_server(f"sqlite://{tmp}/shots.db", tmp)
        try:
            address = "studio@example.com"
            site.ok("POST", "/users", {"name": "Corner Barber", "email": address,
                                       "password": PASSWORD}, status=201)
            token = site.ok("POST", "/login", {"email": address, "password": PASSWORD})["token"]
            start = date.today() + timedelta(days=1)
            cut = site.ok("POST", "/appointments", {
                "title": "Haircut", "description": "Wash, cut and style, about 45 minutes.",
                "start_time": f"{start}T09:00:00Z", "end_time": f"{start}T17:00:00Z",
                "start_date": f"{start}T00:00:00Z",
                "end_date": f"{start + timedelta(days=27)}T00:00:00Z",
                "booking_duration": 45, "type": "single",
            }, token, status=201)
            site.ok("POST", "/appointments", {
                "title": "Beard workshop", "description": "Six seats, bring your own razor.",
                "start_time": f"{start}T18:00:00Z", "end_time": f"{start}T20:00:00Z",
                "start_date": f"{start}T00:00:00Z", "end_date": f"{start}T00:00:00Z",
                "booking_duration": 120, "type": "group", "max_attendees": 6,
            }, token, status=201)
            slots = site.ok("GET", f"/appointments/slots/{cut['app_code']}")["items"]
            booked = [site.book(cut["app_code"], s["start_time"], f"client{i}@example.com")
                      for i, s in enumerate(slots[1:8:3])]
            for name, (width, height, mobile) in SIZES.items():
                d = driver(width, height, mobile)
                try:
                    d.get(f"{site.base}/owner")
                    log_in(d, address)
                    visible(d, "#upcoming li")
                    d.save_screenshot(str(OUT / f"owner-{name}.png"))
                    open_booking_page(d, site, cut["app_code"])
                    d.save_screenshot(str(OUT / f"book-{name}.png"))
                    d.get(f"{site.base}/manage#{booked[0]['booking_code']}")
                    visible(d, "[data-view='booking']")
                    d.save_screenshot(str(OUT / f"manage-{name}.png"))
                finally:
                    d.quit()
        finally:
            site.process.terminate()
            site.process.wait(timeout=20)
    for f in sorted(OUT.glob("*.png")):
        print(f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
