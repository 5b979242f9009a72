//! The few static files the pages use, embedded in the binary (their licences sit beside
//! them in `host/static`): htmx and its server-sent-events extension, the stylesheet, the
//! icon. Served with a week's caching; their names change when they do.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

const FILES: [(&str, &str, &[u8]); 4] = [
    (
        "htmx.min.js",
        "text/javascript",
        include_bytes!("../../static/htmx.min.js"),
    ),
    (
        "sse.js",
        "text/javascript",
        include_bytes!("../../static/sse.js"),
    ),
    (
        "reveille.css",
        "text/css",
        include_bytes!("../../static/reveille.css"),
    ),
    (
        "icon.svg",
        "image/svg+xml",
        include_bytes!("../../static/icon.svg"),
    ),
];

pub async fn serve(Path(file): Path<String>) -> Response {
    match FILES.iter().find(|(name, _, _)| *name == file) {
        Some((_, kind, bytes)) => (
            [
                (header::CONTENT_TYPE, *kind),
                (header::CACHE_CONTROL, "public, max-age=604800"),
            ],
            *bytes,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such file").into_response(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_embedded_files_stay_small() {
        let total: usize = super::FILES.iter().map(|(_, _, bytes)| bytes.len()).sum();
        assert!(total < 100_000, "{total} bytes embedded");
    }
}
