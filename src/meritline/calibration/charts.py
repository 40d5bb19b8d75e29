"""Chart geometry for the committee report: numbers in, positions and labels out.

Pure and free of markup: the template (``templates/ratings_sections.html.j2``) draws these as
inline SVG, so every label is escaped there and nothing is fetched at view time. Two shapes:

* :class:`BarChart`, the rating distribution: observed and guideline shares side by side;
* :class:`DotPlot`, one row per rater or group and one or more panels, each with its own axis,
  reference lines and marks (a point, and its interval when there is one).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

#: The real minus sign, for numbers people read.
MINUS = "\u2212"
#: Font size of chart text, in SVG units (the charts scale with the page).
FONT = 12
#: Height of one row of a dot plot.
ROW = 24


def signed(value: float, digits: int = 2) -> str:
    """``+0.42``, ``0.00``, ``-0.42`` (with a real minus sign): a gap people read."""
    text = f"{abs(value):.{digits}f}"
    if float(text) == 0:
        return text
    return ("+" if value > 0 else MINUS) + text


def plain(value: float, digits: int = 2) -> str:
    """A number with a real minus sign."""
    return f"{value:.{digits}f}".replace("-", MINUS)


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class Axis:
    """A linear scale from data values onto ``[start, end]`` (SVG units), with its ticks."""

    low: float
    high: float
    start: float
    end: float
    ticks: tuple[Tick, ...]

    def at(self, value: float) -> float:
        """The position of ``value``, held inside the axis."""
        clamped = min(max(value, self.low), self.high)
        return round(self.start + (clamped - self.low) / (self.high - self.low) * self.span, 1)

    @property
    def span(self) -> float:
        return self.end - self.start

    def clipped(self, value: float) -> bool:
        """Whether ``value`` lies beyond the axis (drawn at the edge, with an arrow)."""
        return value < self.low - 1e-9 or value > self.high + 1e-9


def nice_step(span: float, most: int) -> float:
    """The smallest of 1, 2, 2.5 or 5 times a power of ten giving at most ``most`` steps.

    >>> nice_step(2.3, 6), nice_step(0.9, 5), nice_step(47, 5)
    (0.5, 0.2, 10.0)
    """
    raw = span / most
    magnitude = 10.0 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1.0, 2.0, 2.5, 5.0, 10.0) if m * magnitude >= raw - 1e-12)


def axis(
    values: Sequence[float],
    *,
    start: float,
    end: float,
    include: Sequence[float] = (),
    most_ticks: int = 6,
    low_limit: float = -math.inf,
    high_limit: float = math.inf,
    label: str = "signed",
) -> Axis:
    """An axis covering ``values`` and ``include`` on round numbers.

    ``low_limit`` / ``high_limit`` cap the range (values beyond are drawn clipped). ``label`` is
    ``"signed"`` (+0.5), ``"plain"`` (0.5) or ``"percent"`` (50%).
    """
    finite = [v for v in (*values, *include) if math.isfinite(v)] or [0.0]
    low, high = max(min(finite), low_limit), min(max(finite), high_limit)
    if high - low < 1e-9:
        low, high = low - 0.5, high + 0.5
    step = nice_step(high - low, most_ticks)
    low = max(math.floor(low / step + 1e-9) * step, low_limit)
    high = min(math.ceil(high / step - 1e-9) * step, high_limit)
    decimals = f"{step:.10f}".rstrip("0").rstrip(".").partition(".")[2]
    digits = len(decimals)
    count = round((high - low) / step)
    values_at = [low + i * step for i in range(count + 1)]
    made = Axis(low, high, start, end, ())
    ticks = tuple(Tick(made.at(v), _tick_label(v, label, digits)) for v in values_at)
    return Axis(low, high, start, end, ticks)


def _tick_label(value: float, style: str, digits: int) -> str:
    if abs(value) < 1e-12:
        value = 0.0
    if style == "percent":
        return f"{value * 100:.0f}%"
    if style == "plain":
        return plain(value, digits)
    return signed(value, digits) if value else "0"


# --- the distribution -------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    kind: str  # "observed" or "guideline"
    x: float
    y: float
    width: float
    height: float
    label: str  # the share, written above the bar when there is room
    title: str


@dataclass(frozen=True)
class BarChart:
    """Shares per rating value: the observed bar, and the guideline's beside it."""

    width: float
    height: float
    baseline: float
    left: float
    right: float
    bars: tuple[Bar, ...]
    categories: tuple[Tick, ...]
    gridlines: tuple[Tick, ...]  # position is a y here
    show_values: bool
    has_guideline: bool
    x_label: str
    description: str


