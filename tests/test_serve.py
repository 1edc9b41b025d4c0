"""``winnow serve``: the real server on a loopback socket, under load and against bad requests."""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import BinaryIO

import pytest
from winnow import load_model
from winnow.cli import main
from winnow.inference.classifier import Classifier
from winnow.serve import make_server

MAX_BODY = 64 * 1024
Address = tuple[str, int]


@pytest.fixture(scope="module")
def model() -> Classifier:
    return load_model("models/default")


def _running(model: Classifier, timeout: float, max_connections: int = 1000) -> Iterator[Address]:
    srv = make_server(model, "127.0.0.1", 0, MAX_BODY, timeout, max_connections)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield "127.0.0.1", srv.server_port
    finally:
        srv.shutdown()
        thread.join(30)
        srv.server_close()


@pytest.fixture(scope="module")
def server(model: Classifier) -> Iterator[Address]:
    yield from _running(model, timeout=10.0)


@pytest.fixture(scope="module")
def impatient_server(model: Classifier) -> Iterator[Address]:
    """A server that drops a connection after one idle second."""
    yield from _running(model, timeout=1.0)


def request(
    address: Address, method: str, path: str, body: bytes | None = None
) -> tuple[int, dict]:
    conn = http.client.HTTPConnection(*address, timeout=30)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        assert response.getheader("Content-Type", "").startswith("application/json")
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def read_response(stream: BinaryIO) -> tuple[int, dict[str, str], dict]:
    """One HTTP/1.1 response off a raw connection: status, headers (lower-case) and JSON body."""
    status = int(stream.readline().split()[1])
    headers = {}
    while (line := stream.readline().strip()) != b"":
        name, _, value = line.decode().partition(":")
        headers[name.lower()] = value.strip()
    return status, headers, json.loads(stream.read(int(headers["content-length"])))


def exchange(address: Address, data: bytes) -> tuple[int, dict[str, str], dict]:
    """Send raw bytes, read one response; the server may reset the connection after it."""
    with socket.create_connection(address, timeout=30) as sock:
        # The server may answer and close before reading everything: the answer is still there.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(data)
        return read_response(sock.makefile("rb"))


def assert_json_error(got: tuple[int, dict[str, str], dict], status: int) -> None:
    code, headers, payload = got
    assert code == status and headers["content-type"].startswith("application/json")
    assert payload["error"]["status"] == status and payload["error"]["message"]


def test_health_and_model(server: Address) -> None:
    assert request(server, "GET", "/healthz") == (200, {"status": "ok"})
    status, manifest = request(server, "GET", "/v1/model")
    assert status == 200 and manifest["name"] == "default"
    assert manifest["labels"] == ["boilerplate", "event", "opinion"] and "data" not in manifest


def test_model_info_names_no_local_paths(server: Address, model: Classifier) -> None:
    config = model.manifest["config"]
    paths = [
        *model.manifest["data"]["files"],
        *config["data"]["source"],
        *config["data"]["source_weights"],
        *config["data"].get("splitter_only", []),
        *config["evaluation"]["extra_sets"],
        config["output"]["dir"],
    ]
    _, manifest = request(server, "GET", "/v1/model")
    served = json.dumps(manifest)
    assert paths and not [p for p in paths if p in served]
    assert "source" not in manifest["config"]["data"] and "challenge.jsonl_macro_f1" in served


def test_twenty_threads_fifty_requests_each(server: Address, model: Classifier) -> None:
    texts = [
        "Flood waters cut the rail line between Tarn and Ostrava on Tuesday.",
        "The ministry's plan is likely to collapse before the summer.",
        "Sign up for our morning briefing and never miss a story.",
    ]
    expected = model.predict(texts)
    article = "By Jane Doe\nTroops entered the town on Monday. It was a mistake."

    def client(worker: int) -> int:
        good = 0
        for i in range(50):
            if (worker + i) % 2:
                status, body = request(
                    server, "POST", "/v1/label", json.dumps({"texts": texts}).encode()
                )
                good += status == 200 and [s["label"] for s in body["segments"]] == expected
            else:
                status, body = request(
                    server, "POST", "/v1/label", json.dumps({"text": article}).encode()
                )
                good += (
                    status == 200
                    and all(article[s["start"] : s["end"]] == s["text"] for s in body["segments"])
                    and len(body["segments"]) == 3
                )
        return good

    with ThreadPoolExecutor(max_workers=20) as pool:
        assert sum(pool.map(client, range(20))) == 20 * 50


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", "/v1/label", b"x" * (MAX_BODY + 1), 413),
        ("POST", "/v1/label", b"{not json", 400),
        ("POST", "/v1/label", b"[1, 2]", 400),
        ("POST", "/v1/label", b'{"text": "\xff\xfe"}', 400),
        ("POST", "/v1/label", b'{"text": "a \\ud800 b"}', 400),
        ("POST", "/v1/label", b'{"texts": ["ok", "\\udfff"]}', 400),
        ("POST", "/v1/label", b"[" * 60_000, 400),
        ("POST", "/v1/label", b'{"texts": "not a list"}', 422),
        ("POST", "/v1/label", b'{"text": "a", "texts": ["b"]}', 422),
        ("POST", "/v1/label", b'{"txt": "a"}', 422),
        ("POST", "/v1/label", b'{"text": "a", "min_confidence": 2}', 422),
        ("POST", "/v1/nothing", b"{}", 404),
        ("GET", "/nothing", None, 404),
        ("GET", "/v1/label", None, 405),
        ("PUT", "/v1/label", b"{}", 405),
        ("POST", "/healthz", b"{}", 405),
    ],
)
def test_errors_are_json_with_the_right_status(
    server: Address, method: str, path: str, body: bytes | None, status: int
) -> None:
    got, payload = request(server, method, path, body)
    assert got == status and payload["error"]["status"] == status and payload["error"]["message"]


