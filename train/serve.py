"""``winnow serve``: the model's HTTP API, a Starlette app on uvicorn.

POST /v1/label  {"text": "<article>"} or {"texts": ["unit", ...]}  -> {"segments": [...]}
POST /v1/label  {"html": "<page markup>"}  -> {"text": "<extracted text>", "segments": [...]}
GET  /healthz   -> {"status": "ok"}
GET  /v1/model  -> the manifest (name, version, labels, config, metrics, ...) without local paths

Every error status is answered with JSON ``{"error": {"status": N, "message": "..."}}``.
"""

from __future__ import annotations

import copy
import errno
import functools
import json
import logging
import os
import posixpath
import socket
from collections.abc import Mapping
from typing import Any

import anyio
import anyio.to_thread
import h11
import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from .errors import ServeError, WinnowError
from .inference.classifier import Classifier

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 5 * 1024 * 1024
MAX_TEXTS = 10_000
# Seconds a connection may take to send a request head or a body, or sit idle between requests.
TIMEOUT_S = 10.0
# Open connections beyond this get a 503 at once; queued connections wait in the listen backlog.
MAX_CONNECTIONS = 1000
BACKLOG = 2048
# Manifest fields that name local files or hosts: the training data, its weights and its
# splitter-only files, extra and span-labelled evaluation sets, the output folder and the cluster
# address. Clients see the model, not the machine it was built on.
PRIVATE_FIELDS = (
    ("data",),
    ("config", "data", "source"),
    ("config", "data", "source_weights"),
    ("config", "data", "splitter_only"),
    ("config", "evaluation", "extra_sets"),
    ("config", "evaluation", "span_sets"),
    ("config", "output", "dir"),
    ("config", "parallel", "address"),
)


class _RequestError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def public_manifest(manifest: dict[str, Any]) -> dict[str, Any]:
    """The manifest without local paths: private fields dropped, extra-set and span-set metrics
    by file name."""
    public = copy.deepcopy(manifest)
    for *parents, key in PRIVATE_FIELDS:
        block = public
        for parent in parents:
            block = block.get(parent) if isinstance(block, dict) else None
        if isinstance(block, dict):
            block.pop(key, None)
    evaluation = manifest.get("config", {}).get("evaluation", {})
    span_sets = [s.get("labels") for s in evaluation.get("span_sets") or [] if isinstance(s, dict)]
    named_sets = [p for p in [*(evaluation.get("extra_sets") or []), *span_sets] if p]
    metrics = public.get("metrics")
    if isinstance(metrics, dict):
        for path in named_sets:
            for name in [m for m in metrics if m.startswith(f"{path}_")]:
                metrics[posixpath.basename(path) + name[len(path) :]] = metrics.pop(name)
    return public


