"""scripts/console_screenshots.py, run as a person regenerating docs/console.md's images runs it: three PNGs 1366
px wide with a page on them. The PNGs are decoded here (8-bit RGB or RGBA, as Chromium writes them): the project
has no image library, and a blank page is only told apart from a real one by its pixels."""

import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ("dashboard.png", "record.png", "coverage.png")
# A blank or single-colour page has one or two colours; the console's text, links, tables and admin header have
# hundreds once anti-aliased.
FEW_COLOURS = 16


def png_pixels(data: bytes) -> tuple[int, int, set[bytes]]:
    """Width, height and the distinct colours of a non-interlaced 8-bit RGB or RGBA PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    header, compressed, position = None, bytearray(), 8
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        body = data[position + 8:position + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            compressed += body
        position += 12 + length
    assert header is not None, "no IHDR chunk"
    width, height, depth, colour_type, _, _, interlace = header
    assert depth == 8 and colour_type in (2, 6) and interlace == 0, header
    size = 3 if colour_type == 2 else 4
    stride = width * size
    raw = zlib.decompress(bytes(compressed))
    assert len(raw) == height * (stride + 1), "truncated image data"
    colours: set[bytes] = set()
    above = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        line = unfilter(raw[start], bytearray(raw[start + 1:start + 1 + stride]), above, size)
        colours.update(bytes(line[x:x + size]) for x in range(0, stride, size))
        above = line
    return width, height, colours


def unfilter(kind: int, line: bytearray, above: bytearray, size: int) -> bytearray:
    """Undoes one scanline's PNG filter (PNG specification, section 9): 0 none, 1 sub, 2 up, 3 average, 4 Paeth."""
    if kind == 1:
        for i in range(size, len(line)):
            line[i] = (line[i] + line[i - size]) & 0xFF
    elif kind == 2:
        line[:] = bytes((value + up) & 0xFF for value, up in zip(line, above, strict=True))
    elif kind == 3:
        for i in range(len(line)):
            line[i] = (line[i] + ((line[i - size] if i >= size else 0) + above[i]) // 2) & 0xFF
    elif kind == 4:
        for i in range(len(line)):
            left, up, up_left = (line[i - size], above[i], above[i - size]) if i >= size else (0, above[i], 0)
            estimate = left + up - up_left
            to_left, to_up, to_up_left = abs(estimate - left), abs(estimate - up), abs(estimate - up_left)
            nearest = left if to_left <= to_up and to_left <= to_up_left else up if to_up <= to_up_left else up_left
            line[i] = (line[i] + nearest) & 0xFF
    return line


@pytest.mark.browser
def test_the_script_saves_the_dashboard_a_record_and_coverage_as_1366_px_pngs_with_a_page_on_them(tmp_path) -> None:
    out = tmp_path / "console"

    done = subprocess.run([sys.executable, "scripts/console_screenshots.py", "--out", str(out), "--timeout", "240"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)

    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(path.name for path in out.iterdir()) == sorted(SCREENSHOTS)
    for name in SCREENSHOTS:
        width, height, colours = png_pixels((out / name).read_bytes())
        assert width == 1366, (name, width)
        assert height >= 768, (name, height)  # at least the laptop screen: the whole page is saved
        assert len(colours) > FEW_COLOURS, (name, len(colours))
