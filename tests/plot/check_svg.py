#!/usr/bin/env python3
"""Checks the sample figures written by qfloat_plot_samples.

  check_svg.py structure DIR   parse every DIR/*.svg as XML and compare it with NAME.expect.json
  check_svg.py render DIR      render every DIR/*.svg to PNG with rsvg-convert (librsvg2-bin)

Exit status: 0 all good, 1 a check failed, 77 the needed tool is missing (ctest: skipped).
Only the standard library is used (xml.etree for parsing, zlib for reading the PNG back).
"""
import json
import math
import pathlib
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
import zlib

SVG = "{http://www.w3.org/2000/svg}"
NUMERIC_ATTRS = {"x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "width", "height",
                 "font-size", "stroke-width", "fill-opacity", "dy"}
MINUS = "\u2212"

failures = []


def fail(name, message):
    failures.append(f"{name}: {message}")


def number(text):
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"non-finite number {text!r}")
    return value


def points_of(element):
    raw = element.get("points", "").split()
    return [tuple(number(v) for v in pair.split(",")) for pair in raw]


def classes(element):
    return element.get("class", "").split()


def label_text(text_element):
    """(main text, superscript) of a tick label."""
    sup = "".join(t.text or "" for t in text_element.findall(f"{SVG}tspan"))
    return (text_element.text or ""), sup


def is_power_label(main, sup, base):
    """True for 10^k / 2^k written with a superscript, or a plain exact power of the base."""
    if sup:
        return main == str(base) and re.fullmatch(f"{MINUS}?[0-9]+", sup) is not None
    try:
        value = float(main.replace(MINUS, "-"))
    except ValueError:
        return False
    if value <= 0:
        return False
    k = math.log(value, base)
    return abs(k - round(k)) < 1e-9


def check_structure(path, expect):
    name = path.name
    try:
        tree = ET.parse(path)
    except ET.ParseError as e:
        fail(name, f"not well-formed XML: {e}")
        return
    root = tree.getroot()
    if root.tag != f"{SVG}svg" or root.get("version") != "1.1":
        fail(name, f"root is {root.tag} version {root.get('version')}, want SVG 1.1")
        return
    width, height = number(root.get("width")), number(root.get("height"))

    ids = set()
    for element in root.iter():
        for attr, value in element.attrib.items():
            if attr in NUMERIC_ATTRS and not value.endswith("%"):
                try:
                    number(value)
                except ValueError as e:
                    fail(name, f"<{element.tag[len(SVG):]} {attr}={value!r}>: {e}")
        if "id" in element.attrib:
            if element.get("id") in ids:
                fail(name, f"duplicate id {element.get('id')}")
            ids.add(element.get("id"))
        # Geometry stays on the canvas: clipping happens in the writer, not in the viewer.
        tag = element.tag[len(SVG):]
        pts = []
        if tag in ("polyline", "polygon"):
            try:
                pts = points_of(element)
            except ValueError as e:
                fail(name, f"<{tag}> points: {e}")
        elif tag == "circle":
            pts = [(number(element.get("cx")), number(element.get("cy")))]
        elif tag == "line":
            pts = [(number(element.get("x1")), number(element.get("y1"))),
                   (number(element.get("x2")), number(element.get("y2")))]
        for x, y in pts:
            if not (-1 <= x <= width + 1 and -1 <= y <= height + 1):
                fail(name, f"<{tag}> point ({x}, {y}) outside the {width}x{height} canvas")
                break

    series = [g for g in root.iter(f"{SVG}g") if "series" in classes(g)]
    if len(series) != expect["series"]:
        fail(name, f"{len(series)} series, expected {expect['series']}")
    legend = [g for g in root.iter(f"{SVG}g") if "legend-entry" in classes(g)]
    if len(legend) != expect["legend_entries"]:
        fail(name, f"{len(legend)} legend entries, expected {expect['legend_entries']}")
    if "panels" in expect:
        panels = [g for g in root.iter(f"{SVG}g") if "axes" in classes(g)]
        if len(panels) != expect["panels"]:
            fail(name, f"{len(panels)} panels, expected {expect['panels']}")
    by_id = {g.get("id"): g for g in series}
    for sid, counts in expect.get("points", {}).items():
        g = by_id.get(sid)
        if g is None:
            fail(name, f"series {sid} missing")
            continue
        polyline = sum(len(points_of(p)) for p in g.findall(f"{SVG}polyline"))
        markers = sum(len(list(m)) for m in g.findall(f"{SVG}g") if "markers" in classes(m))
        rects = len(g.findall(f"{SVG}rect"))
        for kind, want in counts.items():
            got = {"polyline": polyline, "polyline_max": polyline, "marker": markers,
                   "rect": rects}[kind]
            ok = got <= want if kind.endswith("_max") else got == want
            if not ok:
                fail(name, f"series {sid}: {got} {kind} points, expected {want}")
    for axes_id, axes_expect in expect.get("log_ticks", {}).items():
        axes = next((g for g in root.iter(f"{SVG}g") if g.get("id") == axes_id), None)
        if axes is None:
            fail(name, f"{axes_id} missing")
            continue
        for axis, base in axes_expect.items():
            group = next((g for g in axes.iter(f"{SVG}g") if g.get("class") == f"{axis}axis"),
                         None)
            labels = [] if group is None else [
                label_text(t) for t in group.findall(f"{SVG}text") if "tick-label" in classes(t)]
            if len(labels) < 2:
                fail(name, f"{axes_id} {axis}: {len(labels)} tick labels, want at least 2")
            bad = [m + ("^" + s if s else "") for m, s in labels if not is_power_label(m, s, base)]
            if bad:
                fail(name, f"{axes_id} {axis}: labels {bad} are not powers of {base}")
    if "warning_count" in expect and len(expect["warnings"]) != expect["warning_count"]:
        fail(name, f"{len(expect['warnings'])} warnings, expected {expect['warning_count']}: "
                   f"{expect['warnings']}")


