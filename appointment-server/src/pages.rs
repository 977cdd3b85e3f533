//! The pages a client books through: `GET /book/{app_code}` (an appointment's booking page) and
//! `GET /manage` (a booking, by the code in the URL's fragment: `/manage#BK-…`); the owner's
//! page, `GET /owner`; with their script and style under `/assets/`.
//!
//! # Why a small client over the JSON API
//!
//! The pages are static HTML, a stylesheet and a few plain ES modules, embedded in the binary
//! with `include_str!` and served as they are: no template, no JavaScript build step, no CDN,
//! nothing fetched at run time. In the browser they call the same JSON API as every other
//! client (`GET /appointments/{app_code}/public`, `GET /appointments/slots/{app_code}`,
//! `POST /appointments/book`, `GET`/`PUT`/`DELETE /bookings/{booking_code}`, `POST /waitlist`),
//! so the pages cannot bypass a rule of the core: a full slot, a ban, the cancellation cut-off
//! or the owner's confirmation are the API's answers, which the pages put into words. Server
//! rendering would have needed a second path into the scheduler (and its own tests of every
//! rule); here the server's part is only these few static routes.
//!
//! The booking code is a credential (whoever holds it can cancel), so the manage page takes it
//! from the fragment, which browsers never send: it stays out of the server's logs, and
//! `Referrer-Policy: no-referrer` keeps the page's address from other sites.
//!
//! # The owner's page: one page, the token in `sessionStorage`
//!
//! `/owner` is one page whose views (log in, sign up, dashboard, new or edited appointment, an
//! appointment's bookings, the ban list, analytics) the script switches between: they share
//! one session and one set of calls, and every view is only a few API requests (`POST /users`,
//! `POST /login`, `POST /logout`, `GET /appointments/my`, `GET /appointments/users/{app_code}`,
//! `POST /appointments`, `PATCH /appointments/{app_code}` with `If-Match`,
//! `POST /appointments/{app_code}/{close,reopen}`,
//! `POST /bookings/{booking_code}/{reject,confirm,decline,complete,no-show}`,
//! `GET`/`POST`/`DELETE /ban-list`, `GET /analytics`), so separate pages would have repeated the
//! session handling for nothing. The charts (bookings by status, seats booked and offered, and
//! bookings by status per week: one `GET /analytics` per period, at most twelve, one after the
//! other) are SVG built node by node, without a library, each with its figures as text. The
//! dashboard lists the owner's 100 newest appointments and reads the bookings of the ten newest
//! (pages of 100, up to 1,000 bookings each, and says so when there are more appointments); an
//! appointment's own view reads its bookings the same way.
//!
//! The API's bearer token is kept in `sessionStorage` (per tab, gone when the tab closes) and
//! sent as an `Authorization` header: no cookie, so no request the browser would authenticate on
//! its own and no CSRF surface; the token never appears in an address. Log out revokes it
//! (`POST /logout`) and forgets it, and a `401` forgets it too. What could read it is script
//! running on the page, which the CSP below keeps to the server's own files.
//!
//! Every answer carries a strict Content-Security-Policy (no inline script or style, nothing
//! from elsewhere), `X-Content-Type-Options: nosniff` and `Referrer-Policy: no-referrer`. The
//! scripts build the page with `textContent`, never `innerHTML`, so what the API returns is
//! never markup. These routes are not part of the OpenAPI document.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::state::AppState;

/// The Content-Security-Policy of every page and asset.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; \
     base-uri 'none'; frame-ancestors 'none'";

/// How long a browser may keep an asset without asking again (the names carry no hash, so
/// briefly).
pub const ASSET_CACHE_CONTROL: &str = "public, max-age=300";

const BOOK_HTML: &str = include_str!("../web/book.html");
const MANAGE_HTML: &str = include_str!("../web/manage.html");
const OWNER_HTML: &str = include_str!("../web/owner.html");

/// The embedded assets: name under `/assets/`, content type, body.
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("../web/app.css"),
    ),
    (
        "common.js",
        "text/javascript; charset=utf-8",
        include_str!("../web/common.js"),
    ),
    (
        "picker.js",
        "text/javascript; charset=utf-8",
        include_str!("../web/picker.js"),
    ),
    (
        "book.js",
        "text/javascript; charset=utf-8",
        include_str!("../web/book.js"),
    ),
    (
        "manage.js",
        "text/javascript; charset=utf-8",
        include_str!("../web/manage.js"),
    ),
    (
        "owner.js",
        "text/javascript; charset=utf-8",
        include_str!("../web/owner.js"),
    ),
];

/// The routes of the pages and their assets.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/book/{app_code}", get(book_page))
        .route("/manage", get(manage_page))
        .route("/owner", get(owner_page))
        .route("/assets/{name}", get(asset))
}

fn secured(
    status: StatusCode,
    content_type: &'static str,
    cache: &'static str,
    body: &'static str,
) -> Response {
    let mut res = (status, body).into_response();
    let headers = res.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    res
}

fn html(body: &'static str) -> Response {
    secured(StatusCode::OK, "text/html; charset=utf-8", "no-cache", body)
}

/// The booking page of an appointment; the script reads the code from the address and shows
/// a not-found state when the API does not know it.
async fn book_page(Path(_app_code): Path<String>) -> Response {
    html(BOOK_HTML)
}

/// The page that shows, reschedules and cancels a booking named in the fragment.
async fn manage_page() -> Response {
    html(MANAGE_HTML)
}

/// The owner's page: sign up, log in, the dashboard, new appointments, bookings.
async fn owner_page() -> Response {
    html(OWNER_HTML)
}

/// One embedded asset, or 404.
async fn asset(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|(n, _, _)| *n == name) {
        Some((_, content_type, body)) => {
            secured(StatusCode::OK, content_type, ASSET_CACHE_CONTROL, body)
        }
        None => secured(
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "no-cache",
            "no such asset\n",
        ),
    }
}
