//! A staff member's session on the board over plain HTTP (no browser): its cookie and its
//! forms' CSRF token, for the refusals a browser would hide.

use reqwest::StatusCode;

use crate::Service;

/// A client that shows redirects rather than following them.
pub fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn page(service: &Service, cookie: &str, path: &str) -> String {
    no_redirects()
        .get(service.url(path))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// A logged-in session.
pub struct Session {
    pub cookie: String,
    pub csrf: String,
}

impl Session {
    /// The session cookie a response sets, if it sets one.
    pub fn from_response(response: &reqwest::Response) -> Option<String> {
        let set = response.headers().get("set-cookie")?.to_str().ok()?;
        Some(set.split(';').next()?.to_string())
    }

    pub async fn login(
        service: &Service,
        name: &str,
        password: &str,
    ) -> Result<Session, StatusCode> {
        let response = no_redirects()
            .post(service.url("/login"))
            .form(&[("name", name), ("password", password), ("next", "/")])
            .send()
            .await
            .unwrap();
        match Session::from_response(&response) {
            Some(cookie) => Ok(Session::with_cookie(service, cookie).await),
            None => Err(response.status()),
        }
    }

    /// The first administrator, created through the first start's setup link.
    pub async fn first_admin(service: &Service, name: &str, password: &str) -> Session {
        let link = service.running().setup_link.clone().expect("a setup link");
        // The link names the public address, which may not be this one.
        let path = &link[link.find("/setup/").expect("a setup path")..];
        let created = no_redirects()
            .post(service.url(path))
            .form(&[("name", name), ("password", password), ("lang", "en")])
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), StatusCode::SEE_OTHER);
        let cookie = Session::from_response(&created).expect("logged in after setup");
        Session::with_cookie(service, cookie).await
    }

    pub async fn with_cookie(service: &Service, cookie: String) -> Session {
        let page = page(service, &cookie, "/").await;
        let csrf = page
            .split(r#"name="csrf" value=""#)
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("a CSRF token on the board")
            .to_string();
        Session { cookie, csrf }
    }

    /// Creates a staff account from the admin page (this session must be an admin's).
    pub async fn add_staff(&self, service: &Service, name: &str, role: &str, manager: &str) {
        let status = self
            .post(
                service,
                "/admin/staff",
                &[
                    ("csrf", &self.csrf),
                    ("name", name),
                    ("password", "a long enough password"),
                    ("role", role),
                    ("manager", manager),
                    ("lang", "en"),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::OK, "creating {name}");
    }

    /// The text of the page at `path`, as this session sees it.
    pub async fn text(&self, service: &Service, path: &str) -> String {
        page(service, &self.cookie, path).await
    }

    pub async fn get(&self, service: &Service, path: &str) -> StatusCode {
        no_redirects()
            .get(service.url(path))
            .header("cookie", &self.cookie)
            .send()
            .await
            .unwrap()
            .status()
    }

    pub async fn post(&self, service: &Service, path: &str, form: &[(&str, &str)]) -> StatusCode {
        self.post_page(service, path, form).await.0
    }

    /// Posts a form; the status and the page that answers it.
    pub async fn post_page(
        &self,
        service: &Service,
        path: &str,
        form: &[(&str, &str)],
    ) -> (StatusCode, String) {
        let response = no_redirects()
            .post(service.url(path))
            .header("cookie", &self.cookie)
            .form(form)
            .send()
            .await
            .unwrap();
        (response.status(), response.text().await.unwrap_or_default())
    }
}
