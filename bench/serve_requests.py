"""`workbench serve` under concurrent clients: requests per second for a history page of 100 and a
search over a generated history, each with N clients at once, beside a trivial FastAPI GET measured
the same way in the same run (the ratio says what the API's own work costs), and the server's RSS
right after the load and once it has been idle for two seconds.

The history page is measured twice: the same page over and over (what a TUI, a dashboard or several
people looking at the newest invocations ask; the server sends it as it built it while the log is
unchanged), and pages 1 to 60 in turn, each read afresh (a client paging through the newest 6,000;
60 pages are more than the server keeps).

Goals (issue 17): the history page >= 0.7x the trivial GET; search >= 150 req/s with 20 clients;
RSS <= 150 MB after the load.

Each server runs in its own process (uvicorn, as `workbench serve` does). The clients are Python
threads with one connection each (httpx), all on this machine; reading a 188 KB page costs such a
client about as much as the server's whole answer, so the "trivial GET of the page's bytes" case
shows the most this client can see of any page. With ``wrk`` on the PATH (a load generator in C:
`apt-get install wrk`), every case is also measured with it, 20 connections on one thread: that is
the server's own speed.

    .venv/bin/python bench/serve_requests.py [--invocations 20000] [--clients 20] [--seconds 5]
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import httpx

SERVER = """
import sys, uvicorn
from workbench.core.service import ToolService
from workbench.settings import Settings
from workbench.server.app import create_app
service = ToolService(Settings(home=sys.argv[1], runtime="process"))
uvicorn.run(create_app(service), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""
TRIVIAL = """
import sys, uvicorn
from pathlib import Path
from fastapi import FastAPI, Response
app = FastAPI()
PAGE = Path(sys.argv[1], "bench-page.json").read_bytes()  # a history page of 100, as the server sent it
@app.get("/ping")
def ping() -> dict:
    return {"ok": True}
@app.get("/page")
def page() -> Response:
    return Response(PAGE, media_type="application/json")
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""


PAGE = "/v1/acme/tool/invocation?limit=100"
PAGES = 60  # distinct pages, ~11 MB: more than the server keeps
PAGE_AT = PAGE + "&continuation_token={}"
WRK_PAGES = """
counter = 0
request = function()
  counter = counter + 1
  return wrk.format(nil, "{path}" .. ((counter % {pages}) * 100))
end
"""
SEARCH = "/v1/acme/tool/invocation/search?query=order&query_against=invocation_status.output&query_against=logs&limit=20"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start(code: str, home: Path, source: str | None = None) -> tuple[subprocess.Popen[bytes], str]:
    """A server process; ``source`` is another checkout's folder to serve that code instead."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": source} if source else None
    # `python -c` looks in its working directory first: run another checkout's code from there
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), str(home), str(port)], env=env, cwd=source)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            httpx.get(url + "/openapi.json", timeout=1)
            return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("the server did not start")


def paths(path: str) -> list[str]:
    """The paths a case asks for in turn: ``path``, or each page of :data:`PAGES` for the
    continuation token's ``{}``."""
    return [path.format(page * 100) for page in range(PAGES)] if "{}" in path else [path]


def rate(url: str, path: str, headers: dict[str, str], clients: int, seconds: float) -> float:
    """Requests per second answered 200 by ``clients`` threads hitting ``path`` for ``seconds``."""
    done = [0] * clients
    stop = time.monotonic() + seconds
    asked = paths(path)

    def client(index: int) -> None:
        turn = itertools.cycle(asked[index % len(asked) :] + asked[: index % len(asked)])
        with httpx.Client(base_url=url, headers=headers, timeout=30) as http:
            while time.monotonic() < stop:
                if http.get(next(turn)).status_code == 200:
                    done[index] += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done) / (time.monotonic() - started)


