"""The history window's server: the standard library's HTTP server inside the agent, started
the first time the window is opened and stopped with the agent.

A web server in a desktop agent is reachable by every web page the user visits (through
their browser) and by every local user. So:
- it listens on 127.0.0.1 only, on a port the system picks;
- the address it opens carries a secret made for this run; the first request trades it for
  an HttpOnly, SameSite=Strict cookie (named for the port: cookies do not tell ports apart)
  and a redirect that takes the secret out of the address bar; any other request without
  that cookie gets 403;
- every request's Host header must be the address itself (a DNS-rebinding page would send
  its own name); every POST carries the page's anti-forgery token, and an Origin other than
  ours is refused;
- no CORS header is ever sent; a strict Content-Security-Policy allows only this server's
  own script and style; request lines, bodies and live streams are bounded.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from http import HTTPStatus
from http.cookies import CookieError, SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from traycourier.agent.policy.menu_actions import MenuAction
from traycourier.agent.web import assets, page
from traycourier.agent.web.forms import action_for
from traycourier.store import InvalidInput, StoreError, timestamps
from traycourier.store.rows import NotificationRow

log = logging.getLogger(__name__)

MAX_BODY = 16 * 1024
MAX_TARGET = 4096
MAX_STREAMS = 16
KEEPALIVE_S = 15.0
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)

Reader = Callable[[page.Query], Sequence[NotificationRow]]
"""The page's rows for a query (newest first, at most `page.PAGE_SIZE`)."""
Actor = Callable[[MenuAction], None]
"""Does what the user asked, as the tray menu does it (raises when it cannot)."""
Chooser = Callable[[], page.Choices]
"""The user's settings and mutes now, for the settings panel."""


class HistoryServer:
    """One per agent; `start` is called when the window is first opened."""

    def __init__(
        self,
        read: Reader,
        act: Actor,
        choices: Chooser | None = None,
        clock: Callable[[], datetime] = timestamps.utcnow,
    ) -> None:
        self._read, self._act, self._choices, self._clock = read, act, choices, clock
        self._secret = secrets.token_urlsafe(32)
        self._session = secrets.token_urlsafe(32)
        self.csrf = secrets.token_urlsafe(32)
        self._httpd: ThreadingHTTPServer | None = None
        self._changes = threading.Condition()
        self._generation = 0
        self._stopped = False
        self._streams = 0

    @property
    def port(self) -> int | None:
        return self._httpd.server_address[1] if self._httpd is not None else None

    @property
    def url(self) -> str | None:
        """The address to open (with this run's secret); None until started."""
        return None if self.port is None else f"{self.origin}/?key={self._secret}"

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> str:
        """Listen (once) and return the address to open."""
        if self._httpd is None:
            httpd = _Server(("127.0.0.1", 0), _handler_for(self))
            httpd.daemon_threads = True
            self._httpd = httpd
            threading.Thread(target=httpd.serve_forever, name="history", daemon=True).start()
            log.info("history window served at %s", self.origin)
        assert self.url is not None
        return self.url

    def changed(self) -> None:
        """The database changed (a tick ran): open pages fetch their list again."""
        with self._changes:
            self._generation += 1
            self._changes.notify_all()

    def stop(self) -> None:
        with self._changes:
            self._stopped = True
            self._changes.notify_all()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    # -- what the handler asks ------------------------------------------------------------

    def host_ok(self, host: str | None) -> bool:
        return host == f"127.0.0.1:{self.port}"

    def secret_ok(self, key: str) -> bool:
        return hmac.compare_digest(key.encode(), self._secret.encode())

    def session_ok(self, cookie_header: str | None) -> bool:
        if not cookie_header:
            return False
        try:
            jar = SimpleCookie(cookie_header)
        except CookieError:
            return False
        morsel = jar.get(self.cookie_name)
        return morsel is not None and hmac.compare_digest(
            morsel.value.encode(), self._session.encode()
        )

    @property
    def cookie_name(self) -> str:
        return f"traycourier{self.port}"

    def set_cookie(self) -> str:
        return f"{self.cookie_name}={self._session}; HttpOnly; SameSite=Strict; Path=/"

    def rows(self, query: page.Query) -> Sequence[NotificationRow]:
        return self._read(query)

    def act(self, action: MenuAction) -> None:
        self._act(action)

    def choices(self) -> page.Choices | None:
        return self._choices() if self._choices is not None else None

    def now(self) -> datetime:
        return self._clock()

    def wait_for_change(self, seen: int) -> int | None:
        """The generation after `seen` once there is one; `seen` after the keep-alive
        pause; None once the server stops."""
        with self._changes:
            self._changes.wait_for(lambda: self._generation != seen or self._stopped, KEEPALIVE_S)
            return None if self._stopped else self._generation

    def open_stream(self) -> int | None:
        with self._changes:
            if self._streams >= MAX_STREAMS:
                return None
            self._streams += 1
            return self._generation

    def close_stream(self) -> None:
        with self._changes:
            self._streams -= 1


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        """A request that broke goes to the log, never as a traceback on stderr."""
        log.exception("history window: a request from %s failed", client_address)


def _handler_for(server: HistoryServer) -> type[BaseHTTPRequestHandler]:
    class Handler(_Handler):
        owner = server

    return Handler


