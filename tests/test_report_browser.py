"""`course report` opened in a real headless Chromium: every image loads, nothing overflows
at a desktop (1280 px) and a phone (390 px) width, and the page is not blank."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess

import numpy as np
import pytest
from click.testing import CliRunner

from coursepack.cli import main

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
WIDTHS = (1280, 390)

if CHROMIUM is None:
    if os.environ.get("CI"):
        raise RuntimeError("the browser tests need Debian's chromium: .ci/run installs it "
                           "(apt-get install -y chromium)")
    pytest.skip("chromium is not installed (apt-get install -y chromium; .ci/run does it)",
                allow_module_level=True)

# Headless Chromium will not make its window narrower than 500 px, so each width is an
# iframe of exactly that width; the page is its srcdoc, which keeps it same-origin for
# the probe below.
PROBE = """<!DOCTYPE html><html><body style="margin:0">
%s
<script>
window.addEventListener("load", () => {
  const results = [...document.querySelectorAll("iframe")].map(frame => {
    const doc = frame.contentDocument, width = frame.clientWidth;
    const images = [...doc.images].map(i => ({loaded: i.complete && i.naturalWidth > 0 && i.naturalHeight > 0,
                                               right: i.getBoundingClientRect().right}));
    const over = [...doc.querySelectorAll("body *")]
      .filter(e => !e.closest(".table-wrap") && e.getBoundingClientRect().right > width + 1)
      .map(e => e.tagName + " " + (e.textContent || "").slice(0, 40));
    return {width, scrollWidth: doc.documentElement.scrollWidth, images, over};
  });
  const out = document.createElement("pre");
  out.id = "probe";
  out.textContent = JSON.stringify(results);
  document.body.appendChild(out);
});
</script></body></html>"""


def _chromium(*args, timeout=120):
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                           "--virtual-time-budget=10000", *args], capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def report_file(course, tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "report.html"
    result = CliRunner().invoke(main, ["--course", str(course.path), "report", "--framework", "torch",
                                       "--path", str(course.solutions), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_report_is_self_contained_with_every_plot(report_file):
    page = report_file.read_text(encoding="utf-8")
    images = re.findall(r'<img src="([^"]+)"', page)
    assert len(images) == 4 and all(src.startswith("data:image/png;base64,") for src in images)
    assert "<table" in page and "additive" in page and "src=\"http" not in page


def test_every_image_loads_and_nothing_overflows(report_file, tmp_path):
    frames = "\n".join(f'<iframe style="width:{w}px;height:2400px;border:0;display:block" '
                       f'srcdoc="{html.escape(report_file.read_text(encoding="utf-8"), quote=True)}"></iframe>'
                       for w in WIDTHS)
    probe = tmp_path / "probe.html"
    probe.write_text(PROBE % frames, encoding="utf-8")
    dom = _chromium("--window-size=1400,1000", "--dump-dom", probe.as_uri()).stdout
    found = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
    assert found, dom[-2000:]
    results = json.loads(html.unescape(found.group(1)))
    assert [r["width"] for r in results] == list(WIDTHS)
    for r in results:
        assert len(r["images"]) == 4 and all(i["loaded"] for i in r["images"]), r
        assert r["scrollWidth"] <= r["width"], r
        assert all(i["right"] <= r["width"] + 1 for i in r["images"]), r
        assert r["over"] == [], r


def test_screenshot_is_not_blank(report_file, tmp_path):
    from PIL import Image

    shot = tmp_path / "shot.png"
    _chromium("--window-size=1280,1600", f"--screenshot={shot}", report_file.as_uri())
    pixels = np.asarray(Image.open(shot).convert("L"), dtype=float)
    assert pixels.shape == (1600, 1280)
    assert pixels.std() > 20  # text, table and pictures, not one flat colour
    assert (pixels < 128).mean() > 0.01
