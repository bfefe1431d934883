"""What an import did, and its summary in French for the operator and the coordinator.

Rejected places are listed line by line (the first 50). Warnings (places kept, a value dropped,
completed or corrected) are grouped by kind, most frequent first: a count, the values met for
the kinds where the value says it all (an unknown list value: how many places had each), and up
to 5 example lines. Warnings are tallied as they come, never all kept: a national file may raise
tens of thousands.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, List, Optional

from bot.directory.importing import messages as msg
from bot.directory.importing.mapping import StandardMapping
from bot.directory.importing.sources import SourceInfo

MAX_EXAMPLES = 5
MAX_VALUES = 10


@dataclass(frozen=True)
class RowError:
    line: int
    row_id: Optional[str]
    field: str
    message: str


RowWarning = RowError  # same shape: where, which place, which field, what


@dataclass
class WarningGroup:
    kind: str
    count: int = 0
    examples: List[RowWarning] = field(default_factory=list)
    values: Counter = field(default_factory=Counter)  # (field, value) -> places

    def add(self, warning: RowWarning, value: Optional[str]) -> None:
        self.count += 1
        if len(self.examples) < MAX_EXAMPLES:
            self.examples.append(warning)
        if value is not None and self.kind in msg.WARNING_VALUES_COUNTED:
            self.values[(warning.field, value)] += 1


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: List[RowError] = field(default_factory=list)
    warnings: Dict[str, WarningGroup] = field(default_factory=dict)
    source: Optional[SourceInfo] = None
    mapping: Optional[StandardMapping] = None
    strict: bool = False
    import_source: Optional[str] = None  # the name given with --source
    withdrawn: Optional[int] = None  # places of that source withdrawn by --remplacer; None without it

    @property
    def rejected(self) -> int:
        """Number of rows skipped because of at least one error."""
        return len({e.line for e in self.errors})

    @property
    def imported(self) -> int:
        return self.created + self.updated + self.unchanged

    @property
    def warning_counts(self) -> Dict[str, int]:
        return {kind: group.count for kind, group in self.warnings.items()}

    def warn(self, line: int, row_id: Optional[str], kind: str, field_name: str, message: str,
             value: Optional[str] = None) -> None:
        group = self.warnings.get(kind)
        if group is None:
            group = self.warnings[kind] = WarningGroup(kind)
        group.add(RowWarning(line, row_id, field_name, message), value)

    # --- summary -----------------------------------------------------------------------------

    def _version_lines(self) -> List[str]:
        mapping = self.mapping
        if mapping is None:
            return []
        lines = []
        if mapping.is_legacy:
            version = mapping.detected.version
            lines.append(msg.SUMMARY_VERSION.format(label=version.label, title=version.title))
        for template, columns in ((msg.SUMMARY_LEGACY_COLUMNS, mapping.legacy_columns),
                                  (msg.SUMMARY_IGNORED_COLUMNS, mapping.ignored_columns),
                                  (msg.SUMMARY_UNKNOWN_COLUMNS, mapping.unknown_columns)):
            if columns:
                lines.append(template.format(columns=", ".join(columns)))
        return lines

    def _warning_lines(self) -> List[str]:
        if not self.warnings:
            return []
        total = sum(group.count for group in self.warnings.values())
        lines = [msg.SUMMARY_WARNINGS.format(count=total)]
        for group in sorted(self.warnings.values(), key=lambda g: (-g.count, g.kind)):
            title = msg.WARNING_KINDS.get(group.kind, group.kind)
            lines.append(msg.SUMMARY_WARNING_KIND.format(title=title, count=group.count))
            ranked = group.values.most_common()
            for (field_name, value), places in ranked[:MAX_VALUES]:
                template = msg.SUMMARY_WARNING_FIELD if value == field_name else msg.SUMMARY_WARNING_VALUE
                lines.append(template.format(field=field_name, value=value, count=places))
            if len(ranked) > MAX_VALUES:
                lines.append(msg.SUMMARY_WARNING_MORE_VALUES.format(count=len(ranked) - MAX_VALUES))
            for example in group.examples:
                row = msg.SUMMARY_ERROR_ROW.format(row_id=example.row_id) if example.row_id else ""
                lines.append(msg.SUMMARY_WARNING_EXAMPLE.format(line=example.line, row=row, message=example.message))
            if group.count > len(group.examples):
                lines.append(msg.SUMMARY_WARNING_MORE.format(count=group.count - len(group.examples)))
        return lines

    def summary_lines(self, max_errors: int = 50) -> List[str]:
        lines = [msg.SUMMARY_COUNTS.format(created=self.created, updated=self.updated, unchanged=self.unchanged)]
        lines.extend(self.source.describe() if self.source else [])
        lines.extend(self._version_lines())
        if not self.errors:
            lines.append(msg.SUMMARY_NO_ERROR)
        else:
            lines.append(msg.SUMMARY_REJECTED.format(rejected=self.rejected, errors=len(self.errors)))
            for err in self.errors[:max_errors]:
                row = msg.SUMMARY_ERROR_ROW.format(row_id=err.row_id) if err.row_id else ""
                lines.append(msg.SUMMARY_ERROR_LINE.format(line=err.line, row=row, message=err.message))
            if len(self.errors) > max_errors:
                lines.append(msg.SUMMARY_MORE.format(count=len(self.errors) - max_errors))
        lines.extend(self._warning_lines())
        if self.withdrawn is not None:
            template = msg.SUMMARY_WITHDRAWN if self.imported else msg.SUMMARY_NOT_WITHDRAWN
            lines.append(template.format(count=self.withdrawn, source=self.import_source))
        return lines