class _Handler(BaseHTTPRequestHandler):
    owner: HistoryServer
    server_version = "traycourier"
    sys_version = ""
    timeout = 30

    def log_message(self, format: str, *args: object) -> None:
        log.debug("history: " + format, *args)

    def _send(
        self, status: HTTPStatus, body: str, ctype: str = "text/html", **headers: str
    ) -> None:
        data = body.encode("utf-8", "replace")
        self.send_response(status)
        self.send_header("Content-Type", f"{ctype}; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Content-Security-Policy", CSP)
        self.send_header("X-Content-Type-Options", "nosniff")
        # same-origin, not no-referrer: under no-referrer a form post says `Origin: null`
        self.send_header("Referrer-Policy", "same-origin")
        self.send_header("Cache-Control", "no-store")
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _refuse(self, status: HTTPStatus, why: str) -> None:
        self._send(status, f"{status.value} {status.phrase}: {why}\n", "text/plain")

    def _allowed(self) -> bool:
        """The checks every request passes: its size, its Host, and (but for the first,
        which trades the secret) the session cookie."""
        if len(self.path) > MAX_TARGET:
            self._refuse(HTTPStatus.REQUEST_URI_TOO_LONG, "address too long")
            return False
        if not self.owner.host_ok(self.headers.get("Host")):
            self._refuse(HTTPStatus.FORBIDDEN, "not this agent's address")
            return False
        return True

    def do_GET(self) -> None:
        if not self._allowed():
            return
        target = urlsplit(self.path)
        key = parse_qs(target.query).get("key")
        if target.path == "/" and key:
            if not self.owner.secret_ok(key[0]):
                self._refuse(HTTPStatus.FORBIDDEN, "this address is not valid any more")
                return
            self._send(HTTPStatus.SEE_OTHER, "", Location="/", Set_Cookie=self.owner.set_cookie())
            return
        if not self.owner.session_ok(self.headers.get("Cookie")):
            self._refuse(HTTPStatus.FORBIDDEN, "open the history from traycourier's menu")
            return
        query = page.Query.parse(target.query)
        now = self.owner.now
        match target.path:
            case "/":
                choices = self.owner.choices()
                html = page.page(self._rows(query), query, self._csrf, now(), choices)
                self._send(HTTPStatus.OK, html)
            case "/list":
                found = self._rows(query)
                listed = page.listing(found, query, self._csrf, now(), self.owner.choices())
                self._send(HTTPStatus.OK, listed)
            case "/app.js":
                self._send(HTTPStatus.OK, assets.SCRIPT, "text/javascript")
            case "/app.css":
                self._send(HTTPStatus.OK, assets.STYLE, "text/css")
            case "/events":
                self._stream()
            case _:
                self._refuse(HTTPStatus.NOT_FOUND, "no such page")

    @property
    def _csrf(self) -> str:
        return self.owner.csrf

    def _rows(self, query: page.Query) -> Sequence[NotificationRow]:
        return self.owner.rows(query)

    def do_POST(self) -> None:
        if not self._allowed():
            return
        if not self.owner.session_ok(self.headers.get("Cookie")):
            self._refuse(HTTPStatus.FORBIDDEN, "open the history from traycourier's menu")
            return
        origin = self.headers.get("Origin")
        if origin is not None and origin != self.owner.origin:
            self._refuse(HTTPStatus.FORBIDDEN, "a request from another site")
            return
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            self._refuse(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "request too large")
            return
        raw = self.rfile.read(length).decode("utf-8", "replace")
        try:
            fields = parse_qs(raw, keep_blank_values=True, max_num_fields=10)
        except ValueError:
            self._refuse(HTTPStatus.BAD_REQUEST, "too many fields")
            return
        form = {k: v[0] for k, v in fields.items()}  # an empty `back`: the newest page
        if not hmac.compare_digest(form.get("csrf", "").encode(), self._csrf.encode()):
            self._refuse(HTTPStatus.FORBIDDEN, "this page is out of date: open it again")
            return
        action = action_for(form) if urlsplit(self.path).path == "/act" else None
        if action is None:
            self._refuse(HTTPStatus.BAD_REQUEST, "nothing to do")
            return
        try:
            self.owner.act(action)
        except InvalidInput as err:
            self._refuse(HTTPStatus.BAD_REQUEST, str(err))
            return
        except StoreError as err:
            self._refuse(HTTPStatus.SERVICE_UNAVAILABLE, f"the database said: {err}")
            return
        except Exception as err:  # a bug must not end the server or show a traceback
            log.exception("history: %s failed", action)
            self._refuse(HTTPStatus.INTERNAL_SERVER_ERROR, f"that did not work: {err}")
            return
        back = form.get("back")
        if back is None:  # the script's mark-read on a link's click
            self._send(HTTPStatus.NO_CONTENT, "")
            return
        query = page.Query.parse(back).as_query_string()
        self._send(HTTPStatus.SEE_OTHER, "", Location="/" + (f"?{query}" if query else ""))

    def _stream(self) -> None:
        """Server-sent events: "changed" after each change the agent saw."""
        seen = self.owner.open_stream()
        if seen is None:
            self._refuse(HTTPStatus.SERVICE_UNAVAILABLE, "too many open windows")
            return
        try:
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(b"retry: 2000\n\n")
            self.wfile.flush()
            while True:
                now = self.owner.wait_for_change(seen)
                if now is None:
                    return
                self.wfile.write(b"data: changed\n\n" if now != seen else b": still here\n\n")
                self.wfile.flush()
                seen = now
        except OSError:
            return  # the page was closed
        finally:
            self.owner.close_stream()
