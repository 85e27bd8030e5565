"""OpenAI-compatible chat-completions endpoints (a vLLM server on the cluster, or any other).

Requests of a batch go out concurrently, so a batching server such as vLLM sees a batch;
temperature, max_tokens, top_p and seed are sent with every request.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import httpx

from aifnb_widgets.backends.base import BackendError, GenerationSettings


class OpenAIBackend:
    def __init__(
        self,
        base_url: str,
        model: str,
        settings: GenerationSettings | None = None,
        api_key: str | None = None,
        concurrency: int = 16,
    ):
        self.settings = settings or GenerationSettings()
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.model_id = f"{self.base_url}#{model}"
        self.revision: str | None = None
        self.concurrency = concurrency
        key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY", "")
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._client = httpx.Client(base_url=self.base_url, headers=headers, timeout=self.settings.timeout_s)

    def close(self) -> None:
        self._client.close()

    def _payload(self, prompt: str) -> dict:
        payload = {
            "model": self.model,
            "messages": [{"role": "user", "content": prompt}],
            "max_tokens": self.settings.max_new_tokens,
            "temperature": self.settings.temperature if self.settings.do_sample else 0.0,
            "seed": self.settings.seed,
        }
        if self.settings.do_sample:
            payload["top_p"] = self.settings.top_p
        return payload

    def _one(self, prompt: str) -> str:
        last: Exception | None = None
        for _ in range(self.settings.retries + 1):
            try:
                response = self._client.post("/chat/completions", json=self._payload(prompt))
            except httpx.TimeoutException as exc:
                last = exc
                continue
            except httpx.TransportError as exc:
                raise BackendError(f"endpoint {self.base_url} is unreachable: {exc}") from None
            if response.status_code >= 500 or response.status_code == 429:
                last = RuntimeError(f"HTTP {response.status_code}")
                continue
            if response.status_code != 200:
                raise BackendError(
                    f"endpoint {self.base_url} refused the request (HTTP {response.status_code}): {response.text[:200]}"
                )
            try:
                body = response.json()
                self.revision = body.get("system_fingerprint") or self.revision
                return body["choices"][0]["message"]["content"] or ""
            except (ValueError, KeyError, IndexError, TypeError):
                raise BackendError(f"endpoint {self.base_url} sent a reply that is not a chat completion") from None
        if isinstance(last, httpx.TimeoutException):
            raise BackendError(
                f"endpoint {self.base_url} timed out after {self.settings.timeout_s:g} s ({self.settings.retries + 1} attempt(s))"
            )
        raise BackendError(f"endpoint {self.base_url} failed after {self.settings.retries + 1} attempt(s): {last}")

    def generate(self, prompts: list[str]) -> list[str]:
        if len(prompts) <= 1:
            return [self._one(p) for p in prompts]
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(prompts))) as pool:
            return list(pool.map(self._one, prompts))