def png_size_and_ink(data):
    """(width, height, fraction of non-white bytes) of an 8-bit RGB(A) PNG."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("no PNG signature")
    pos, idat, width, height, colour = 8, b"", 0, 0, 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            if depth != 8:
                raise ValueError(f"bit depth {depth}")
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    channels = {2: 3, 6: 4}.get(colour)
    if channels is None:
        raise ValueError(f"colour type {colour}")
    stride = 1 + width * channels
    if len(raw) != stride * height:
        raise ValueError("truncated image data")
    # Filtered bytes are not pixels, but a blank white image filters to all 0x00/0xFF either
    # way; any drawing leaves other values.
    ink = sum(1 for b in raw if b not in (0x00, 0xFF))
    return width, height, ink / len(raw)


def render(svg_files):
    tool = shutil.which("rsvg-convert")
    if tool is None:
        print("rsvg-convert not found (Debian: librsvg2-bin); skipping")
        return 77
    with tempfile.TemporaryDirectory() as tmp:
        for path in svg_files:
            png = pathlib.Path(tmp) / (path.stem + ".png")
            run = subprocess.run([tool, "-o", str(png), str(path)], capture_output=True,
                                 text=True, timeout=120)
            if run.returncode != 0 or run.stderr.strip():
                fail(path.name, f"rsvg-convert exit {run.returncode}: {run.stderr.strip()}")
                continue
            root = ET.parse(path).getroot()
            want = (round(float(root.get("width"))), round(float(root.get("height"))))
            try:
                w, h, ink = png_size_and_ink(png.read_bytes())
            except ValueError as e:
                fail(path.name, f"rendered PNG unreadable: {e}")
                continue
            if (w, h) != want:
                fail(path.name, f"rendered {w}x{h}, expected {want[0]}x{want[1]}")
            if ink < 0.001:
                fail(path.name, "rendered image is blank")
            print(f"{path.name}: {w}x{h} PNG, {ink:.1%} non-blank bytes")
    return 0


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("structure", "render"):
        print(__doc__)
        return 2
    directory = pathlib.Path(sys.argv[2])
    svg_files = sorted(directory.glob("*.svg"))
    if not svg_files:
        print(f"no SVG files in {directory}")
        return 1
    if sys.argv[1] == "render":
        status = render(svg_files)
        if status == 77:
            return status
    else:
        for path in svg_files:
            expect_path = path.with_suffix(".expect.json")
            if not expect_path.exists():
                fail(path.name, "no .expect.json next to it")
                continue
            check_structure(path, json.loads(expect_path.read_text()))
        if not failures:
            print(f"{len(svg_files)} SVG files well-formed and as expected")
    for f in failures:
        print("FAIL", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