def _check_unicode(text: str) -> None:
    """Refuse lone surrogates (``"\\ud800"`` is valid JSON but not text) with a 400."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise _RequestError(400, f"text holds a lone surrogate at {exc.start}") from None


def label_request(model: Classifier, body: Any, min_confidence: float = 0.0) -> dict[str, Any]:
    """Answer one /v1/label body; a malformed one raises a 400 or 422 ``_RequestError``."""
    if not isinstance(body, dict):
        raise _RequestError(400, "body must be a JSON object")
    unknown = set(body) - {"text", "texts", "html", "min_confidence"}
    if unknown:
        raise _RequestError(422, f"unknown field(s): {sorted(unknown)}")
    threshold = body.get("min_confidence", min_confidence)
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)):
        raise _RequestError(422, "min_confidence must be a number in [0, 1]")
    if not 0 <= threshold <= 1:
        raise _RequestError(422, "min_confidence must be in [0, 1]")
    if sum(key in body for key in ("text", "texts", "html")) != 1:
        raise _RequestError(422, "send exactly one of 'text', 'texts' or 'html'")
    if "html" in body:
        if not isinstance(body["html"], str):
            raise _RequestError(422, "'html' must be a string")
        _check_unicode(body["html"])
        try:
            text, segments = model.label_html(body["html"], min_confidence=threshold)
        except WinnowError as exc:
            raise _RequestError(422, str(exc)) from None
        return {"text": text, "segments": segments}
    if "text" in body:
        if not isinstance(body["text"], str):
            raise _RequestError(422, "'text' must be a string")
        _check_unicode(body["text"])
        return {"segments": model.label_article(body["text"], min_confidence=threshold)}
    texts = body["texts"]
    if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
        raise _RequestError(422, "'texts' must be a list of strings")
    if len(texts) > MAX_TEXTS:
        raise _RequestError(422, f"at most {MAX_TEXTS} texts a request")
    for text in texts:
        _check_unicode(text)
    return {"segments": model.label_units(texts, min_confidence=threshold)}


async def read_body(request: Request, max_body: int) -> bytes:
    """The request body, refused with a 413 as soon as it is known to exceed ``max_body``.

    Written here because Starlette's body-limit middleware answers 413 in plain text.
    """
    declared = request.headers.get("content-length", "0")
    if not declared.isdigit():  # h11 refuses these first; kept so the check stands on its own
        raise _RequestError(400, f"invalid Content-Length {declared!r}")
    if int(declared) > max_body:
        raise _RequestError(413, f"body over {max_body} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_body:
            raise _RequestError(413, f"body over {max_body} bytes")
    return bytes(body)


def label_body(model: Classifier, raw: bytes) -> bytes:
    """Parse, label and encode one /v1/label body; CPU-bound, so it runs in a worker thread."""
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _RequestError(400, f"body is not UTF-8 JSON: {exc}") from None
    except RecursionError:
        raise _RequestError(400, "body is nested too deeply") from None
    return _encode(label_request(model, body))


def _encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


def error_response(
    status: int, message: str, headers: Mapping[str, str] | None = None, close: bool = False
) -> Response:
    """The JSON error answer; 408 and 413 close the connection, as the body was left unread."""
    body = _encode({"error": {"status": status, "message": message}})
    response = Response(body, status, headers, media_type="application/json")
    if close or status in (408, 413):
        response.headers["Connection"] = "close"
    return response


class AmbiguousLengthGuard:
    """Refuse, and close, a request with both Content-Length and Transfer-Encoding (RFC 9112 6.3).

    h11 reads such a body by Transfer-Encoding; a proxy in front might read it by Content-Length,
    and the difference is how a request is smuggled past it.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        names = {name for name, _ in scope.get("headers", [])}
        if scope["type"] == "http" and {b"content-length", b"transfer-encoding"} <= names:
            message = "send Content-Length or Transfer-Encoding, not both"
            await error_response(400, message, close=True)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def build_app(
    model: Classifier,
    max_body: int = MAX_BODY_BYTES,
    timeout: float = TIMEOUT_S,
    threads: int | None = None,
) -> Starlette:
    """The ASGI app: routes, limits and JSON errors, with predictions on ``threads`` threads."""
    manifest = _encode(public_manifest(model.manifest))
    limiter = anyio.CapacityLimiter(threads or os.cpu_count() or 1)

    async def health(request: Request) -> Response:
        return Response(_encode({"status": "ok"}), media_type="application/json")

    async def model_info(request: Request) -> Response:
        return Response(manifest, media_type="application/json")

    async def label(request: Request) -> Response:
        headers = request.headers
        if "content-length" not in headers and "transfer-encoding" not in headers:
            return error_response(411, "Content-Length required")
        try:
            with anyio.fail_after(timeout):
                raw = await read_body(request, max_body)
            answer = await anyio.to_thread.run_sync(label_body, model, raw, limiter=limiter)
        except TimeoutError:
            return error_response(408, f"body not received within {timeout:g} s")
        except _RequestError as exc:
            return error_response(exc.status, str(exc))
        return Response(answer, media_type="application/json")

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        message = exc.detail
        if exc.status_code == 404:
            message = f"no route {request.url.path}"
        elif exc.status_code == 405:
            message = f"{request.method} not allowed on {request.url.path}"
        return error_response(exc.status_code, message, exc.headers)

    async def server_error(request: Request, exc: Exception) -> Response:
        log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
        return error_response(500, "internal error")

    return Starlette(
        routes=[
            Route("/healthz", health, methods=["GET"]),
            Route("/v1/model", model_info, methods=["GET"]),
            Route("/v1/label", label, methods=["POST"]),
        ],
        middleware=[Middleware(AmbiguousLengthGuard)],
        exception_handlers={HTTPException: http_error, Exception: server_error},
    )


