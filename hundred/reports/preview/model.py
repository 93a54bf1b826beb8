"""What a preview is: the folder's pages and, per touch, its files, problems and rendered content."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from hundred.rendering.content import Rendered

INDEX, TIMELINE = "index.html", "timeline.html"


@dataclass
class TouchPreview:
    touch: str
    channel: str
    files: list[Path] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    content: Rendered | None = None
    thumbnail: tuple[str, int, int, int] | None = None  # (PNG file name, width, height, pages)


@dataclass
class Preview:
    out: Path
    index: Path
    touches: list[TouchPreview]
    removed: list[str] = field(default_factory=list)  # stale files of an earlier preview, deleted

    @property
    def problems(self) -> list[tuple[str, str]]:
        return [(t.touch, p) for t in self.touches for p in t.problems]
