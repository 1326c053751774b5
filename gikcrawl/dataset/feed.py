"""`-O out.csv` on a crawl: the flat `reports` columns of `gikcrawl export`, one row per item.

Per item, so what needs other reports stays empty here: duplicate groups (dup_*, canonical), cross-report
checks and year-on-year indicators — `gikcrawl export` on the archive fills them."""
from __future__ import annotations

import csv
import io

from itemadapter import ItemAdapter
from scrapy.exporters import BaseItemExporter

from .build import identify
from .columns import REPORT_COLUMNS
from .flatten import flatten
from .indicators import add_indicators
from .writers import csv_cell

_CROSS = ("dup_group", "dup_count", "canonical", "dup_differs", "cross_checks_failed")


class ReportsCsvItemExporter(BaseItemExporter):
    def __init__(self, file, **kwargs):
        super().__init__(dont_fail=True, **kwargs)
        # UTF-8 with BOM (Excel), whatever FEED_EXPORT_ENCODING says: the file is read by spreadsheets
        self.stream = io.TextIOWrapper(file, encoding="utf-8-sig", newline="", write_through=True)
        self.writer = csv.writer(self.stream, lineterminator="\r\n")

    def start_exporting(self) -> None:
        self.writer.writerow([c.name for c in REPORT_COLUMNS])

    def export_item(self, item) -> None:
        row, _long, warnings, _checks = flatten(ItemAdapter(item).asdict())
        identify([row], warnings)
        add_indicators(row)
        row["warnings"] = len(warnings)
        for name in _CROSS:
            row[name] = None
        self.writer.writerow([csv_cell(row.get(c.name), c.dtype) for c in REPORT_COLUMNS])

    def finish_exporting(self) -> None:
        self.stream.flush()
        self.stream.detach()      # the feed storage closes the file itself
