"""The paper's chart: live items by report, stacked by RAG (matplotlib, Agg, no pyplot state)."""

from __future__ import annotations

import io
from collections import Counter

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from dialogs.cards import clip, report_name
from storage.committee import Figures

MAX_BARS = 12  # the rest are one "Other reports" bar, so the chart stays readable at any size
RAG_COLOURS = (("red", "#C0392B", "Red"), ("amber", "#E6A700", "Amber"), ("green", "#2E8B57", "Green"))


def live_by_report_png(fig: Figures, *, dpi: int = 150) -> bytes | None:
    """A PNG of live items per report, coloured by RAG as of the paper's date (None: nothing live)."""
    per: dict[int, Counter[str]] = {}
    for i in fig.items:
        if i.live and (rag := i.rag(fig.as_of)) is not None:
            per.setdefault(i.report_id, Counter())[rag] += 1
    if not per:
        return None
    ranked = sorted(per.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))
    bars = [
        (clip(report_name(fig.reports[rid]), 42) if rid in fig.reports else "?", c)
        for rid, c in ranked[:MAX_BARS]
    ]
    rest: Counter[str] = Counter()
    for _, c in ranked[MAX_BARS:]:
        rest.update(c)
    if rest:
        bars.append((f"Other reports ({len(ranked) - MAX_BARS})", rest))
    bars.reverse()  # largest at the top
    figure = Figure(figsize=(6.5, 1.4 + 0.32 * len(bars)), dpi=dpi)
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    left = [0] * len(bars)
    names = [name for name, _ in bars]
    for key, colour, label in RAG_COLOURS:
        values = [c.get(key, 0) for _, c in bars]
        ax.barh(names, values, left=left, color=colour, label=label, height=0.6)
        left = [a + b for a, b in zip(left, values, strict=True)]
    for y, total in enumerate(left):
        ax.text(total, y, f" {total}", va="center", fontsize=8)
    ax.set_xlabel("Live items (open, in progress, evidenced)")
    ax.set_title(f"Live items by report, as of {fig.as_of.day} {fig.as_of:%B %Y}", fontsize=10)
    ax.tick_params(axis="y", labelsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_xlim(0, max(left) * 1.12 + 1)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