@pytest.mark.parametrize("head", [b"POST /nothing", b"PUT /v1/label", b"GET /v1/label"])
def test_a_request_hidden_in_a_refused_body_is_not_answered(server: Address, head: bytes) -> None:
    smuggled = b"GET /v1/model HTTP/1.1\r\nHost: x\r\n\r\n"
    follow_up = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    data = head + b" HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(smuggled)
    with socket.create_connection(server, timeout=30) as sock:
        sock.sendall(data + smuggled + follow_up)
        stream = sock.makefile("rb")
        first, second = read_response(stream), read_response(stream)
        assert stream.read() == b""
    assert first[0] in (404, 405) and second[0] == 200 and second[2] == {"status": "ok"}


def test_post_without_content_length_is_411(server: Address) -> None:
    assert_json_error(exchange(server, b"POST /v1/label HTTP/1.1\r\nHost: x\r\n\r\n"), 411)


@pytest.mark.parametrize("length", [b"-1", b"12abc", b"1, 2"])
def test_invalid_content_length_is_a_json_400(server: Address, length: bytes) -> None:
    head = b"POST /v1/label HTTP/1.1\r\nHost: x\r\nContent-Length: " + length + b"\r\n\r\n"
    got = exchange(server, head + b'{"text": "a"}' + b"x" * (2 * MAX_BODY))
    assert_json_error(got, 400)
    assert got[1]["connection"] == "close"


def test_both_content_length_and_chunked_is_a_400_that_closes(server: Address) -> None:
    head = b"POST /v1/label HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
    smuggled = b"GET /v1/model HTTP/1.1\r\nHost: x\r\n\r\n"
    data = head + b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled
    with socket.create_connection(server, timeout=30) as sock:
        sock.sendall(data)
        stream = sock.makefile("rb")
        assert_json_error(read_response(stream), 400)
        assert stream.read() == b""


def test_declared_oversized_body_is_refused_before_it_is_sent(server: Address) -> None:
    head = b"POST /v1/label HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\n"
    assert_json_error(exchange(server, head), 413)


def test_oversized_chunked_body_is_refused_while_it_arrives(server: Address) -> None:
    chunk = b"x" * 8192
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(MAX_BODY // 8192 + 2))
    head = b"POST /v1/label HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    # No final chunk: the answer must come while the body is still open.
    got = exchange(server, head + body)
    assert_json_error(got, 413)
    assert got[1]["connection"] == "close"


def test_idle_connections_time_out_and_do_not_block_others(impatient_server: Address) -> None:
    idle = [socket.create_connection(impatient_server, timeout=30) for _ in range(150)]
    for sock in idle[:50]:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHo")  # a request head that never ends
    try:
        assert request(impatient_server, "GET", "/healthz") == (200, {"status": "ok"})
        assert all(sock.recv(1) == b"" for sock in idle)  # each closed by the server
    finally:
        for sock in idle:
            sock.close()
    assert request(impatient_server, "GET", "/healthz") == (200, {"status": "ok"})


def test_a_body_that_stops_coming_is_a_408(impatient_server: Address) -> None:
    head = b"POST /v1/label HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n"
    got = exchange(impatient_server, head + b'{"text": ')
    assert_json_error(got, 408)
    assert got[1]["connection"] == "close"


def test_connections_over_the_cap_get_a_json_503(model: Classifier) -> None:
    for address in _running(model, timeout=10.0, max_connections=3):
        held = [socket.create_connection(address, timeout=30) for _ in range(3)]
        try:
            assert_json_error(exchange(address, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"), 503)
            held[0].sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            assert read_response(held[0].makefile("rb"))[::2] == (200, {"status": "ok"})
        finally:
            for sock in held:
                sock.close()


def test_port_in_use_is_a_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        code = main(["serve", "models/default", "--host", "127.0.0.1", "--port", str(port)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("winnow: error:")
    assert f"127.0.0.1:{port}" in err[0] and "in use" in err[0]


def test_span_sets_source_weights_and_splitter_only_are_served_without_their_paths() -> None:
    from winnow.serve import public_manifest

    secret = "/home/analyst/private/pages/labels.jsonl"
    manifest = {
        "config": {
            "data": {
                "source": ["x"],
                "source_weights": {"/home/analyst/corpus/*.jsonl": 0.3},
                "splitter_only": ["/home/analyst/news/*.jsonl"],
            },
            "evaluation": {"extra_sets": [], "span_sets": [{"labels": secret}]},
        },
        "metrics": {f"{secret}_balanced_accuracy": 0.9, "test_macro_f1": 0.91},
    }
    served = json.dumps(public_manifest(manifest))
    assert "/home/analyst" not in served
    assert public_manifest(manifest)["metrics"] == {
        "labels.jsonl_balanced_accuracy": 0.9,
        "test_macro_f1": 0.91,
    }
