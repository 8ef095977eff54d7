"""Simulated freelancers for `make load`; locust runs this file in its own process (never
import it elsewhere: locust monkey-patches the standard library with gevent).

Every request carries a marker unique to its user and request (thrive.bench.crosstalk), in
the profile's occupation or a skill's name: the offline coach opens its answer with the
person's work by name, and the exposure check echoes each skill. An answer with another
request's marker fails its request as "cross-talk: ...".
"""

from __future__ import annotations

import itertools
import json
import os
import time
from typing import Any

import requests
from locust import HttpUser, constant, task

from thrive.bench.crosstalk import marker as marker_for
from thrive.bench.crosstalk import problem as check

# Questions about the person's own work that name no work themselves ("I build ..." would),
# so the answer's opening names the profile's occupation: the request's marker.
QUESTIONS = [
    "Will AI take my clients?",
    "How should I price my work now that AI is cheap?",
    "Which skills should I learn next to stay ahead of AI?",
    "How can I use AI tools in my work without losing quality?",
    "What should I worry about most?",
]
OCCUPATIONS = ["translator", "copywriter", "logo designer", "bookkeeper", "video editor"]
_user_numbers = itertools.count(1)


class Freelancer(HttpUser):
    wait_time = constant(0)  # a closed loop: each user asks again as soon as it is answered

    def on_start(self) -> None:
        self.number = next(_user_numbers)
        self.sent = 0
        token = os.environ.get("THRIVE_API_TOKEN")
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.streams = requests.Session()

    def _next(self) -> tuple[str, str, str]:
        """A marker, an occupation carrying it, and a question, new for each request."""
        self.sent += 1
        marker = marker_for(self.number, self.sent)
        occupation = f"{OCCUPATIONS[self.number % len(OCCUPATIONS)]} {marker}"
        return marker, occupation, QUESTIONS[(self.number + self.sent) % len(QUESTIONS)]

    @task(3)
    def ask(self) -> None:
        marker, occupation, question = self._next()
        body = {"question": question, "profile": {"occupation": occupation}}
        with self.client.post(
            "/v1/ask", json=body, headers=self.headers, name="/v1/ask", catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}: {response.text[:200]}")
                return
            problem = check(response.json()["answer"], f"**Your work: {occupation}.**", marker)
            if problem:
                response.failure(problem)

    @task(1)
    def ask_streamed(self) -> None:
        """The same with "stream": true, timed to the last event (locust's own client would
        stop the clock at the headers)."""
        marker, occupation, question = self._next()
        body: dict[str, Any] = {
            "question": question,
            "profile": {"occupation": occupation},
            "stream": True,
        }
        started = time.perf_counter()
        problem: str | None = None
        size = 0
        try:
            with self.streams.post(
                f"{self.host}/v1/ask", json=body, headers=self.headers, stream=True, timeout=120
            ) as response:
                if response.status_code != 200:
                    problem = f"status {response.status_code}: {response.text[:200]}"
                else:
                    tokens, final = _read_events(response)
                    size = len("".join(tokens))
                    if final is None:
                        problem = "the stream ended without an answer event"
                    elif "".join(tokens).strip() != final["answer"]:
                        problem = "the streamed tokens are not the final answer"
                    else:
                        expected = f"**Your work: {occupation}.**"
                        problem = check(final["answer"], expected, marker)
        except requests.RequestException as err:
            problem = f"{type(err).__name__}: {err}"
        self.environment.events.request.fire(
            request_type="POST",
            name="/v1/ask (stream)",
            response_time=(time.perf_counter() - started) * 1000,
            response_length=size,
            exception=AssertionError(problem) if problem else None,
            context={},
        )

    @task(1)
    def exposure(self) -> None:
        marker, _, _ = self._next()
        skill = f"copywriting {marker}"
        with self.client.post(
            "/v1/exposure",
            json={"skills": [skill]},
            headers=self.headers,
            name="/v1/exposure",
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}: {response.text[:200]}")
                return
            rows = response.json()
            if [row["skill"] for row in rows] != [skill]:
                response.failure(f"cross-talk: asked about {skill!r}, got {rows[:1]!r}")


def _read_events(response: requests.Response) -> tuple[list[str], dict[str, Any] | None]:
    tokens: list[str] = []
    final = None
    event = "message"
    for raw in response.iter_lines():
        line = raw.decode("utf-8")
        if line.startswith("event: "):
            event = line.removeprefix("event: ")
        elif line.startswith("data: "):
            data = json.loads(line.removeprefix("data: "))
            if event == "token":
                tokens.append(data)
            elif event == "answer":
                final = data
    return tokens, final
