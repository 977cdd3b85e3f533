//! The client and owner pages (`/book/{app_code}`, `/manage`, `/owner`, `/assets/…`).

use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use crate::helpers::spawn_app;

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

fn assert_secured(headers: &HeaderMap, content_type: &str) {
    assert_eq!(headers["content-type"], content_type);
    assert_eq!(headers["content-security-policy"], CSP);
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert!(headers.contains_key("cache-control"));
}

#[tokio::test]
async fn pages_are_html_with_a_strict_content_security_policy() {
    let Some(app) = spawn_app().await else {
        return;
    };
    for path in ["/book/AP-ZZZZZZZZZZZZ", "/manage", "/owner"] {
        let res = app.get(path).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert_secured(res.headers(), "text/html; charset=utf-8");
        assert_eq!(res.headers()["cache-control"], "no-cache");
        let body = res.text().await.unwrap();
        assert!(body.starts_with("<!doctype html>"), "{path}");
        // No inline script or style: the CSP would block them.
        assert!(!body.contains("<script>"), "{path}: inline script");
        assert!(!body.contains("<style"), "{path}: inline style");
        assert!(!body.contains("style="), "{path}: inline style attribute");
        assert!(
            body.contains(r#"<script type="module" src="/assets/"#),
            "{path}"
        );
        assert!(body.contains(r#"<html lang="en">"#), "{path}");
    }
}

#[tokio::test]
async fn assets_have_their_content_types_and_a_cache_header() {
    let Some(app) = spawn_app().await else {
        return;
    };
    for (name, content_type) in [
        ("app.css", "text/css; charset=utf-8"),
        ("common.js", "text/javascript; charset=utf-8"),
        ("picker.js", "text/javascript; charset=utf-8"),
        ("book.js", "text/javascript; charset=utf-8"),
        ("manage.js", "text/javascript; charset=utf-8"),
        ("owner.js", "text/javascript; charset=utf-8"),
    ] {
        let res = app.get(&format!("/assets/{name}")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{name}");
        assert_secured(res.headers(), content_type);
        assert_eq!(res.headers()["cache-control"], "public, max-age=300");
        assert!(!res.text().await.unwrap().is_empty(), "{name}");
    }
}

#[tokio::test]
async fn scripts_never_write_markup() {
    let Some(app) = spawn_app().await else {
        return;
    };
    for name in ["common.js", "picker.js", "book.js", "manage.js", "owner.js"] {
        let js = app
            .get(&format!("/assets/{name}"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        for sink in [
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
            "eval(",
        ] {
            assert!(!js.contains(sink), "{name} uses {sink}");
        }
    }
}

#[tokio::test]
async fn an_unknown_asset_is_404() {
    let Some(app) = spawn_app().await else {
        return;
    };
    for path in [
        "/assets/nope.js",
        "/assets/..%2Fsrc%2Fpages.rs",
        "/assets/book.html",
    ] {
        let res = app.get(path).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    }
}

/// The `"/assets/…"` and `"./….js"` references in a page or script.
fn references(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (marker, prefix) in [("\"/assets/", "/assets/"), ("\"./", "/assets/")] {
        let mut rest = text;
        while let Some(i) = rest.find(marker) {
            rest = &rest[i + marker.len()..];
            let end = rest.find('"').unwrap();
            out.push(format!("{prefix}{}", &rest[..end]));
            rest = &rest[end..];
        }
    }
    out
}

#[tokio::test]
async fn every_asset_a_page_or_script_names_is_served() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let mut seen = std::collections::BTreeSet::new();
    let mut queue = vec![
        "/book/AP-ZZZZZZZZZZZZ".to_owned(),
        "/manage".to_owned(),
        "/owner".to_owned(),
    ];
    while let Some(path) = queue.pop() {
        if !seen.insert(path.clone()) {
            continue;
        }
        let res = app.get(&path).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        queue.extend(references(&res.text().await.unwrap()));
    }
    for asset in [
        "/assets/app.css",
        "/assets/book.js",
        "/assets/manage.js",
        "/assets/owner.js",
        "/assets/common.js",
        "/assets/picker.js",
    ] {
        assert!(seen.contains(asset), "{asset} is never referenced");
    }
}

#[tokio::test]
async fn the_owner_page_keeps_its_token_in_session_storage_not_in_cookies() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let res = app.get("/owner").send().await.unwrap();
    assert!(!res.headers().contains_key("set-cookie"));
    let html = res.text().await.unwrap();
    for id in ["login-form", "signup-form", "create-form", "logout"] {
        assert!(html.contains(&format!(r#"id="{id}""#)), "{id}");
    }
    let js = app
        .get("/assets/owner.js")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(js.contains("sessionStorage"));
    assert!(!js.contains("document.cookie"));
    assert!(!js.contains("localStorage"));
}