def _raw_error(status: int, reason: bytes, message: str) -> list[h11.Event]:
    body = _encode({"error": {"status": status, "message": message}})
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    return [h11.Response(status_code=status, headers=headers, reason=reason), h11.Data(data=body)]


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with JSON protocol errors, a connection cap and a request-head deadline.

    uvicorn only times out idle connections after a response; a client that connects and sends
    nothing, or trickles a request head, would hold its connection for ever.
    """

    def __init__(
        self,
        *args: Any,
        max_connections: int = MAX_CONNECTIONS,
        head_timeout: float = TIMEOUT_S,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.max_connections = max_connections
        self.head_timeout = head_timeout
        self._head_deadline: Any = None

    def connection_made(self, transport: Any) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            self._send_error(503, b"Service Unavailable", "too many open connections")
            return
        self._arm_head_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_deadline()
        super().connection_lost(exc)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm_head_deadline()

    def send_400_response(self, msg: str) -> None:
        self._send_error(400, b"Bad Request", "malformed HTTP request (request line or headers)")

    def _send_error(self, status: int, reason: bytes, message: str) -> None:
        try:
            for event in [*_raw_error(status, reason, message), h11.EndOfMessage()]:
                self.transport.write(self.conn.send(event))
        except h11.LocalProtocolError:
            pass  # a response had already started: all that is left is to close
        self.transport.close()

    def _arm_head_deadline(self) -> None:
        self._disarm_head_deadline()
        self._head_deadline = self.loop.call_later(self.head_timeout, self._on_head_deadline)

    def _disarm_head_deadline(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _on_head_deadline(self) -> None:
        # Only a connection still waiting for a whole request head is cut; a request being
        # answered, or a body being read (bounded by the app's own timeout), is left alone.
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()


def bind_socket(host: str, port: int, backlog: int = BACKLOG) -> socket.socket:
    """A listening TCP socket; a busy or unknown address is a one-line ``ServeError``."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        return socket.create_server((host, port), family=family, backlog=backlog)
    except socket.gaierror as exc:
        raise ServeError(f"cannot resolve host {host!r}: {exc.strerror}") from None
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise ServeError(f"{host}:{port} is already in use; pick another --port") from None
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror}") from None


class ModelServer:
    """A uvicorn server on an already bound socket; ``serve_forever`` runs it until ``shutdown``."""

    def __init__(
        self,
        app: Starlette,
        sock: socket.socket,
        timeout: float = TIMEOUT_S,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        self.socket = sock
        config = uvicorn.Config(
            app,
            http=functools.partial(  # type: ignore[arg-type]
                GuardedH11Protocol, max_connections=max_connections, head_timeout=timeout
            ),
            lifespan="off",
            log_config=None,
            access_log=False,
            server_header=False,
            backlog=BACKLOG,
            timeout_keep_alive=timeout,  # type: ignore[arg-type]
            timeout_graceful_shutdown=int(timeout),
        )
        self._server = uvicorn.Server(config)

    @property
    def server_port(self) -> int:
        return int(self.socket.getsockname()[1])

    def serve_forever(self) -> None:
        self._server.run(sockets=[self.socket])

    def shutdown(self) -> None:
        """Ask the server to stop; ``serve_forever`` returns once open requests are answered."""
        self._server.should_exit = True

    def server_close(self) -> None:
        self.socket.close()


def make_server(
    model: Classifier,
    host: str = "127.0.0.1",
    port: int = 8000,
    max_body: int = MAX_BODY_BYTES,
    timeout: float = TIMEOUT_S,
    max_connections: int = MAX_CONNECTIONS,
) -> ModelServer:
    """The model's HTTP API bound to ``host:port`` (0 picks a free port); ``serve_forever`` runs it."""
    app = build_app(model, max_body=max_body, timeout=timeout)
    return ModelServer(app, bind_socket(host, port), timeout, max_connections)
