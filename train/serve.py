"""``winnow serve``: a small HTTP API over one loaded model (standard library server, threads).

POST /v1/label  {"text": "<article>"} or {"texts": ["unit", ...]}  -> {"segments": [...]}
POST /v1/label  {"html": "<page markup>"}  -> {"text": "<extracted text>", "segments": [...]}
GET  /healthz   -> {"status": "ok"}
GET  /v1/model  -> the manifest (name, version, labels, config, metrics, ...)
"""

from __future__ import annotations

import json
import logging
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .errors import WinnowError
from .inference.classifier import Classifier

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 5 * 1024 * 1024
MAX_TEXTS = 10_000
# Manifest keys not shown to clients: local file paths of the training data.
PRIVATE_KEYS = ("data",)


class _RequestError(Exception):
    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status


def public_manifest(manifest: dict[str, Any]) -> dict[str, Any]:
    """The manifest without what a client has no business seeing."""
    return {k: v for k, v in manifest.items() if k not in PRIVATE_KEYS}


def label_request(model: Classifier, body: Any, min_confidence: float = 0.0) -> dict[str, Any]:
    """Answer one /v1/label body; a malformed one raises a 400 or 422 ``_RequestError``."""
    if not isinstance(body, dict):
        raise _RequestError(HTTPStatus.BAD_REQUEST, "body must be a JSON object")
    unknown = set(body) - {"text", "texts", "html", "min_confidence"}
    if unknown:
        raise _RequestError(HTTPStatus.UNPROCESSABLE_ENTITY, f"unknown field(s): {sorted(unknown)}")
    threshold = body.get("min_confidence", min_confidence)
    if not isinstance(threshold, (int, float)) or not 0 <= threshold <= 1:
        raise _RequestError(HTTPStatus.UNPROCESSABLE_ENTITY, "min_confidence must be in [0, 1]")
    if sum(key in body for key in ("text", "texts", "html")) != 1:
        raise _RequestError(
            HTTPStatus.UNPROCESSABLE_ENTITY, "send exactly one of 'text', 'texts' or 'html'"
        )
    if "html" in body:
        if not isinstance(body["html"], str):
            raise _RequestError(HTTPStatus.UNPROCESSABLE_ENTITY, "'html' must be a string")
        try:
            text, segments = model.label_html(body["html"], min_confidence=threshold)
        except WinnowError as exc:
            raise _RequestError(HTTPStatus.UNPROCESSABLE_ENTITY, str(exc)) from None
        return {"text": text, "segments": segments}
    if "text" in body:
        if not isinstance(body["text"], str):
            raise _RequestError(HTTPStatus.UNPROCESSABLE_ENTITY, "'text' must be a string")
        return {"segments": model.label_article(body["text"], min_confidence=threshold)}
    texts = body["texts"]
    if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
        raise _RequestError(HTTPStatus.UNPROCESSABLE_ENTITY, "'texts' must be a list of strings")
    if len(texts) > MAX_TEXTS:
        raise _RequestError(HTTPStatus.UNPROCESSABLE_ENTITY, f"at most {MAX_TEXTS} texts a request")
    return {"segments": model.label_units(texts, min_confidence=threshold)}


def make_handler(model: Classifier, max_body: int = MAX_BODY_BYTES) -> type[BaseHTTPRequestHandler]:
    """A request handler class bound to one loaded model."""
    manifest = public_manifest(model.manifest)

    class Handler(BaseHTTPRequestHandler):
        server_version = "winnow"
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            log.info("%s - %s", self.address_string(), format % args)

        def _send(self, status: HTTPStatus, payload: dict[str, Any]) -> None:
            body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _error(self, status: HTTPStatus, message: str) -> None:
            self._send(status, {"error": {"status": int(status), "message": message}})

        def do_GET(self) -> None:
            if self.path == "/healthz":
                self._send(HTTPStatus.OK, {"status": "ok"})
            elif self.path == "/v1/model":
                self._send(HTTPStatus.OK, manifest)
            else:
                self._error(HTTPStatus.NOT_FOUND, f"no route {self.path}")

        def do_POST(self) -> None:
            if self.path != "/v1/label":
                self._error(HTTPStatus.NOT_FOUND, f"no route {self.path}")
                return
            try:
                length = int(self.headers.get("Content-Length", ""))
            except ValueError:
                self._error(HTTPStatus.LENGTH_REQUIRED, "Content-Length required")
                return
            if length > max_body:
                self.close_connection = True
                self._error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"body over {max_body} bytes")
                return
            try:
                body = json.loads(self.rfile.read(length).decode("utf-8"))
                self._send(HTTPStatus.OK, label_request(model, body))
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                self._error(HTTPStatus.BAD_REQUEST, f"body is not UTF-8 JSON: {exc}")
            except _RequestError as exc:
                self._error(exc.status, str(exc))

        def do_PUT(self) -> None:
            self._error(HTTPStatus.METHOD_NOT_ALLOWED, "use GET or POST")

        do_DELETE = do_PATCH = do_PUT

    return Handler


def make_server(
    model: Classifier, host: str = "127.0.0.1", port: int = 8000, max_body: int = MAX_BODY_BYTES
) -> ThreadingHTTPServer:
    """A threaded server with the model loaded once; ``serve_forever`` runs it."""
    server = ThreadingHTTPServer((host, port), make_handler(model, max_body))
    server.daemon_threads = True
    return server