def distribution_chart(
    observed: dict[str, int], expected: dict[str, float] | None, *, width: float = 720
) -> BarChart:
    """The observed share of each rating value against the guideline's share."""
    n = sum(observed.values()) or 1
    values = list(observed)
    shares = {v: observed[v] / n for v in values}
    guide = {v: (expected or {}).get(v, 0.0) / n for v in values} if expected else None
    top, bottom, left, right = 26.0, 44.0, 48.0, width - 12.0
    height = 250.0
    baseline = height - bottom
    highest = max([*shares.values(), *(guide or {}).values(), 0.01])
    scale = axis([0.0, highest * 1.12], start=baseline, end=top, most_ticks=5, label="percent")
    slot = (right - left) / max(len(values), 1)
    pair = 2 if guide else 1
    bar = min(44.0, slot * 0.8 / pair)
    bars: list[Bar] = []
    categories = []
    for i, value in enumerate(values):
        centre = left + slot * (i + 0.5)
        categories.append(Tick(round(centre, 1), value))
        kinds = [("observed", shares[value])] + ([("guideline", guide[value])] if guide else [])
        first = centre - bar * len(kinds) / 2
        for j, (kind, share) in enumerate(kinds):
            y = scale.at(share)
            count = observed[value] if kind == "observed" else (expected or {}).get(value, 0.0)
            title = (
                f"Rating {value}: {share:.0%} observed ({count} of {n})"
                if kind == "observed"
                else f"Rating {value}: {share:.0%} in the guideline ({count:.0f} expected)"
            )
            bars.append(
                Bar(
                    kind,
                    round(first + j * bar + 1, 1),
                    y,
                    round(bar - 2, 1),
                    round(baseline - y, 1),
                    f"{share:.0%}",
                    title,
                )
            )
    described = ", ".join(
        f"{v}: {shares[v]:.0%}" + (f" (guideline {guide[v]:.0%})" if guide else "") for v in values
    )
    return BarChart(
        width=width,
        height=height,
        baseline=baseline,
        left=left,
        right=right,
        bars=tuple(bars),
        categories=tuple(categories),
        gridlines=scale.ticks,
        show_values=bar >= 22,
        has_guideline=guide is not None,
        x_label="Rating",
        description="Share of ratings per value. " + described + ".",
    )


# --- dot plots (the forest plot and the group gaps) -------------------------------------


@dataclass(frozen=True)
class RefLine:
    position: float
    label: str
    style: str  # "zero", "parity" or "threshold"


@dataclass(frozen=True)
class Panel:
    heading: str
    axis: Axis
    lines: tuple[RefLine, ...] = ()


@dataclass(frozen=True)
class Mark:
    """A point with its interval (``low`` / ``high`` positions) when it has one."""

    kind: str  # the shape and colour: lenient, severe, central, plain, raw, controlled, ratio, low
    x: float
    low: float | None = None
    high: float | None = None
    clipped_low: bool = False
    clipped_high: bool = False
    offset: float = 0.0  # vertical, within the row


@dataclass(frozen=True)
class Row:
    y: float
    label: str
    marks: tuple[Mark, ...]
    title: str
    note: str = ""
    emphasis: str = ""  # a css class: lenient, severe, central, disadvantaged, ...
    key: str = ""  # the rater or group, for finding the row


@dataclass(frozen=True)
class DotPlot:
    width: float
    height: float
    label_end: float
    note_start: float
    top: float
    bottom: float
    panels: tuple[Panel, ...]
    rows: tuple[Row, ...]
    description: str
    axis_label: str = ""


@dataclass(frozen=True)
class Estimate:
    """One row's input: a point estimate with an optional interval."""

    key: str
    label: str
    value: float | None
    low: float | None = None
    high: float | None = None
    kind: str = "plain"
    note: str = ""
    title: str = ""


def mark(kind: str, scale: Axis, value: float, low: float | None, high: float | None) -> Mark:
    """A mark on ``scale``, its interval held inside the axis and flagged when cut."""
    return Mark(
        kind,
        scale.at(value),
        None if low is None else scale.at(low),
        None if high is None else scale.at(high),
        low is not None and scale.clipped(low),
        high is not None and scale.clipped(high),
    )


