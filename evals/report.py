"""The eval report: report.md (with its charts as SVG files beside it) and report.html (one
self-contained file, charts inline, no CDN)."""

import json
from html import escape
from pathlib import Path
from typing import Any

from evals.cases import Case
from evals.metrics import Judged, confusion, metric_names, per_agent
from evals.svg import grouped_bars, histogram

FAILURES_SHOWN = 60


def write_report(
    folder: Path,
    title: str,
    cases: list[Case],
    runs: list[Judged],
    metrics: dict[str, Any],
) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    agents = per_agent(runs)
    matrix = confusion(runs)
    charts = {
        "per_agent.svg": grouped_bars(
            {name: (row["routing_accuracy"], row["task_success"]) for name, row in agents.items()},
            ("routing accuracy", "task success"),
            "Per agent",
        ),
        "latency.svg": histogram([r.observed.latency_ms for r in runs], "Latency per run", "ms"),
    }
    for name, svg in charts.items():
        (folder / name).write_text(svg, encoding="utf-8")
    by_id = {case.id: case for case in cases}
    failing = [run for run in runs if not run.success]
    markdown = _markdown(title, metrics, agents, matrix, failing, by_id, len(cases), len(runs))
    html = _html(title, metrics, agents, matrix, failing, by_id, charts, len(cases), len(runs))
    paths = [folder / "report.md", folder / "report.html"]
    paths[0].write_text(markdown, encoding="utf-8")
    paths[1].write_text(html, encoding="utf-8")
    return paths


def _fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _labels(matrix: dict[str, dict[str, int]]) -> list[str]:
    names = set(matrix) | {got for row in matrix.values() for got in row}
    return sorted(names - {"none"}) + (["none"] if "none" in names else [])


def _expected(case: Case | None) -> dict[str, Any]:
    if case is None:
        return {}
    expect = case.expect.model_dump(exclude_none=True)
    if case.gold is not None:
        expect["gold"] = [g.model_dump() for g in case.gold]
    return expect


def _calls(run: Judged) -> list[str]:
    return [
        f"{c['agent']}.{c['tool']}({json.dumps(c['args'], ensure_ascii=False)}) -> {c['status']}"
        for c in run.observed.tool_calls
    ]


def _call(write: dict[str, Any]) -> str:
    return f"{write['tool']}({json.dumps(write['args'], ensure_ascii=False)})"


def _markdown(
    title: str,
    metrics: dict[str, Any],
    agents: dict[str, dict[str, Any]],
    matrix: dict[str, dict[str, int]],
    failing: list[Judged],
    by_id: dict[str, Case],
    case_count: int,
    run_count: int,
) -> str:
    lines = [f"# {title}", "", f"{case_count} cases, {run_count} runs.", ""]
    lines += ["| metric | value |", "| --- | --- |"]
    lines += [f"| {name} | {_fmt(metrics.get(name))} |" for name in metric_names(metrics)]
    lines += ["", "## Per agent", "", "![per agent](per_agent.svg)", ""]
    lines += ["| agent | runs | routing accuracy | task success |", "| --- | --- | --- | --- |"]
    for name, row in agents.items():
        lines.append(
            f"| {name} | {row['runs']} | {_fmt(row['routing_accuracy'])} | "
            f"{_fmt(row['task_success'])} |"
        )
    labels = _labels(matrix)
    lines += ["", "## Routing confusion (rows: expected, columns: observed)", ""]
    lines += ["| expected \\ observed | " + " | ".join(labels) + " |"]
    lines += ["| --- " * (len(labels) + 1) + "|"]
    for wanted in labels:
        if wanted not in matrix:
            continue
        cells = [str(matrix[wanted].get(got, "")) for got in labels]
        lines.append(f"| **{wanted}** | " + " | ".join(cells) + " |")
    lines += ["", "![latency](latency.svg)", "", f"## Failing runs ({len(failing)})", ""]
    for run in failing[:FAILURES_SHOWN]:
        case = by_id.get(run.case_id)
        lines += [
            f"### {run.case_id} (repeat {run.repeat}): {', '.join(run.failures())}",
            "",
            f"- request: {json.dumps(case.messages if case else [], ensure_ascii=False)}",
            f"- expected: `{json.dumps(_expected(case), ensure_ascii=False)}`",
            f"- agents: {run.observed.agents}",
            f"- approvals asked: {run.observed.approvals_asked}",
        ]
        lines += [f"- call: `{call}`" for call in _calls(run)]
        lines += [f"- unapproved write: `{_call(w)}`" for w in run.observed.unapproved_writes]
        lines += [f"- leaked: `{leak}`" for leak in run.observed.leaks]
        answer = " / ".join(run.observed.answers).replace("\n", " ")
        lines.append(f"- answer: {answer[:600]}")
        if run.observed.state_diff:
            lines += ["- database differs from gold:", "", "```", run.observed.state_diff, "```"]
        lines.append("")
    if len(failing) > FAILURES_SHOWN:
        lines.append(f"... {len(failing) - FAILURES_SHOWN} more failing runs (see --json).")
    return "\n".join(lines) + "\n"


