"""``winnow serve``: correct answers under concurrent load on loopback, and clean errors."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from winnow import load_model
from winnow.serve import make_server


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, int]]:
    model = load_model("models/default")
    srv = make_server(model, "127.0.0.1", 0, max_body=64 * 1024)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield "127.0.0.1", srv.server_port
    srv.shutdown()
    srv.server_close()


def request(
    address: tuple[str, int], method: str, path: str, body: bytes | None = None
) -> tuple[int, dict]:
    conn = http.client.HTTPConnection(*address, timeout=30)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def test_health_and_model(server: tuple[str, int]) -> None:
    assert request(server, "GET", "/healthz") == (200, {"status": "ok"})
    status, manifest = request(server, "GET", "/v1/model")
    assert status == 200 and manifest["name"] == "default"
    assert manifest["labels"] == ["boilerplate", "event", "opinion"] and "data" not in manifest


def test_twenty_threads_fifty_requests_each(server: tuple[str, int]) -> None:
    model = load_model("models/default")
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
        ("POST", "/v1/label", b"x" * (64 * 1024 + 1), 413),
        ("POST", "/v1/label", b"{not json", 400),
        ("POST", "/v1/label", b"[1, 2]", 400),
        ("POST", "/v1/label", b'{"texts": "not a list"}', 422),
        ("POST", "/v1/label", b'{"text": "a", "texts": ["b"]}', 422),
        ("POST", "/v1/label", b'{"txt": "a"}', 422),
        ("POST", "/v1/nothing", b"{}", 404),
        ("GET", "/nothing", None, 404),
        ("PUT", "/v1/label", b"{}", 405),
    ],
)
def test_errors_are_json_with_the_right_status(
    server: tuple[str, int], method: str, path: str, body: bytes | None, status: int
) -> None:
    got, payload = request(server, method, path, body)
    assert got == status and payload["error"]["status"] == status and payload["error"]["message"]
