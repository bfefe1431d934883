"""What an import did, and its summary in French for the operator."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional

from bot.directory import import_messages as msg
from bot.directory.import_sources import SourceInfo


@dataclass(frozen=True)
class RowError:
    line: int
    row_id: Optional[str]
    field: str
    message: str


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: List[RowError] = field(default_factory=list)
    source: Optional[SourceInfo] = None

    @property
    def rejected(self) -> int:
        """Number of rows skipped because of at least one error."""
        return len({e.line for e in self.errors})

    @property
    def imported(self) -> int:
        return self.created + self.updated + self.unchanged

    def summary_lines(self, max_errors: int = 50) -> List[str]:
        lines = [msg.SUMMARY_COUNTS.format(created=self.created, updated=self.updated, unchanged=self.unchanged)]
        lines.extend(self.source.describe() if self.source else [])
        if not self.errors:
            lines.append(msg.SUMMARY_NO_ERROR)
            return lines
        lines.append(msg.SUMMARY_REJECTED.format(rejected=self.rejected, errors=len(self.errors)))
        for err in self.errors[:max_errors]:
            row = msg.SUMMARY_ERROR_ROW.format(row_id=err.row_id) if err.row_id else ""
            lines.append(msg.SUMMARY_ERROR_LINE.format(line=err.line, row=row, message=err.message))
        if len(self.errors) > max_errors:
            lines.append(msg.SUMMARY_MORE.format(count=len(self.errors) - max_errors))
        return lines
