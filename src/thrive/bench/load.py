"""The load test of `make load`: simulated freelancers against `thrive serve-api`.

    python -m thrive.bench.load --users 20 --run-time 60 --out evals/report

Everything runs on loopback and stops by itself: a Chroma server (`chroma run`, the
installed chromadb release) holding a fresh index of the guide, the API on the offline
coach, then locust headless (a subprocess: locust monkey-patches the standard library)
first with one user, then with all of them, each for a bounded time. The report puts the
throughput, p50/p95 latency and errors of the many next to the one, from the same run, in
OUT/load.json and OUT/load.md; a request answered for someone else counts as cross-talk.

PostgreSQL is not part of it: the API's routes (ask, exposure, niches) read the guide and
its index and write nothing to storage, so a database would not be exercised.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import secrets
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from thrive.base.errors import ConfigurationError
from thrive.base.files import write_atomic
from thrive.base.settings import load_settings
from thrive.bench.servers import LOOPBACK, api_server, chroma_server

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
MAX_USERS = 100
MAX_RUN_TIME_S = 600
NO_DATABASE = (
    "not exercised: the API's routes write nothing to storage (PostgreSQL or SQLite), so "
    "none is started"
)


@dataclass
class Phase:
    """One locust run: its users, what they sent and how it went."""

    users: int
    run_time_s: int
    requests: int
    failures: int
    cross_talk: int
    throughput_rps: float
    p50_ms: float
    p95_ms: float
    by_route: dict[str, dict[str, float]]
    failure_examples: list[str]


def run_load(
    out_dir: Path,
    *,
    users: int = 20,
    run_time_s: int = 60,
    single_run_time_s: int | None = None,
    chroma: bool = True,
) -> dict[str, Any]:
    """Run the load test and write OUT/load.json and OUT/load.md; returns the report."""
    if not 1 <= users <= MAX_USERS or not 1 <= run_time_s <= MAX_RUN_TIME_S:
        raise ConfigurationError(
            f"A load test is bounded: 1-{MAX_USERS} users for 1-{MAX_RUN_TIME_S} s.",
            fix="Choose --users and --run-time inside those bounds.",
        )
    single_run_time_s = single_run_time_s or run_time_s
    busy_before = os.getloadavg()[0]  # other work on the machine moves every figure
    with tempfile.TemporaryDirectory(prefix="thrive-load-") as tmp:
        work = Path(tmp)
        with _store(work, chroma) as store_env:
            env = _environment(work, store_env)
            _ingest(env, work)
            with api_server(env) as url:
                single = _locust(url, 1, single_run_time_s, work / "single", env)
                many = _locust(url, users, run_time_s, work / "many", env)
    report = {
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "setup": {
            "api": "thrive serve-api, one uvicorn process, on " + LOOPBACK,
            "llm": "extractive",
            "vector_store": (
                "Chroma server (chroma run, the installed chromadb release)"
                if chroma
                else "embedded Chroma"
            ),
            "database": NO_DATABASE,
            "cpus": os.cpu_count(),
            "load_average_1min": {"before": busy_before, "after": os.getloadavg()[0]},
            "python": platform.python_version(),
            "mix": "per user: 3 asks, 1 streamed ask, 1 exposure check",
        },
        "single_user": asdict(single),
        "load": asdict(many),
        "errors": single.failures + many.failures,
        "cross_talk": single.cross_talk + many.cross_talk,
    }
    write_atomic(out_dir / "load.json", json.dumps(report, indent=2) + "\n")
    write_atomic(out_dir / "load.md", render_markdown(report))
    return report


@contextmanager
def _store(work: Path, chroma: bool) -> Iterator[dict[str, str]]:
    if not chroma:
        yield {}
        return
    with chroma_server(work / "chroma") as url:
        yield {"THRIVE_CHROMA_URL": url}


def _environment(work: Path, store: dict[str, str]) -> dict[str, str]:
    settings = load_settings()
    # Only this run's settings: none of the caller's THRIVE_ variables or model keys leak in.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("THRIVE_") and k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL")
    }
    return {
        **env,
        **store,
        "THRIVE_LLM": "extractive",
        "THRIVE_CORPUS_DIR": str(settings.corpus_dir.resolve()),
        "THRIVE_DATA_DIR": str(work / "data"),
        "THRIVE_VECTORSTORE_DIR": str(work / "vectorstore"),  # also where ingest keeps its lock
        # The real thing checks a token on every request, so the load does too.
        "THRIVE_API_TOKEN": secrets.token_urlsafe(16),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }


def _ingest(env: dict[str, str], work: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "thrive.cli", "ingest"],
        env=env,
        cwd=work,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        raise ConfigurationError(
            f"Indexing the guide for the load test failed: {done.stderr[-2000:]}",
            fix="Run `thrive ingest` to see why.",
        )


def _locust(url: str, users: int, run_time_s: int, prefix: Path, env: dict[str, str]) -> Phase:
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "--host",
        url,
        "--users",
        str(users),
        "--spawn-rate",
        str(users),
        "--run-time",
        f"{run_time_s}s",
        "--stop-timeout",
        "30",  # requests under way finish, so none is cut off and counted as an error
        "--csv",
        str(prefix),
        "--only-summary",
        "--exit-code-on-error",
        "0",  # errors are counted in the report, not signalled by the exit code
    ]
    log = prefix.with_suffix(".log")
    with log.open("wb") as out:
        try:
            code = subprocess.run(
                command, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=run_time_s + 120
            ).returncode
        except subprocess.TimeoutExpired as err:
            raise ConfigurationError(
                f"locust did not stop within {run_time_s + 120} s.", fix="See its log."
            ) from err
    stats = Path(f"{prefix}_stats.csv")
    if code != 0 or not stats.exists():
        tail = log.read_text(errors="replace")[-2000:]
        raise ConfigurationError(f"locust failed (exit code {code}): {tail}", fix="See above.")
    return _phase(users, run_time_s, stats, Path(f"{prefix}_failures.csv"))


def _phase(users: int, run_time_s: int, stats: Path, failures: Path) -> Phase:
    rows = list(csv.DictReader(stats.open(newline="")))
    total = next(r for r in rows if r["Name"] == "Aggregated")
    errors = list(csv.DictReader(failures.open(newline=""))) if failures.exists() else []
    return Phase(
        users=users,
        run_time_s=run_time_s,
        requests=int(total["Request Count"]),
        failures=int(total["Failure Count"]),
        cross_talk=sum(int(e["Occurrences"]) for e in errors if "cross-talk" in e["Error"]),
        throughput_rps=round(float(total["Requests/s"]), 2),
        p50_ms=float(total["50%"]),
        p95_ms=float(total["95%"]),
        by_route={
            r["Name"]: {
                "requests": int(r["Request Count"]),
                "p50_ms": float(r["50%"]),
                "p95_ms": float(r["95%"]),
            }
            for r in rows
            if r["Name"] != "Aggregated"
        },
        failure_examples=[f"{e['Name']}: {e['Error']}"[:300] for e in errors[:5]],
    )


def render_markdown(report: dict[str, Any]) -> str:
    setup = report["setup"]
    busy = setup["load_average_1min"]
    lines = [
        "# Load test",
        "",
        f"{report['generated']}, {setup['cpus']} CPUs (load average {busy['before']:.1f} "
        f"before, {busy['after']:.1f} after); {setup['api']}, {setup['llm']} coach, "
        f"{setup['vector_store']}. Mix: {setup['mix']}. Database: {setup['database']}.",
        "",
        "| users | time (s) | requests | throughput (req/s) | p50 (ms) | p95 (ms) | errors "
        "| cross-talk |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for key in ("single_user", "load"):
        p = report[key]
        lines.append(
            f"| {p['users']} | {p['run_time_s']} | {p['requests']} | {p['throughput_rps']:.1f} "
            f"| {p['p50_ms']:.0f} | {p['p95_ms']:.0f} | {p['failures']} | {p['cross_talk']} |"
        )
    examples = report["single_user"]["failure_examples"] + report["load"]["failure_examples"]
    if examples:
        lines += ["", "Failures:", *(f"- {e}" for e in examples)]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m thrive.bench.load", description=__doc__)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--run-time", type=int, default=60, help="seconds, for the many users")
    parser.add_argument(
        "--single-run-time", type=int, default=None, help="seconds for one user (default: same)"
    )
    parser.add_argument("--out", type=Path, default=Path("evals/report"))
    parser.add_argument(
        "--no-chroma-server", action="store_true", help="use an embedded store instead"
    )
    args = parser.parse_args(argv)
    try:
        report = run_load(
            args.out,
            users=args.users,
            run_time_s=args.run_time,
            single_run_time_s=args.single_run_time,
            chroma=not args.no_chroma_server,
        )
    except ConfigurationError as err:
        print(f"Error: {err}", file=sys.stderr)
        return 2
    print(render_markdown(report))
    print(f"Written to {args.out / 'load.json'} and {args.out / 'load.md'}.")
    return 1 if report["errors"] or report["cross_talk"] else 0


if __name__ == "__main__":
    sys.exit(main())