def wrk_rate(url: str, path: str, headers: dict[str, str], connections: int, seconds: float) -> float:
    """Requests per second answered by ``wrk`` (one thread, ``connections`` connections); NaN if
    any answer was not 2xx."""
    args = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s"]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        if "{}" in path:
            script.write(WRK_PAGES.replace("{path}", path.replace("{}", "")).replace("{pages}", str(PAGES)))
            script.flush()
            args += ["-s", script.name]
        out = subprocess.run([*args, url + path.replace("{}", "0")], capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in out:
        return float("nan")
    found = re.search(r"Requests/sec:\s+([0-9.]+)", out)
    return float(found.group(1)) if found else float("nan")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--invocations", type=int, default=20_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--home", help="a data directory this script generated before (its history is served as it is)")
    parser.add_argument("--before", metavar="CHECKOUT", help="also serve this checkout's code (e.g. a worktree of main) in the same run")
    args = parser.parse_args()

    from workbench.core.service import ToolService
    from workbench.settings import Settings
    from workbench.synthetic import generate_invocations

    home = Path(args.home or tempfile.mkdtemp())
    service = ToolService(Settings(home=home, runtime="process"))
    if not args.home:
        generate_invocations(service, "acme", args.invocations, seed=1)
    service.rebuild_index()
    key = service.create_api_key("acme", "bench", role="viewer")

    api, api_url = start(SERVER, home)
    before, before_url = (None, "")
    if args.before:  # its own copy of the data, its indexes made by that code from the log (it may keep them differently)
        copy = home.with_name(home.name + "-before")
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(home, copy, ignore=lambda folder, names: ["index"] if Path(folder) == home else [])
        before, before_url = start(SERVER, copy, args.before)
    trivial: subprocess.Popen[bytes] | None = None
    try:

        def auth_for(url: str) -> dict[str, str]:
            signed = httpx.post(f"{url}/v1/acme/user/signin_with_api_key", headers={"x-api-key": key.secret, "x-api-key-id": key.id, "x-user-id": "bench"}).json()
            return {"Authorization": f"Bearer {signed['id_token']}"}

        auth = auth_for(api_url)
        while (page := httpx.get(api_url + PAGE, headers=auth, timeout=600)).status_code == 503:
            time.sleep(1)
        (home / "bench-page.json").write_bytes(page.content)
        trivial, trivial_url = start(TRIVIAL, home)
        cases = {
            "history page of 100": (api_url, PAGE, auth),
            f"history pages 1-{PAGES} in turn": (api_url, PAGE_AT, auth),
            "search 'order' (output, logs)": (api_url, SEARCH, auth),
            "trivial FastAPI GET": (trivial_url, "/ping", {}),
            "trivial GET of the page's bytes": (trivial_url, "/page", {}),
        }
        if before:
            before_auth = auth_for(before_url)
            cases["before: history page of 100"] = (before_url, PAGE, before_auth)
            cases[f"before: pages 1-{PAGES} in turn"] = (before_url, PAGE_AT, before_auth)
            cases["before: search 'order'"] = (before_url, SEARCH, before_auth)
        for url, path, headers in cases.values():  # warm up: a catalog caught up, an index opened (or rebuilt: 503 meanwhile)
            while (status := httpx.get(url + path.format(0), headers=headers, timeout=600).status_code) == 503:
                time.sleep(1)
            assert status == 200, (url, path, status)
        clients = {"httpx threads": rate}
        if shutil.which("wrk"):
            clients["wrk"] = wrk_rate
        results: dict[tuple[str, str], list[float]] = {(client, name): [] for client in clients for name in cases}
        for _ in range(args.rounds):  # interleaved, so the machine's noise falls on all alike
            for client, measure in clients.items():
                for name, (url, path, headers) in cases.items():
                    results[client, name].append(measure(url, path, headers, args.clients, args.seconds))
        print(f"serve with {args.clients} clients over {service.count_invocations('acme'):,} invocations ({args.rounds} rounds of {args.seconds:.0f} s)")
        for client in clients:
            baseline = statistics.median(results[client, "trivial FastAPI GET"])
            print(f" clients: {client}")
            for name in cases:
                values = results[client, name]
                median = statistics.median(values)
                print(f"  {name:<32} median {median:7.1f} req/s   ratio to trivial GET {median / baseline:5.2f}   (rounds: {', '.join(f'{v:.0f}' for v in values)})")
        loaded = {proc.pid: rss_mb(proc.pid) for proc in (api, *([before] if before else []))}
        time.sleep(2)  # idle: what the server keeps
        for label, proc in (("server", api), *([("before: server", before)] if before else [])):
            print(f"  {label} RSS right after the load {loaded[proc.pid]:.0f} MB, idle 2 s later {rss_mb(proc.pid):.0f} MB")
        print(f"  trivial FastAPI server RSS {rss_mb(trivial.pid):.0f} MB")
    finally:
        for proc in (api, trivial, before):
            if proc is not None:
                proc.terminate()
                proc.wait(10)


if __name__ == "__main__":
    main()
