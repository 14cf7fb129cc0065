"""Draw the Teams app icons with the standard library only.

``color.png`` (192x192): a dark-navy rounded square with a white checklist, two items ticked and one
still open. ``outline.png`` (32x32): the same checklist in pure white on a transparent background, as
Teams requires for the app bar.

Run ``python manifest/make_icons.py [OUT_DIR]``; by default the PNGs are written beside this script.
Pixels are a pure function of the code, so re-running only changes the files when the drawing does.

Shapes are signed-distance functions (negative inside, in pixels); a pixel's coverage is
``clamp(0.5 - distance)`` at its centre, which gives one pixel of anti-aliasing on every edge.
"""

from __future__ import annotations

import itertools
import logging
import math
import struct
import sys
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path

log = logging.getLogger(__name__)

Colour = tuple[int, int, int]
Pixel = tuple[int, int, int, int]
Shape = Callable[[float, float], float]  # signed distance from a point to the shape's edge
Layer = tuple[Shape, Colour, float]  # shape, colour, opacity

NAVY: Colour = (0x1B, 0x2A, 0x4A)  # matches accentColor in manifest.template.json
WHITE: Colour = (255, 255, 255)
OPEN_ITEM_OPACITY = 0.6  # the unticked row is dimmer: "still outstanding" at a glance

COLOR_SIZE = 192
OUTLINE_SIZE = 32


def round_rect(cx: float, cy: float, half_w: float, half_h: float, radius: float) -> Shape:
    """A filled rectangle centred on (cx, cy) with rounded corners."""

    def distance(x: float, y: float) -> float:
        qx = abs(x - cx) - (half_w - radius)
        qy = abs(y - cy) - (half_h - radius)
        outside = math.hypot(max(qx, 0.0), max(qy, 0.0))
        return outside + min(max(qx, qy), 0.0) - radius

    return distance


def ring(shape: Shape, width: float) -> Shape:
    """The outline of ``shape``, ``width`` pixels thick, centred on its edge."""
    return lambda x, y: abs(shape(x, y)) - width / 2


def polyline(points: Sequence[tuple[float, float]], width: float) -> Shape:
    """A stroke through ``points`` with round caps and joins."""
    segments = list(itertools.pairwise(points))

    def distance(x: float, y: float) -> float:
        best = math.inf
        for (ax, ay), (bx, by) in segments:
            dx, dy = bx - ax, by - ay
            t = ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)
            t = min(max(t, 0.0), 1.0)
            best = min(best, math.hypot(x - (ax + t * dx), y - (ay + t * dy)))
        return best - width / 2

    return distance


def union(*shapes: Shape) -> Shape:
    """Everything covered by any of ``shapes``."""
    return lambda x, y: min(s(x, y) for s in shapes)


def coverage(shape: Shape, px: int, py: int) -> float:
    """How much of pixel (px, py) the shape covers, 0..1."""
    return min(max(0.5 - shape(px + 0.5, py + 0.5), 0.0), 1.0)


def render(size: int, layers: Sequence[Layer]) -> list[list[Pixel]]:
    """Composite ``layers`` bottom-up ("over") into straight-alpha RGBA rows.

    Fully transparent pixels take the bottom layer's colour, so viewers that resample without
    premultiplying alpha do not bleed black or white fringes into the edges.
    """
    base = layers[0][1]
    rows: list[list[Pixel]] = []
    for py in range(size):
        row: list[Pixel] = []
        for px in range(size):
            r = g = b = a = 0.0  # premultiplied
            for shape, (cr, cg, cb), opacity in layers:
                alpha = coverage(shape, px, py) * opacity
                r, g, b = (
                    cr * alpha + r * (1 - alpha),
                    cg * alpha + g * (1 - alpha),
                    cb * alpha + b * (1 - alpha),
                )
                a = alpha + a * (1 - alpha)
            if a <= 0.0:
                row.append((*base, 0))
            else:
                row.append((round(r / a), round(g / a), round(b / a), round(a * 255)))
        rows.append(row)
    return rows


def checklist(
    left: float, top: float, pitch: float, box: float, stroke: float, bar_width: float, bar_end: float
) -> tuple[Shape, Shape]:
    """Three checklist rows: (rows 1-2 ticked with their bars, row 3's open box and bar).

    ``left``/``top`` place the first mark's top-left corner; marks are ``box`` square and rows are
    ``pitch`` apart. Ticked rows have no box: at 32 pixels a tick inside a box turns to mush.
    """
    half = box / 2
    bar_start = left + box + max(box * 0.45, bar_width * 1.5)

    def row_centre(i: int) -> tuple[float, float]:
        return left + half, top + half + i * pitch

    def bar(cy: float) -> Shape:
        return polyline([(bar_start, cy), (bar_end, cy)], bar_width)

    ticked: list[Shape] = []
    for cx, cy in (row_centre(0), row_centre(1)):
        tick = [
            (cx - half + stroke / 2, cy),
            (cx - half * 0.25, cy + half - stroke / 2),
            (cx + half - stroke / 2, cy - half + stroke / 2),
        ]
        ticked += [polyline(tick, stroke), bar(cy)]
    cx, cy = row_centre(2)
    inset = half - stroke / 2  # keep the box's outer edge on the same square as the ticks
    open_box = ring(round_rect(cx, cy, inset, inset, box * 0.2), stroke)
    return union(*ticked), union(open_box, bar(cy))


def color_layers() -> list[Layer]:
    """The 192x192 full-colour icon: navy tile, white checklist inside Teams' central safe area."""
    tile = round_rect(96, 96, 96, 96, 40)
    done, still_open = checklist(left=44, top=48, pitch=36, box=24, stroke=7, bar_width=8, bar_end=148)
    return [(tile, NAVY, 1.0), (done, WHITE, 1.0), (still_open, WHITE, OPEN_ITEM_OPACITY)]


def outline_layers() -> list[Layer]:
    """The 32x32 outline icon: the same checklist, white only, edges on whole pixels where possible."""
    done, still_open = checklist(left=2, top=3, pitch=10, box=6, stroke=2, bar_width=2, bar_end=29)
    return [(done, WHITE, 1.0), (still_open, WHITE, OPEN_ITEM_OPACITY)]


def encode_png(rows: Sequence[Sequence[Pixel]]) -> bytes:
    """8-bit RGBA PNG bytes for ``rows`` (no filtering: the icons are tiny)."""
    height, width = len(rows), len(rows[0])
    raw = b"".join(b"\x00" + bytes(v for pixel in row for v in pixel) for row in rows)

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # depth 8, colour type 6 = RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def write_icons(out_dir: Path) -> list[Path]:
    """Write color.png and outline.png into ``out_dir``; return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, size, layers in (
        ("color.png", COLOR_SIZE, color_layers()),
        ("outline.png", OUTLINE_SIZE, outline_layers()),
    ):
        path = out_dir / name
        path.write_bytes(encode_png(render(size, layers)))
        written.append(path)
    return written


def main(argv: Sequence[str]) -> int:
    """Command-line entry point: ``make_icons.py [OUT_DIR]``."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    out_dir = Path(argv[0]) if argv else Path(__file__).resolve().parent
    for path in write_icons(out_dir):
        log.info("wrote %s", path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
