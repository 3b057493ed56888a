"""What conversation simulation costs on top of the invocations it makes: one turn of a scenario
(plan, invoke and record with its source, persistence, the interaction log, expectations) next to
invoking the same version with the same input directly, in the same run, on the process runtime.

    .venv/bin/python bench/simulation.py [--turns 20] [--samples 15]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from measure import timed  # noqa: E402

from workbench.core.service import ToolService  # noqa: E402
from workbench.core.simulation.scenario import SimulationRequest  # noqa: E402
from workbench.demo import seed_demo  # noqa: E402
from workbench.settings import Settings  # noqa: E402

ORG = "bench"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=20, help="Turns per simulated conversation.")
    parser.add_argument("--samples", type=int, default=15, help="Conversations (and as many batches of direct invocations) timed.")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-simulation-"))
    service = ToolService(Settings(home=root / "home", tools_repo=root / "repo", runtime="process"))
    seed_demo(service, ORG)
    graph = service.read_graph_file(root / "repo" / "simulations" / "support_agent.graph.yaml")
    turns = [{"state": "check_order", "tool": "order_status", "parameters": {"order_id": "A-1001"}, "expect": {"succeeded": True, "persistence": "persisted"}}] * args.turns
    request = SimulationRequest.model_validate({"scenario": {"name": "bench", "turns": turns}, "graph": graph})
    tool_id = service.find_tool(ORG, "order_status").id
    body = {"inputs": [{"input_parameters": {"order_id": "A-1001"}, "invocation_mode": "conversation-simulation"}]}
    service.simulate(ORG, request)  # warm the worker

    def direct() -> None:
        for _ in range(args.turns):
            service.invoke_outcomes(ORG, tool_id, "1.0.0", body)

    simulated, plain = [], []
    for _ in range(args.samples):  # interleaved, so both see the same machine
        simulated.append(timed(lambda: service.simulate(ORG, request)) / args.turns)
        plain.append(timed(direct) / args.turns)
    sim_median, plain_median = statistics.median(simulated), statistics.median(plain)
    print(f"{args.turns} turns per conversation, {args.samples} conversations, process runtime")
    print(f"  simulated turn (median)          {sim_median:8.2f} ms")
    print(f"  direct invoke of the same input  {plain_median:8.2f} ms")
    print(f"  ratio simulated / direct         {sim_median / plain_median:8.2f}x")


if __name__ == "__main__":
    main()
