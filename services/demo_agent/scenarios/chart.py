"""Chart: a PNG chart (built with zlib and struct), a URL file part and a nested JSON object."""

from __future__ import annotations

import asyncio
import struct
import zlib

from a2a.helpers.proto_helpers import new_data_part, new_raw_part, new_text_part, new_url_part

from services.demo_agent.scenarios.base import Scenario, Turn, skill

__all__ = ["SCENARIO", "chart_png"]

# The chart plots Q3 of the sales report, region by region.
_CHART_SERIES: dict[str, int] = {"North": 150, "South": 117, "East": 160, "West": 121}


def chart_png(values: dict[str, int], width: int = 64, height: int = 32) -> bytes:
    """A small bar chart as a valid PNG (8-bit RGB), built with zlib and struct only.

    One bar per value, scaled to the tallest, on white with a grey baseline. The
    bytes are the same for the same input (zlib is deterministic).
    """
    colors = [(66, 133, 244), (219, 68, 55), (244, 180, 0), (15, 157, 88)]
    top = max(values.values(), default=1) or 1
    slot = width // max(len(values), 1)
    heights = [round(v / top * (height - 4)) for v in values.values()]

    def pixel(x: int, y: int) -> tuple[int, int, int]:
        if y == height - 1:
            return (96, 96, 96)  # the baseline
        bar, offset = divmod(x, slot)
        if bar < len(heights) and 2 <= offset < slot - 2 and y >= height - 1 - heights[bar]:
            return colors[bar % len(colors)]
        return (255, 255, 255)

    # Each scanline starts with filter type 0 (None), then R, G, B per pixel.
    scanlines = b"".join(
        b"\x00" + bytes(c for x in range(width) for c in pixel(x, y)) for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(scanlines, 9))
        + chunk(b"IEND", b"")
    )


async def _chart(turn: Turn) -> None:
    updater = turn.updater
    await updater.start_work(updater.new_agent_message([new_text_part("Drawing the chart…")]))
    await asyncio.sleep(turn.timing.step_delay)
    await updater.add_artifact(
        [new_raw_part(chart_png(_CHART_SERIES), media_type="image/png", filename="chart.png")],
        name="chart.png",
        last_chunk=True,
    )
    # A file the app serves at /files/readme.txt (see app.PUBLIC_FILES): the client fetches it.
    await updater.add_artifact(
        [new_url_part(f"{turn.base_url}/files/readme.txt", "text/plain", "readme.txt")],
        name="readme.txt",
        last_chunk=True,
    )
    # Nested, not a list of rows: clients should show it as JSON, not as a table.
    details = {
        "chart": {
            "title": "Q3 sales by region",
            "kind": "bar",
            "size": {"width": 64, "height": 32, "unit": "px"},
            "series": _CHART_SERIES,
        },
        "source": {"report": "quarterly_sales", "quarter": "q3", "currency": "kEUR"},
    }
    await updater.add_artifact(
        [new_data_part(details, media_type="application/json")],
        name="chart.json",
        last_chunk=True,
    )
    await updater.complete(
        updater.new_agent_message(
            [new_text_part("The chart is ready: a PNG, a linked text file and its data.")]
        )
    )


SCENARIO = Scenario(
    name="chart",
    keywords=("image", "chart"),
    skill=skill(
        "chart",
        "Chart, file and data",
        "A PNG chart, a URL file part the agent serves, and a nested JSON object.",
        "Draw a chart image",
    ),
    handle=_chart,
)
