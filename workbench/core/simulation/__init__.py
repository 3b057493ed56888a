"""Conversation simulation: context graphs whose states name tools in tool call specs, scenario
files that script a conversation's tool calls turn by turn, and the interaction log an agent
would see at each turn under each spec's ``result_persistence``. Scripted, reproducible, offline:
no language model is involved.

    graph       the context graph's states and tool call specs (the spec's shapes)
    scenario    scenario files: turns, the parameters an agent would generate, expectations
    report      what a graph check and a simulation run return (faces read these)
    files       reading graph and scenario files (JSON or YAML)
    checking    a graph's tool call specs against an organization's tools and versions
    conversation  the interaction log, turn by turn, by persistence mode
    expectations  a turn's expectations against what happened
    simulator   runs a scenario: resolve, invoke (recorded with a conversation source), report
"""