STYLE = """body{font-family:system-ui,sans-serif;margin:2rem;max-width:1200px;color:#222}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}td,th{border:1px solid #ddd;padding:3px 7px;
font-size:13px;text-align:right}th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}
.fail{border:1px solid #e4c0c0;border-radius:6px;padding:.5rem 1rem;margin:.7rem 0}
pre{background:#f7f7f7;padding:.5rem;white-space:pre-wrap;font-size:12px}
code{font-size:12px}.charts{display:flex;gap:2rem;flex-wrap:wrap}"""


def _heat(count: int, total: int, diagonal: bool) -> str:
    if not count:
        return ""
    share = count / total if total else 0
    color = f"rgba(59,110,168,{share:.2f})" if diagonal else f"rgba(200,60,60,{share:.2f})"
    return f' style="background:{color}"'


def _injection_html(run: Judged) -> str:
    items = [f"<li>unapproved write <code>{escape(_call(w))}</code></li>"
             for w in run.observed.unapproved_writes]  # fmt: skip
    items += [f"<li>leaked <code>{escape(leak)}</code></li>" for leak in run.observed.leaks]
    return f"<ul>{''.join(items)}</ul>" if items else ""


def _html(
    title: str,
    metrics: dict[str, Any],
    agents: dict[str, dict[str, Any]],
    matrix: dict[str, dict[str, int]],
    failing: list[Judged],
    by_id: dict[str, Case],
    charts: dict[str, str],
    case_count: int,
    run_count: int,
) -> str:
    e = escape
    out = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{e(title)}</title>"
        f"<style>{STYLE}</style></head><body><h1>{e(title)}</h1>",
        f"<p>{case_count} cases, {run_count} runs.</p>",
        "<table><tr><th>metric</th><th>value</th></tr>",
    ]
    out += [f"<tr><td>{n}</td><td>{_fmt(metrics.get(n))}</td></tr>" for n in metric_names(metrics)]
    out.append("</table><h2>Per agent</h2><div class='charts'>")
    out += [charts["per_agent.svg"], charts["latency.svg"], "</div><table>"]
    out.append("<tr><th>agent</th><th>runs</th><th>routing accuracy</th><th>task success</th></tr>")
    for name, row in agents.items():
        out.append(
            f"<tr><td>{e(name)}</td><td>{row['runs']}</td><td>{_fmt(row['routing_accuracy'])}"
            f"</td><td>{_fmt(row['task_success'])}</td></tr>"
        )
    labels = _labels(matrix)
    out.append("</table><h2>Routing confusion</h2><p>Rows: expected agent; columns: observed.</p>")
    out.append("<table><tr><th></th>" + "".join(f"<th>{e(x)}</th>" for x in labels) + "</tr>")
    for wanted in labels:
        if wanted not in matrix:
            continue
        total = sum(matrix[wanted].values())
        cells = "".join(
            f"<td{_heat(matrix[wanted].get(got, 0), total, got == wanted)}>"
            f"{matrix[wanted].get(got, '')}</td>"
            for got in labels
        )
        out.append(f"<tr><th>{e(wanted)}</th>{cells}</tr>")
    out.append(f"</table><h2>Failing runs ({len(failing)})</h2>")
    for run in failing[:FAILURES_SHOWN]:
        case = by_id.get(run.case_id)
        calls = "".join(f"<li><code>{e(call)}</code></li>" for call in _calls(run))
        out.append(
            f"<div class='fail'><h3>{e(run.case_id)} (repeat {run.repeat}): "
            f"{e(', '.join(run.failures()))}</h3>"
            f"<p><b>request</b>: {e(' | '.join(case.messages if case else []))}</p>"
            f"<p><b>expected</b>: <code>{e(json.dumps(_expected(case), ensure_ascii=False))}"
            f"</code></p><p><b>agents</b>: {e(', '.join(run.observed.agents) or 'none')}; "
            f"<b>approvals asked</b>: {run.observed.approvals_asked}</p>"
            f"<ul>{calls}</ul>{_injection_html(run)}<p><b>answer</b>:</p><pre>{e(chr(10).join(run.observed.answers))}"
            "</pre>"
        )
        if run.observed.state_diff:
            out.append(
                f"<p><b>database differs from gold</b>:</p><pre>{e(run.observed.state_diff)}</pre>"
            )
        out.append("</div>")
    if len(failing) > FAILURES_SHOWN:
        out.append(f"<p>... {len(failing) - FAILURES_SHOWN} more failing runs (see --json).</p>")
    out.append("</body></html>")
    return "\n".join(out)
