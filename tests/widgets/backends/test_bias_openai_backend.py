"""Against a small OpenAI-style chat-completions server on 127.0.0.1, started by the test."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from aifnb_widgets.backends.base import BackendError, GenerationSettings
from aifnb_widgets.backends.factory import make_backend
from aifnb_widgets.backends.openai_compat import OpenAIBackend


class ChatServer:
    def __init__(self, delay_s: float = 0.0, status: int = 200):
        self.requests: list[dict] = []
        self.delay_s, self.status = delay_s, status
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append({"path": self.path, "auth": self.headers.get("Authorization"), **body})
                time.sleep(server.delay_s)
                prompt = body["messages"][-1]["content"]
                reply = {
                    "id": "x",
                    "object": "chat.completion",
                    "model": body["model"],
                    "system_fingerprint": "fp-test",
                    "choices": [
                        {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": f"No. ({prompt})"}}
                    ],
                }
                data = json.dumps(reply).encode()
                self.send_response(server.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_answers_come_back_in_order_with_parameters_passed_on():
    """Answers come back in order with parameters passed on."""
    settings = GenerationSettings(max_new_tokens=17, temperature=0.7, do_sample=True, top_p=0.9, seed=3)
    with ChatServer() as server:
        backend = make_backend(f"{server.url}#tiny-llm", settings)
        answers = backend.generate([f"q{i}" for i in range(6)])
        backend.close()
    assert answers == [f"No. (q{i})" for i in range(6)]
    first = server.requests[0]
    assert first["path"] == "/v1/chat/completions" and first["model"] == "tiny-llm"
    assert (first["max_tokens"], first["temperature"], first["top_p"], first["seed"]) == (17, 0.7, 0.9, 3)
    assert backend.revision == "fp-test" and backend.model_id == f"{server.url}#tiny-llm"


def test_greedy_sends_temperature_zero():
    """Greedy sends temperature zero."""
    with ChatServer() as server:
        OpenAIBackend(server.url, "m", GenerationSettings(temperature=1.0)).generate(["q"])
    assert server.requests[0]["temperature"] == 0.0 and "top_p" not in server.requests[0]


def test_api_key_is_sent_as_bearer_token():
    """API key is sent as bearer token."""
    with ChatServer() as server:
        OpenAIBackend(server.url, "m", api_key="sk-test").generate(["q"])
    assert server.requests[0]["auth"] == "Bearer sk-test"


def test_timeout_is_a_clear_error():
    """Timeout is a clear error."""
    with ChatServer(delay_s=0.6) as server:
        backend = OpenAIBackend(server.url, "m", GenerationSettings(timeout_s=0.2, retries=1))
        with pytest.raises(BackendError, match=r"timed out after 0.2 s \(2 attempt"):
            backend.generate(["q"])
    assert len(server.requests) == 2


def test_unreachable_endpoint_is_a_clear_error():
    """Unreachable endpoint is a clear error."""
    with ChatServer() as server:
        url = server.url
    with pytest.raises(BackendError, match="unreachable"):
        OpenAIBackend(url, "m", GenerationSettings(timeout_s=1)).generate(["q"])


def test_client_error_is_reported_with_status():
    """Client error is reported with status."""
    with ChatServer(status=404) as server, pytest.raises(BackendError, match="HTTP 404"):
        OpenAIBackend(server.url, "m").generate(["q"])


def test_a_scenario_runs_against_the_endpoint_and_records_everything(tmp_path):
    """A scenario runs against the endpoint and records everything."""
    from aifnb_widgets.bias.records import read_run_records
    from aifnb_widgets.bias.results import assess_run_dirs
    from aifnb_widgets.bias.runner import run_scenario
    from aifnb_widgets.bias.scenario import default_scenario

    scenario = default_scenario(languages=["en"], concerns=["ageism"], n_templates=2)
    with ChatServer() as server:
        run_scenario(scenario, [f"{server.url}#tiny-llm"], tmp_path)
    records = read_run_records(tmp_path)
    assert len(records) == len(server.requests) > 0
    assert all(r["answer"].startswith("No. (") and r["revision"] == "fp-test" for r in records)
    assert {req["max_tokens"] for req in server.requests} == {scenario.tokens}
    assert f"{server.url}#tiny-llm" in set(assess_run_dirs([tmp_path], n_boot=50).tests["model"])
