"""``meritline analyze-ratings``: the calibration statistics on any ratings export (CSV)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import typer
from rich.table import Table

from meritline.calibration import report, service
from meritline.calibration.schemas import RatingsAnalysis
from meritline.cli.runtime import AS_JSON, console, emit_json, err_console
from meritline.errors import InvalidInput


def analyze_ratings(
    file: Path = typer.Argument(
        ..., help="A CSV file with one row per rating.", metavar="FILE.csv"
    ),
    rating: str = typer.Option(..., "--rating", help="The numeric rating column."),
    id_column: str | None = typer.Option(None, "--id", help="Who was rated."),
    rater: str | None = typer.Option(None, "--rater", help="Who gave the rating."),
    evidence: str | None = typer.Option(
        None, "--evidence", help="A numeric evidence score (e.g. from `meritline score export`)."
    ),
    control: list[str] = typer.Option([], "--control", help="A numeric control; repeatable."),
    group: list[str] = typer.Option(
        [], "--group", help="An attribute to compare groups on (e.g. gender); repeatable."
    ),
    within: str | None = typer.Option(
        None, help="Also compare the groups within each value of this column (a department)."
    ),
    top: float | None = typer.Option(
        None, help="A rating at or above this is 'selected'; default: above the median."
    ),
    guideline: str | None = typer.Option(
        None, help='Expected shares, e.g. "1:0.1,2:0.2,3:0.4,4:0.2,5:0.1".'
    ),
    min_group_size: int = typer.Option(5, min=2, help="Smaller groups are suppressed."),
    alpha: float = typer.Option(0.05, min=0.0001, max=0.5, help="False discovery rate for flags."),
    as_json: bool = AS_JSON,
    html: Path | None = typer.Option(
        None,
        "--html",
        help="Write the committee report to this HTML file (one self-contained page).",
        metavar="OUT.html",
        dir_okay=False,
    ),
    title: str | None = typer.Option(
        None, help="Title of the HTML report; default: 'Ratings calibration report: FILE'."
    ),
) -> None:
    """Where do ratings look wrong? Distribution against a guideline, rater leniency and
    severity, group disparities and ratings the evidence does not support.

    Example: meritline analyze-ratings ratings.csv --rating rating --id employee_id
    --rater manager_id --evidence score --group gender --guideline "1:0.1,2:0.2,3:0.4,4:0.2,5:0.1"
    --html report.html
    """
    if html is not None and as_json:
        raise InvalidInput("--html and --json cannot be used together: choose one.")
    if html is not None:
        _check_writable(html)
    options = service.AnalysisOptions(
        rating=rating,
        id=id_column,
        rater=rater,
        evidence=evidence,
        controls=tuple(control),
        groups=tuple(group),
        within=within,
        top=top,
        guideline=None if guideline is None else service.parse_guideline(guideline),
        min_group_size=min_group_size,
        alpha=alpha,
    )
    result = service.analyze_ratings(_read(file), options)
    if as_json:
        emit_json(result)
        return
    if html is not None:
        page = report.render_html(
            result,
            title=title or f"Ratings calibration report: {file.name}",
            source=file.name,
            options=options,
        )
        _write(html, page)
    _print(result)
    if html is not None:
        console.print(f"Report written to {html}", markup=False, highlight=False, soft_wrap=True)


def _check_writable(path: Path) -> None:
    """Refuse an --html path that cannot be written, before the analysis runs."""
    if path.is_dir():
        raise InvalidInput(f"--html {path} is a directory; give a file name such as report.html.")
    parent = path.parent
    if not parent.is_dir():
        raise InvalidInput(
            f"--html: the directory {str(parent)!r} does not exist; create it first or choose "
            "another path."
        )


def _write(path: Path, page: str) -> None:
    try:
        path.write_text(page, encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"Cannot write --html {path}: {exc.strerror or exc}.") from None


def _read(path: Path) -> pd.DataFrame:
    try:
        # values as written: a group called "01" stays "01"; numbers are converted per column
        return pd.read_csv(path, dtype=str, skipinitialspace=True)
    except FileNotFoundError:
        raise InvalidInput(f"No file {str(path)!r}.") from None
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{path} is not a readable CSV file: {exc}".rstrip(".") + ".") from None


def _print(result: RatingsAnalysis) -> None:
    d = result.distribution
    console.print(
        f"[bold]{result.n} ratings[/]: " + ", ".join(f"{k}: {v}" for k, v in d.observed.items())
    )
    if d.p_value is not None:
        console.print(
            f"Against the guideline: G = {d.g_statistic:.2f}, p = {d.p_value:.3g} ({d.method}), "
            f"KL = {d.kl_divergence:.3f}, JS distance = {d.js_distance:.3f}."
        )
    elif d.expected is not None:
        console.print(d.note)
    if result.raters:
        flagged = [r for r in result.raters.items if r.flag or r.central_tendency]
        share = result.raters.variance_share
        console.print(
            f"Raters: {len(result.raters.items)}; "
            + (f"{share:.0%} of rating variance is due to raters; " if share is not None else "")
            + f"{len(flagged)} flagged."
        )
        if flagged:
            table = Table("rater", "n", "leniency", "95% interval", "q", "flag")
            for r in flagged:
                interval = "" if r.ci_low is None else f"{r.ci_low:+.2f} to {r.ci_high:+.2f}"
                flag = r.flag or ""
                if r.central_tendency:
                    flag = (flag + ", " if flag else "") + "central tendency"
                q = "" if r.q_value is None else f"{r.q_value:.3g}"
                table.add_row(r.rater, str(r.n), f"{r.leniency:+.2f}", interval, q, flag)
            console.print(table)
    if result.groups:
        table = Table(
            "attribute", "group", "n", "gap", "impact ratio", "controlled gap", "q", "flag"
        )
        for g in result.groups:
            if g.suppressed:
                table.add_row(g.attribute, g.group, "[dim]suppressed[/]", "", "", "", "", "")
                continue
            table.add_row(
                g.attribute,
                g.group + (" (reference)" if g.group == g.reference_group else ""),
                str(g.n),
                _num(g.gap),
                ("" if g.impact_ratio is None else f"{g.impact_ratio:.2f}")
                + (" [red]< 4/5[/]" if g.below_four_fifths else ""),
                _num(g.controlled_gap),
                "" if g.q_value is None else f"{g.q_value:.3g}",
                g.flag or "",
            )
        console.print(table)
    mismatched = [i for i in result.individuals if i.flags]
    if result.individuals:
        console.print(f"Ratings the evidence does not support: {len(mismatched)}.")
        for person in mismatched:
            console.print(
                f"  {person.id}: {', '.join(person.flags)} (residual {person.residual:+.1f})"
            )
    for part in result.skipped:
        err_console.print(f"[yellow]skipped {part.part}:[/] {part.reason}")


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:+.2f}" if abs(value) < 10 else f"{value:.1f}"
