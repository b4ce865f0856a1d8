"""A browser for tests: keeps cookies like a browser does on loopback, fills in Keycloak's
login form and stops at the redirect back to the client."""

from html.parser import HTMLParser
from http.cookiejar import DefaultCookiePolicy
from urllib.parse import parse_qs, urljoin, urlsplit

import requests

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class _LoopbackIsSecure(DefaultCookiePolicy):
    """Browsers treat http://localhost and 127.0.0.1 as secure contexts and send `Secure`
    cookies there; Keycloak marks its login cookies Secure even on plain HTTP."""

    def return_ok_secure(self, cookie, request):
        return (urlsplit(request.get_full_url()).hostname in LOOPBACK
                or super().return_ok_secure(cookie, request))


def browser() -> requests.Session:
    session = requests.Session()
    session.cookies.set_policy(_LoopbackIsSecure())
    return session


class _LoginForm(HTMLParser):
    def __init__(self):
        super().__init__()
        self.action = self.method = None
        self.fields: dict[str, str] = {}
        self._inside = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)  # HTMLParser unescapes attribute values (&amp; -> &)
        if tag == "form" and a.get("id") == "kc-form-login":
            self.action, self.method, self._inside = a.get("action"), a.get("method"), True
        elif tag == "input" and self._inside and a.get("name"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return  # a browser sends unchecked boxes not at all
            self.fields[a["name"]] = a.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._inside = False


def login(session: requests.Session, auth_url: str, username: str, password: str) -> str:
    """Open the authorization URL, fill in Keycloak's login form, return the redirect Location."""
    page = session.get(auth_url, allow_redirects=False)
    assert page.status_code == 200, f"GET {auth_url} -> {page.status_code}: {page.text[:500]}"
    form = _LoginForm()
    form.feed(page.text)
    assert form.action, f"no <form id=\"kc-form-login\"> in the login page:\n{page.text[:2000]}"
    assert (form.method or "").lower() == "post"
    assert {"username", "password"} <= form.fields.keys(), form.fields
    data = {**form.fields, "username": username, "password": password}
    done = session.post(urljoin(page.url, form.action), data=data, allow_redirects=False)
    assert done.status_code == 302, f"login POST -> {done.status_code}: {done.text[:1000]}"
    return done.headers["Location"]


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