def forest_plot(estimates: Sequence[Estimate], *, axis_label: str, width: float = 820) -> DotPlot:
    """One row per estimate: the point, its interval, a zero line and a note on the right."""
    top = 12.0
    bottom = top + ROW * len(estimates)
    spread = [v for e in estimates for v in (e.value, e.low, e.high) if v is not None]
    scale = axis(spread, start=160.0, end=width - 300.0, include=[0.0], most_ticks=6)
    rows = tuple(
        Row(
            y=round(top + ROW * (i + 0.5), 1),
            label=e.label,
            marks=() if e.value is None else (mark(e.kind, scale, e.value, e.low, e.high),),
            title=e.title,
            note=e.note,
            emphasis=e.kind if e.kind != "plain" else "",
            key=e.key,
        )
        for i, e in enumerate(estimates)
    )
    panel = Panel("", scale, (RefLine(scale.at(0.0), "0", "zero"),))
    return DotPlot(
        width=width,
        height=bottom + 46,
        label_end=150.0,
        note_start=width - 284.0,
        top=top,
        bottom=bottom,
        panels=(panel,),
        rows=rows,
        description=f"{len(rows)} rows: " + "; ".join(e.title for e in estimates),
        axis_label=axis_label,
    )


@dataclass(frozen=True)
class GroupPoint:
    """One group's figures for the gap chart (all optional: the reference has no interval)."""

    key: str
    label: str
    gap: float | None
    controlled: float | None
    controlled_ci: tuple[float, float] | None
    ratio: float | None
    ratio_ci: tuple[float, float] | None
    below_four_fifths: bool
    emphasis: str
    title: str


#: The impact-ratio axis ends here at the most (a ratio of 3 says as much as one of 30).
RATIO_CAP = 3.0


def group_chart(
    points: Sequence[GroupPoint], *, controlled: bool, four_fifths: float, width: float = 820
) -> DotPlot:
    """Per group: raw and controlled gap (left panel), impact ratio against 4/5 (right)."""
    top = 40.0
    bottom = top + (ROW + 4) * len(points)
    gaps = [
        v for p in points for v in (p.gap, p.controlled, *(p.controlled_ci or ())) if v is not None
    ]
    ratios = [v for p in points for v in (p.ratio, *(p.ratio_ci or ())) if v is not None]
    left = axis(gaps, start=186.0, end=470.0, include=[0.0], most_ticks=5)
    right = axis(
        ratios,
        start=530.0,
        end=width - 22.0,
        include=[0.0, 1.2],
        most_ticks=5,
        high_limit=RATIO_CAP,
        label="plain",
    )
    rows = []
    for i, p in enumerate(points):
        marks: list[Mark] = []
        if p.gap is not None:
            marks.append(Mark("raw", left.at(p.gap), offset=-5.0 if controlled else 0.0))
        if p.controlled is not None:
            low, high = p.controlled_ci or (None, None)
            made = mark("controlled", left, p.controlled, low, high)
            marks.append(_moved(made, 5.0))
        if p.ratio is not None:
            low, high = p.ratio_ci or (None, None)
            kind = "low" if p.below_four_fifths else "ratio"
            marks.append(mark(kind, right, p.ratio, low, high))
        rows.append(
            Row(
                y=round(top + (ROW + 4) * (i + 0.5), 1),
                label=p.label,
                marks=tuple(marks),
                title=p.title,
                emphasis=p.emphasis,
                key=p.key,
            )
        )
    panels = (
        Panel("Gap to reference (rating points)", left, (RefLine(left.at(0.0), "0", "zero"),)),
        Panel(
            "Impact ratio",
            right,
            (
                RefLine(right.at(1.0), "1 = equal", "parity"),
                RefLine(right.at(four_fifths), f"{four_fifths:g}", "threshold"),
            ),
        ),
    )
    return DotPlot(
        width=width,
        height=bottom + 30,
        label_end=176.0,
        note_start=width,
        top=top,
        bottom=bottom,
        panels=panels,
        rows=tuple(rows),
        description="; ".join(p.title for p in points),
    )


def _moved(made: Mark, offset: float) -> Mark:
    return Mark(made.kind, made.x, made.low, made.high, made.clipped_low, made.clipped_high, offset)
